"""Unit tests that replay cassettes recorded against the sandbox: no server, frozen time.

Re-record with a sandbox started on the fixed port below:

    .venv/bin/pytest tests/tap/test_replay.py --record-mode=rewrite

Cassettes keep no Authorization header, and search requests are matched on their
bodies, so a change to the search query shows up as a replay failure.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import jsonschema
import pytest
from freezegun import freeze_time

from intercom_sandbox import SCALES, Sandbox, SandboxConfig
from tap_intercom.tap import TapIntercom

PORT = 18765
FROZEN_AT = "2026-11-20T12:00:00Z"
CASSETTES = Path(__file__).parent / "cassettes"
STREAMS = ["admins", "tags", "contacts", "contact_tags", "conversations", "conversation_parts", "companies",
           "company_segments", "tickets", "ticket_parts", "deleted_conversations", "macros"]


@pytest.fixture(scope="module")
def vcr_config():
    return {
        "filter_headers": [("authorization", "REDACTED")],
        "match_on": ["method", "scheme", "host", "port", "path", "query", "body"],
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir():
    return str(CASSETTES)


@pytest.fixture
def recording_sandbox(record_mode):
    """A sandbox on the fixed port, only while recording."""
    if record_mode == "none":
        yield None
        return
    scale = SCALES["small"].with_counts(contacts=40, companies=20, conversations=6, tickets=8,
                                                long_conversations=0)
    with Sandbox(SandboxConfig(scale=scale, seed=11), port=PORT) as sandbox:
        yield sandbox


def sync_in_process(streams: list[str]) -> tuple[list[dict], str]:
    tap = TapIntercom(config={"access_token": "sandbox-token", "api_url": f"http://127.0.0.1:{PORT}",
                              "page_size": 15, "max_concurrency": 1},  # vcrpy is not thread-safe
                        validate_config=True)
    for name, stream in tap.streams.items():
        stream.selected = name in streams
    out, err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO()  # the writer writes bytes
    with redirect_stdout(out), redirect_stderr(err):
        tap.sync_all()
    out.flush()
    lines = out.buffer.getvalue().decode().splitlines()
    return [json.loads(line) for line in lines if line.strip()], err.getvalue()


@pytest.mark.vcr
@freeze_time(FROZEN_AT)
def test_replayed_sync_shapes_every_record(recording_sandbox):
    messages, _ = sync_in_process(STREAMS)
    schemas = {m["stream"]: m["schema"] for m in messages if m["type"] == "SCHEMA"}
    records: dict[str, list[dict]] = {}
    for message in messages:
        if message["type"] == "RECORD":
            records.setdefault(message["stream"], []).append(message["record"])
    assert set(records) == set(STREAMS)
    assert len(records["contacts"]) == 40
    assert len(records["companies"]) == 20
    assert len(records["conversations"]) == 6
    for stream, rows in records.items():
        validator = jsonschema.Draft7Validator(schemas[stream], format_checker=jsonschema.FormatChecker())
        for row in rows:
            errors = list(validator.iter_errors(row))
            assert errors == [], (stream, errors[0].message)
    contact = records["contacts"][0]
    assert contact["updated_at"].endswith("Z")
    assert isinstance(contact["custom_attributes"], dict)
    assert {p["conversation_id"] for p in records["conversation_parts"]} == {c["id"] for c in records["conversations"]}
    assert {p["ticket_id"] for p in records["ticket_parts"]} <= {t["id"] for t in records["tickets"]}
    assert {t["contact_id"] for t in records["contact_tags"]} <= {c["id"] for c in records["contacts"]}
    stamps = [c["updated_at"] for c in records["contacts"]]
    assert stamps == sorted(stamps)
    state = [m for m in messages if m["type"] == "STATE"][-1]["value"]
    assert state["bookmarks"]["contacts"]["replication_key_value"] == stamps[-1]


def test_cassette_holds_no_credentials():
    text = (CASSETTES / "test_replayed_sync_shapes_every_record.yaml").read_text()
    assert "sandbox-token" not in text
    assert "Bearer" not in text
    assert "REDACTED" in text
