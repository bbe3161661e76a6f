#!/usr/bin/env bash
# The main job, from a fresh machine: start a local Intercom (the sandbox), run
# `meltano run tap-intercom target-duckdb` against it into output/intercom.duckdb, check that
# every record the tap sent is a row in DuckDB, and answer a support lead's questions in SQL.
#
#   bash scripts/demo.sh                  # from scratch (--full-refresh)
#   bash scripts/demo.sh --incremental    # change the local Intercom, resume from Meltano's state
set -euo pipefail
cd "$(dirname "$0")/.."
mode=full
case "${1:-}" in
  "") ;;
  --incremental) mode=incremental ;;
  *) echo "usage: bash scripts/demo.sh [--incremental]" >&2; exit 2 ;;
esac
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
if [ "$mode" = incremental ] && [ ! -f output/intercom.duckdb ]; then
  echo "demo: error: no output/intercom.duckdb to resume; run bash scripts/demo.sh first" >&2
  exit 1
fi

log=$(mktemp)
# Export jobs take minutes at Intercom; here a fraction of a second, polled as often.
export TAP_INTERCOM_EXPORT_POLL_SECONDS=0.1
intercom-sandbox --scale "${SANDBOX_SCALE:-small}" --port 0 --token sandbox-token --export-job-seconds 0.2 >"$log" 2>&1 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true; rm -f "$log" "$log.install" "$log.run"' EXIT
for _ in $(seq 100); do grep -q '^URL ' "$log" && break; sleep 0.1; done
INTERCOM_SANDBOX_URL=$(sed -n 's/^URL //p' "$log")
export INTERCOM_SANDBOX_URL
echo "local Intercom at $INTERCOM_SANDBOX_URL"

echo "installing Meltano plugins (first run only takes a minute)…"
meltano install >"$log.install" 2>&1 || { cat "$log.install"; exit 1; }
mkdir -p output
started=$(date +%s)
if [ "$mode" = full ]; then
  rm -f output/intercom.duckdb
  # --full-refresh: every demo run starts from scratch, whatever state an earlier run left.
  meltano --environment=sandbox run tap-intercom target-duckdb --full-refresh >"$log.run" 2>&1 \
    || { tail -40 "$log.run"; echo "demo: error: the pipeline failed (above)" >&2; exit 1; }
else
  python scripts/demo_changes.py "$INTERCOM_SANDBOX_URL"
  meltano --environment=sandbox run tap-intercom target-duckdb >"$log.run" 2>&1 \
    || { tail -40 "$log.run"; echo "demo: error: the pipeline failed (above)" >&2; exit 1; }
fi
echo "synced in $(( $(date +%s) - started ))s into output/intercom.duckdb"
echo
flags=(); [ "$mode" = incremental ] && flags=(--incremental)
python scripts/demo_report.py --log "$log.run" --db output/intercom.duckdb "${flags[@]}"
echo
echo "query it yourself: duckdb output/intercom.duckdb   (or: .venv/bin/python -c \"import duckdb; …\")"
