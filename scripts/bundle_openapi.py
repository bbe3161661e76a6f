"""Copy Intercom's official OpenAPI description into the sandbox package as compact JSON.

The sandbox builds its records and answers from this file at run time, so it must
ship inside the package; JSON loads about twenty times faster than the YAML original.
Re-run for a new API version:

    python scripts/bundle_openapi.py [VERSION] [SHARED_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    version = sys.argv[1] if len(sys.argv) > 1 else "2.16"
    shared = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT.parent / "shared"
    source = shared / "intercom-openapi" / version / "api.intercom.io.yaml"
    spec = yaml.load(source.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    target = ROOT / "intercom_sandbox" / "openapi" / f"api-{version}.json"
    target.write_text(json.dumps(spec, separators=(",", ":"), sort_keys=True, default=str))
    print(f"wrote {target.relative_to(ROOT)} ({target.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
