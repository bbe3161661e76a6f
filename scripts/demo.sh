#!/usr/bin/env bash
# The main job, from a fresh machine: start a local Intercom (the sandbox), run
# `meltano run tap-intercom target-jsonl` against it, and print the records per stream.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

log=$(mktemp)
# Export jobs take minutes at Intercom; here a fraction of a second, polled as often.
export TAP_INTERCOM_EXPORT_POLL_SECONDS=0.1
intercom-sandbox --scale "${SANDBOX_SCALE:-small}" --port 0 --token sandbox-token --export-job-seconds 0.2 >"$log" 2>&1 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true; rm -f "$log" "$log.install"' EXIT
for _ in $(seq 100); do grep -q '^URL ' "$log" && break; sleep 0.1; done
INTERCOM_SANDBOX_URL=$(sed -n 's/^URL //p' "$log")
export INTERCOM_SANDBOX_URL
echo "local Intercom at $INTERCOM_SANDBOX_URL"

echo "installing Meltano plugins (first run only takes a minute)…"
meltano install >"$log.install" 2>&1 || { cat "$log.install"; exit 1; }
rm -rf output && mkdir -p output
# --full-refresh: every demo run starts from scratch, whatever state an earlier run left.
started=$(date +%s)
meltano --log-level=warning --environment=sandbox run tap-intercom target-jsonl --full-refresh
echo "synced in $(( $(date +%s) - started ))s"

echo
echo "records per stream (output/*.jsonl):"
for f in output/*.jsonl; do printf '  %-26s %7d\n' "$(basename "$f" .jsonl)" "$(wc -l <"$f")"; done
