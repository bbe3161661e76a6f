"""Write catalog.json: the tap's discovery of the sandbox at its default seed.

    .venv/bin/python scripts/refresh_catalog.py

Discovery reads the workspace's custom attribute definitions, so the catalog depends on the
workspace; the sandbox's default one makes it reproducible (tests/tap/test_discovery.py holds
catalog.json equal to this output).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from intercom_sandbox import Sandbox  # noqa: E402


def discover_default_sandbox() -> str:
    sandbox = Sandbox().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            config = Path(folder) / "config.json"
            config.write_text(json.dumps({"access_token": sandbox.config.token, "api_url": sandbox.url}))
            result = subprocess.run([sys.executable, "-m", "tap_intercom", "--config", str(config), "--discover"],
                                    capture_output=True, text=True, check=False, cwd=ROOT)
    finally:
        sandbox.stop()
    if result.returncode:
        raise SystemExit(result.stderr.strip().splitlines()[-1])
    return result.stdout


if __name__ == "__main__":
    (ROOT / "catalog.json").write_text(discover_default_sandbox())
    print("wrote catalog.json")
