#!/usr/bin/env bash
# Create .venv-pyairbyte with PyAirbyte (for the end-to-end Airbyte test); idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
requirements=tests/e2e/pyairbyte-requirements.txt
stamp=.venv-pyairbyte/.installed-$(sha1sum <"$requirements" | cut -c1-12)
if [ ! -f "$stamp" ]; then
  rm -rf .venv-pyairbyte
  "$PYTHON" -m venv .venv-pyairbyte
  .venv-pyairbyte/bin/python -m pip install --quiet --upgrade pip
  .venv-pyairbyte/bin/python -m pip install --quiet -r "$requirements"
  touch "$stamp"
fi
