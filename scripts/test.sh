#!/usr/bin/env bash
# The whole test suite: set-up on a fresh machine included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m pytest "$@"
