#!/usr/bin/env bash
# The main job, from a fresh machine: start a local Intercom (the sandbox), run
# `meltano run tap-intercom target-jsonl` against it, and print the records per stream.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

log=$(mktemp)
intercom-sandbox --scale "${SANDBOX_SCALE:-small}" --port 0 --token sandbox-token >"$log" 2>&1 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q '^URL ' "$log" && break; sleep 0.1; done
INTERCOM_SANDBOX_URL=$(sed -n 's/^URL //p' "$log")
export INTERCOM_SANDBOX_URL
echo "local Intercom at $INTERCOM_SANDBOX_URL"

meltano install >/dev/null
rm -rf output && mkdir -p output
meltano --environment=sandbox run tap-intercom target-jsonl

echo
echo "records per stream (output/*.jsonl):"
for f in output/*.jsonl; do printf '  %-26s %7d\n' "$(basename "$f" .jsonl)" "$(wc -l <"$f")"; done
