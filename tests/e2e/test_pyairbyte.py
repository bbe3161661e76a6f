"""End to end through PyAirbyte: `get_source(..., local_executable=tap-intercom-airbyte)` reads every
stream of the sandbox into PyAirbyte's default DuckDB cache, twice. The first read loads each
stream's ground truth; the second, after changes in the sandbox, is incremental: it brings the
changes and the records sharing each bookmark, no more, and leaves every table equal to the
new ground truth.

PyAirbyte lives in its own virtualenv (scripts/pyairbyte-venv.sh) and runs the connector as an
external program, as it runs any connector; tests/e2e/pyairbyte_read.py is its side.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ..airbyte.conftest import run_source
from ..tap.conftest import tap_config

ROOT = Path(__file__).resolve().parents[2]
CONNECTOR = Path(sys.executable).parent / "tap-intercom-airbyte"
DATETIME = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")
# incremental top-level streams → their cursor
CURSORS = {"contacts": "updated_at", "conversations": "updated_at", "tickets": "updated_at", "macros": "updated_at",
           "activity_logs": "created_at", "deleted_conversations": "deleted_at"}
CHILDREN = {"contact_tags": "contacts", "contact_companies": "contacts", "contact_segments": "contacts",
            "contact_subscriptions": "contacts", "contact_notes": "contacts", "data_events": "contacts",
            "conversation_parts": "conversations", "conversation_handling_events": "conversations",
            "ticket_parts": "tickets"}
PARENT_KEY = {"contacts": "contact_id", "conversations": "conversation_id", "tickets": "ticket_id"}
EXPORTS = {"content_data_export", "reporting_data_export"}


@pytest.fixture(scope="module")
def pyairbyte() -> Path:
    subprocess.run(["bash", str(ROOT / "scripts" / "pyairbyte-venv.sh")], check=True, timeout=1800)
    return ROOT / ".venv-pyairbyte" / "bin" / "python"


def read_with_pyairbyte(python: Path, workdir: Path, config: dict, name: str) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.json").write_text(json.dumps(config))
    env = {**os.environ, "AIRBYTE_OFFLINE_MODE": "1", "DO_NOT_TRACK": "1",
           "AIRBYTE_CACHE_ROOT": str(workdir / "cache"), "TAP_INTERCOM_EXPORT_POLL_SECONDS": "0.05"}
    done = subprocess.run([str(python), str(ROOT / "tests" / "e2e" / "pyairbyte_read.py"), str(CONNECTOR),
                           "config.json", f"{name}.json"], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads((workdir / f"{name}.json").read_text())


def norm(value) -> str:
    """One spelling for a value read back from DuckDB and the same value in the ground truth."""
    text = str(value)
    if DATETIME.match(text):
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S")
    return text


def keys_of(rows: list[dict], keys: list[str]) -> set[tuple]:
    return {tuple(norm(r[k]) for k in keys) for r in rows}


def truth_of(sandbox, stream: str, keys: list[str]) -> set[tuple]:
    if stream == "reporting_data_export":
        return {("conversation", norm(r["conversation_id"]))
                for r in sandbox.world.ground_truth("reporting_data_export:conversation")}
    return keys_of(sandbox.world.ground_truth(stream), keys)


def table_keys(table: list[dict], stream: str, keys: list[str]) -> set[tuple]:
    if stream == "reporting_data_export":  # rows are numbered per job: compared by the conversation they describe
        return {(r["dataset_id"], norm(r["data"]["conversation.conversation_id"])) for r in table}
    return keys_of(table, keys)


def delivered(read: dict, stream: str) -> list[dict]:
    """The rows this read wrote (a merge replaces a row, so its extraction time is this read's)."""
    started = dt.datetime.fromtimestamp(read["started"], dt.timezone.utc).replace(tzinfo=None)
    return [r for r in read["tables"][stream] if dt.datetime.fromisoformat(r["_airbyte_extracted_at"]) >= started]


def change(world) -> dict[str, set[str]]:
    now = world.clock.now()

    def oldest(kind: str, n: int = 1) -> list[dict]:
        return sorted(world.ground_truth(kind), key=lambda r: r["updated_at"])[:n]

    contacts = oldest("contacts", 2)
    for contact in contacts:
        world.update("contacts", contact["id"], {"name": "Changed"}, at=now)
    new_contact = world.create("contacts", at=now)
    conversation = oldest("conversations")[0]
    world.add_parts(conversation["id"], 2, at=now)
    ticket = oldest("tickets")[0]
    world.update("tickets", ticket["id"], {"ticket_attributes": {"_default_title_": "Changed"}}, at=now)
    macro = oldest("macros")[0]
    world.update("macros", macro["id"], {"name": "Changed macro"}, at=now)
    log = world.create("activity_logs", at=now)
    company = oldest("companies")[0]
    world.update("companies", company["id"], {"name": "Changed company"}, at=now)
    return {"contacts": {c["id"] for c in contacts} | {new_contact["id"]}, "conversations": {conversation["id"]},
            "tickets": {ticket["id"]}, "macros": {str(macro["id"])}, "activity_logs": {log["id"]},
            "deleted_conversations": set()}


@pytest.mark.slow
def test_pyairbyte_reads_every_stream_then_only_the_changes(tmp_path, make_sandbox, pyairbyte):
    sandbox = make_sandbox(export_job_seconds=0.05)
    config = tap_config(sandbox, custom_object_types=["Order", "Delivery"], reporting_datasets=["conversation"],
                        export_window_days=365)
    catalog = run_source(tmp_path / "discover", "discover", config).of_type("CATALOG")[0]["catalog"]
    keys = {s["name"]: [k[0] for k in s["source_defined_primary_key"]] for s in catalog["streams"]}

    first = read_with_pyairbyte(pyairbyte, tmp_path / "pyairbyte", config, "first")
    assert set(first["tables"]) == set(keys)
    for stream, stream_keys in keys.items():
        table = first["tables"][stream]
        assert table, f"{stream}: nothing cached"
        assert table_keys(table, stream, stream_keys) == truth_of(sandbox, stream, stream_keys), stream
        assert len(table) == len(table_keys(table, stream, stream_keys)), f"{stream}: a row twice"

    changed = change(sandbox.world)
    second = read_with_pyairbyte(pyairbyte, tmp_path / "pyairbyte", config, "second")
    assert second["sync_modes"]["contacts"] == "incremental"
    for stream, stream_keys in keys.items():  # the cache holds the new ground truth
        table = second["tables"][stream]
        assert table_keys(table, stream, stream_keys) == truth_of(sandbox, stream, stream_keys), stream

    # incremental streams: the changes and the records sharing the bookmark, nothing else
    brought = {}
    for stream, cursor in CURSORS.items():
        bookmark = max(norm(r[cursor]) for r in first["tables"][stream])
        boundary = {str(r["id"]) for r in first["tables"][stream] if norm(r[cursor]) == bookmark}
        brought[stream] = {str(r["id"]) for r in delivered(second, stream)}
        assert brought[stream] == changed[stream] | boundary, stream
    # their children: those of the parents brought again, all of them
    for stream, parent in CHILDREN.items():
        parent_key = PARENT_KEY[parent]
        expected = {k for k in truth_of(sandbox, stream, keys[stream])
                    if k[keys[stream].index(parent_key)] in brought[parent]} if parent_key in keys[stream] else None
        rows = delivered(second, stream)
        assert {r[parent_key] for r in rows} <= brought[parent], stream
        if expected is not None:
            assert keys_of(rows, keys[stream]) == expected, stream
    parts = [r for r in delivered(second, "conversation_parts")
             if r["conversation_id"] in changed["conversations"]]
    assert len(parts) == sum(1 for p in sandbox.world.ground_truth("conversation_parts")
                             if p["conversation_id"] in changed["conversations"])
    # exports: only the last window again
    for stream in EXPORTS:
        last_window = max(norm(r["export_window_start"]) for r in first["tables"][stream])
        assert {norm(r["export_window_start"]) for r in delivered(second, stream)} <= {last_window}, stream
    # everything else is full refresh: read again whole
    for stream in set(keys) - set(CURSORS) - set(CHILDREN) - EXPORTS:
        assert len(delivered(second, stream)) == len(second["tables"][stream]), stream
    assert sandbox.config.token not in json.dumps(second)
