"""Discovery needs no network, and catalog.json is exactly its output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def discover() -> dict:
    result = subprocess.run([sys.executable, "-m", "tap_intercom", "--discover"], capture_output=True, text=True,
                            timeout=120, env={"PATH": "", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_catalog_json_is_the_discovery_output():
    committed = json.loads((ROOT / "catalog.json").read_text())
    assert discover() == committed, "catalog.json is stale: run `tap-intercom --discover > catalog.json`"


def test_every_stream_declares_keys_and_typed_timestamps():
    catalog = discover()
    names = {s["tap_stream_id"] for s in catalog["streams"]}
    assert {"admins", "teams", "tags", "segments", "company_attributes", "contact_attributes",
            "conversation_attributes", "companies", "company_segments", "contacts", "conversations",
            "conversation_parts"} <= names
    for stream in catalog["streams"]:
        top = next(m for m in stream["metadata"] if m["breadcrumb"] == [])["metadata"]
        assert top.get("table-key-properties"), stream["tap_stream_id"]
        props = stream["schema"]["properties"]
        for key in top["table-key-properties"]:
            expected = "integer" if key == "row_number" else "string"  # a row's place in an export file
            assert props[key]["type"] == expected, (stream["tap_stream_id"], key)
        if "updated_at" in props and stream["tap_stream_id"] != "company_attributes":
            assert props["updated_at"].get("format") == "date-time"
    incremental = {s["tap_stream_id"]: next(m for m in s["metadata"] if m["breadcrumb"] == [])["metadata"]
                   for s in catalog["streams"]}
    assert incremental["contacts"]["valid-replication-keys"] == ["updated_at"]
    assert incremental["conversations"]["valid-replication-keys"] == ["updated_at"]
