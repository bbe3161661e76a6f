"""`tap-intercom-airbyte` speaks the Airbyte protocol: spec, check, discover and read, every line a
valid AirbyteMessage (run_source validates each one), the records those of the Singer tap."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import jsonschema

from intercom_sandbox.controls import FaultRule

from ..tap.conftest import discovered_catalog, run_tap, select, tap_config
from .conftest import configured_catalog, run_source

FAMILY = {"contacts", "contact_tags", "conversations", "conversation_parts", "companies", "company_segments",
          "admins", "tickets", "ticket_parts", "macros"}


def discover(tmp_path, config) -> dict:
    run = run_source(tmp_path / "discover", "discover", config)
    assert run.returncode == 0, run.stderr
    (catalog,) = run.of_type("CATALOG")
    return catalog["catalog"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_spec_is_the_tap_settings_with_the_token_secret(tmp_path):
    from tap_intercom.tap import TapIntercom

    run = run_source(tmp_path, "spec")
    assert run.returncode == 0, run.stderr
    (message,) = run.messages
    spec = message["spec"]["connectionSpecification"]
    jsonschema.Draft7Validator.check_schema(spec)  # what PyAirbyte and the platform check
    # the tap's own settings (tap.py), not the SDK's stream maps, flattening, batch and faker ones
    assert set(spec["properties"]) == {
        "access_token", "start_date", "end_date", "region", "api_url", "api_version", "lookback_window_days",
        "page_size", "max_concurrency", "request_timeout", "user_agent", "custom_object_types",
        "reporting_datasets", "export_window_days", "export_job_timeout_minutes", "emit_activate_version_messages",
        "rate_limit_share", "fail_fast"}
    assert {p: spec["properties"][p]["default"] for p in ("region", "max_concurrency")} == {
        p: TapIntercom.config_jsonschema["properties"][p]["default"] for p in ("region", "max_concurrency")}
    assert spec["required"] == ["access_token"]
    assert spec["properties"]["access_token"]["airbyte_secret"] is True
    assert not [name for name, prop in spec["properties"].items()
                if name != "access_token" and prop.get("airbyte_secret")]
    assert message["spec"]["supportsIncremental"] is True


def test_check_answers_succeeded_with_a_working_token(tmp_path, intercom_sandbox):
    run = run_source(tmp_path, "check", tap_config(intercom_sandbox))
    assert run.returncode == 0, run.stderr
    (status,) = [m["connectionStatus"] for m in run.of_type("CONNECTION_STATUS")]
    assert status["status"] == "SUCCEEDED"
    assert "Sandbox Workspace" in status["message"]
    assert intercom_sandbox.stats.snapshot()["by_route"].get("/me") == 1


def test_check_answers_failed_on_a_bad_token_an_unreachable_host_and_bad_settings(tmp_path, intercom_sandbox):
    good = tap_config(intercom_sandbox)
    cases = {
        "bad token": ({**good, "access_token": "revoked-token-789"}, "401: access token invalid or revoked"),
        "unreachable": ({**good, "api_url": f"http://127.0.0.1:{closed_port()}"}, "Connection refused"),
        "no token": ({"api_url": good["api_url"]}, "access_token setting is missing"),
        "bad page size": ({**good, "page_size": 500}, "page_size must be an integer from 1 to 150"),
        "wrong type": ({**good, "max_concurrency": "many"}, "max_concurrency must be a whole number"),
        "not json": ("{not json", "is not valid JSON"),
    }
    for case, (config, expected) in cases.items():
        run = run_source(tmp_path / case.replace(" ", "_"), "check", config)
        (status,) = [m["connectionStatus"] for m in run.of_type("CONNECTION_STATUS")]
        assert status["status"] == "FAILED", case
        assert expected in status["message"], (case, status["message"])
        assert "\n" not in status["message"], case
        assert run.returncode == 1, case
        assert "Traceback" not in run.stderr, case
        assert "revoked-token-789" not in json.dumps(run.messages) + run.stderr


def test_discover_lists_the_tap_streams_with_keys_cursors_and_sync_modes(tmp_path, make_sandbox):
    sandbox = make_sandbox()
    config = tap_config(sandbox, custom_object_types=["Order"])
    catalog = discover(tmp_path, config)
    singer = {e["tap_stream_id"]: e for e in discovered_catalog(tmp_path, config)["streams"]}
    streams = {s["name"]: s for s in catalog["streams"]}
    assert set(streams) == set(singer) and "custom_object_order" in streams
    for name, stream in streams.items():
        top = next(m["metadata"] for m in singer[name]["metadata"] if m["breadcrumb"] == [])
        assert stream["json_schema"] == singer[name]["schema"], name
        assert stream["source_defined_primary_key"] == [[k] for k in top["table-key-properties"]], name
        if top.get("valid-replication-keys"):
            assert stream["supported_sync_modes"] == ["full_refresh", "incremental"], name
            assert stream["default_cursor_field"] == top["valid-replication-keys"], name
            assert stream["source_defined_cursor"] is True, name
    # children of an incremental parent are incremental through it; of a full-table parent, not
    assert "incremental" in streams["conversation_parts"]["supported_sync_modes"]
    assert "incremental" in streams["contact_tags"]["supported_sync_modes"]
    assert streams["company_segments"]["supported_sync_modes"] == ["full_refresh"]
    assert streams["admins"]["supported_sync_modes"] == ["full_refresh"]


def test_read_sends_the_singer_tap_records_with_statuses_and_per_stream_state(tmp_path, intercom_sandbox):
    config = tap_config(intercom_sandbox)
    catalog = configured_catalog(discover(tmp_path, config), {name: "incremental" if name not in {
        "admins", "companies", "company_segments"} else "full_refresh" for name in FAMILY})
    started = time.time() * 1000
    run = run_source(tmp_path / "read", "read", config, catalog=catalog)
    assert run.returncode == 0, run.stderr[-3000:]
    singer = run_tap(tmp_path / "singer", config, catalog=select(discovered_catalog(tmp_path, config), FAMILY))
    assert set(run.records) == set(singer.records) == FAMILY
    for stream in FAMILY:
        got = sorted(json.dumps(r, sort_keys=True) for r in run.records[stream])
        assert got == sorted(json.dumps(r, sort_keys=True) for r in singer.records[stream]), stream
    # emitted_at: milliseconds of this run
    stamps = [m["record"]["emitted_at"] for m in run.of_type("RECORD")]
    assert all(isinstance(s, int) and started - 1000 <= s <= time.time() * 1000 for s in stamps)
    # each stream: STARTED, RUNNING before its first record, COMPLETE after its last record and state
    positions: dict[tuple[str, str], int] = {}
    for i, message in enumerate(run.messages):
        if message["type"] == "TRACE" and message["trace"]["type"] == "STREAM_STATUS":
            status = message["trace"]["stream_status"]
            key = (status["stream_descriptor"]["name"], status["status"])
            assert key not in positions, f"{key} sent twice"
            positions[key] = i
    for stream in FAMILY:
        indexes = [i for i, m in enumerate(run.messages) if m["type"] == "RECORD" and m["record"]["stream"] == stream]
        states = [i for i, m in enumerate(run.messages) if m["type"] == "STATE"
                  and m["state"]["stream"]["stream_descriptor"]["name"] == stream]
        assert positions[(stream, "STARTED")] < positions[(stream, "RUNNING")] < indexes[0], stream
        assert indexes[-1] < states[-1] < positions[(stream, "COMPLETE")], stream
    # state: per stream, never GLOBAL; a child carries its parent's bookmark
    assert {s["type"] for s in run.states} == {"STREAM"}
    newest = {s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"] for s in run.last_states()}
    assert set(newest) == FAMILY
    assert newest["conversation_parts"]["bookmarks"]["conversations"] == newest["conversations"]["bookmarks"][
        "conversations"]
    assert newest["contacts"]["bookmarks"]["contacts"]["replication_key_value"] == max(
        r["updated_at"] for r in run.records["contacts"])
    # logs come as LOG messages; nothing else on stderr; the token nowhere
    assert any("Added 'conversation_parts' as child stream" in m["log"]["message"] for m in run.of_type("LOG"))
    assert run.stderr == ""
    assert intercom_sandbox.config.token not in json.dumps(run.messages)


def change_world(world) -> dict[str, set[str]]:
    now = world.clock.now()
    contacts = sorted(world.ground_truth("contacts"), key=lambda c: c["updated_at"])[:2]
    conversation = sorted(world.ground_truth("conversations"), key=lambda c: c["updated_at"])[0]
    for contact in contacts:
        world.update("contacts", contact["id"], {"name": "Changed"}, at=now)
    parts_before = sum(1 for p in world.ground_truth("conversation_parts")
                       if p["conversation_id"] == conversation["id"])
    world.add_parts(conversation["id"], 2, at=now)
    created = world.create("contacts", at=now)
    return {"contacts": {c["id"] for c in contacts} | {created["id"]}, "conversations": {conversation["id"]},
            "parts": {conversation["id"]: parts_before + 2}}


def at_bookmark(records: list[dict], field: str, value) -> set[str]:
    return {str(r["id"]) for r in records if r[field] == value}


def test_second_read_from_the_saved_state_brings_the_changes_and_the_boundary(tmp_path, intercom_sandbox):
    config = tap_config(intercom_sandbox)
    discovered = discover(tmp_path, config)
    catalog = configured_catalog(discovered, {"contacts": "incremental", "conversations": "incremental",
                                              "conversation_parts": "incremental"})
    first = run_source(tmp_path / "first", "read", config, catalog=catalog)
    assert first.returncode == 0, first.stderr[-3000:]
    changed = change_world(intercom_sandbox.world)
    second = run_source(tmp_path / "second", "read", config, catalog=catalog, state=first.last_states())
    assert second.returncode == 0, second.stderr[-3000:]
    for stream in ("contacts", "conversations"):
        bookmark = max(r["updated_at"] for r in first.records[stream])
        expected = changed[stream] | at_bookmark(first.records[stream], "updated_at", bookmark)
        assert {r["id"] for r in second.records[stream]} == expected, stream
    again = {r["id"] for r in second.records["conversations"]}
    truth = {p["id"] for p in intercom_sandbox.world.ground_truth("conversation_parts")
             if p["conversation_id"] in again}
    assert {p["id"] for p in second.records["conversation_parts"]} == truth
    for conversation_id, count in changed["parts"].items():  # the two new replies among them
        assert sum(1 for p in second.records["conversation_parts"] if p["conversation_id"] == conversation_id) == count


def test_a_child_read_alone_resumes_from_its_parent_bookmark_and_full_refresh_rereads_all(tmp_path,
                                                                                       intercom_sandbox):
    config = tap_config(intercom_sandbox)
    discovered = discover(tmp_path, config)
    parts_only = configured_catalog(discovered, {"conversation_parts": "incremental"})
    first = run_source(tmp_path / "first", "read", config, catalog=parts_only)
    assert first.returncode == 0, first.stderr[-3000:]
    all_parts = {p["id"] for p in intercom_sandbox.world.ground_truth("conversation_parts")}
    assert {p["id"] for p in first.records["conversation_parts"]} == all_parts
    assert set(first.records) == {"conversation_parts"}  # the parent is read, not sent
    (state,) = first.last_states()
    assert set(state["stream"]["stream_state"]["bookmarks"]) == {"conversation_parts", "conversations"}
    changed = change_world(intercom_sandbox.world)
    second = run_source(tmp_path / "second", "read", config, catalog=parts_only, state=first.last_states())
    got = {p["conversation_id"] for p in second.records["conversation_parts"]}
    assert changed["conversations"] <= got and len(got) < len(intercom_sandbox.world.ground_truth("conversations"))
    # the same state with the child in full refresh: every part again (the parent's bookmark is not used)
    full = configured_catalog(discovered, {"conversation_parts": "full_refresh"})
    third = run_source(tmp_path / "third", "read", config, catalog=full, state=second.last_states())
    assert {p["id"] for p in third.records["conversation_parts"]} == {
        p["id"] for p in intercom_sandbox.world.ground_truth("conversation_parts")}


def test_columns_left_out_of_the_configured_schema_are_not_sent(tmp_path, intercom_sandbox):
    config = tap_config(intercom_sandbox)
    catalog = configured_catalog(discover(tmp_path, config), {"contacts": "full_refresh"},
                                 columns={"contacts": ["id", "email", "updated_at"]})
    run = run_source(tmp_path / "read", "read", config, catalog=catalog)
    assert run.returncode == 0, run.stderr[-3000:]
    assert {frozenset(r) for r in run.records["contacts"]} == {frozenset({"id", "email", "updated_at"})}


def test_read_with_a_bad_token_is_a_config_error(tmp_path, intercom_sandbox):
    good = tap_config(intercom_sandbox)
    catalog = configured_catalog(discover(tmp_path, good), {"admins": "full_refresh"})
    run = run_source(tmp_path / "read", "read", {**good, "access_token": "revoked-token-789"}, catalog=catalog)
    assert run.returncode == 1
    (error,) = run.errors()
    assert error["failure_type"] == "config_error"
    assert error["message"] == "Intercom answered 401: access token invalid or revoked"
    # the token is refused when the workspace's attribute definitions are read, before any stream starts
    assert all(status != "COMPLETE" for _, status in run.statuses()) and not run.records
    assert not run.of_type("RECORD")
    assert run.stderr.strip() == "tap-intercom-airbyte: error: Intercom answered 401: access token invalid or revoked"
    assert "revoked-token-789" not in json.dumps(run.messages) + run.stderr


def test_read_with_invalid_settings_is_a_config_error_before_any_request(tmp_path, intercom_sandbox):
    good = tap_config(intercom_sandbox)
    catalog = configured_catalog(discover(tmp_path, good), {"admins": "full_refresh"})
    before = intercom_sandbox.stats.snapshot()["requests"]
    for case, config in {"bad date": {**good, "start_date": "yesterday"},
                         "bad region": {**good, "region": "mars", "api_url": None}}.items():
        run = run_source(tmp_path / case.replace(" ", "_"), "read", {k: v for k, v in config.items() if v},
                         catalog=catalog)
        assert run.returncode == 1, case
        (error,) = run.errors()
        assert error["failure_type"] == "config_error", case
        assert not run.of_type("RECORD") and not run.statuses(), case
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr, case
    assert intercom_sandbox.stats.snapshot()["requests"] == before
    unknown = {"streams": [{**catalog["streams"][0], "stream": {**catalog["streams"][0]["stream"], "name": "nope"}}]}
    run = run_source(tmp_path / "unknown", "read", good, catalog=unknown)
    assert run.returncode == 1 and "streams this source does not have: nope" in run.errors()[0]["message"]


def test_a_server_that_keeps_failing_is_a_transient_error_and_a_forbidden_stream_incomplete(tmp_path,
                                                                                           make_sandbox):
    sandbox = make_sandbox()
    config = tap_config(sandbox)
    catalog = configured_catalog(discover(tmp_path, config), {"admins": "full_refresh", "teams": "full_refresh",
                                                              "tags": "full_refresh"})
    sandbox.forbidden_paths = {"/tags"}  # streams sync in name order: admins, tags, teams
    sandbox.faults.configure(rules=[FaultRule("5xx", count=1000, path="/teams")])
    run = run_source(tmp_path / "read", "read", config, catalog=catalog,
                     env={"TAP_INTERCOM_BACKOFF_BASE_SECONDS": "0.01"})
    assert run.returncode == 1
    (error,) = run.errors()
    assert error["failure_type"] == "transient_error" and "giving up after" in error["message"]
    statuses = dict(run.statuses())  # the last status of each stream
    assert statuses == {"admins": "COMPLETE", "teams": "INCOMPLETE", "tags": "INCOMPLETE"}
    assert any(m["log"]["level"] == "WARN" and "Skipping stream 'tags'" in m["log"]["message"]
               for m in run.of_type("LOG"))
    assert run.records["admins"]


def test_saved_state_that_is_not_per_stream_is_refused(tmp_path, intercom_sandbox):
    config = tap_config(intercom_sandbox)
    catalog = configured_catalog(discover(tmp_path, config), {"admins": "full_refresh"})
    run = run_source(tmp_path / "read", "read", config, catalog=catalog,
                     state=[{"type": "GLOBAL", "global": {"shared_state": {}, "stream_states": []}}])
    assert run.returncode == 1
    assert "per-stream (type STREAM)" in run.errors()[0]["message"]


def test_without_the_airbyte_extra_the_command_says_what_to_install():
    code = ("import sys; sys.modules['airbyte_protocol'] = None; sys.argv = ['x', 'spec']; "
            "from tap_intercom.airbyte import main; sys.exit(main())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "pip install 'tap-intercom[airbyte]'" in done.stderr and not done.stdout


def test_the_console_script_is_installed():
    done = subprocess.run([str(Path(sys.executable).parent / "tap-intercom-airbyte"), "spec"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and json.loads(done.stdout)["type"] == "SPEC"


def test_a_field_that_appears_mid_read_is_kept_in_the_records(tmp_path, make_sandbox):
    sandbox = make_sandbox(contacts=60)
    config = tap_config(sandbox, page_size=20)
    catalog = configured_catalog(discover(tmp_path, config), {"contacts": "incremental"})
    drifted = sandbox.drift(kinds=("contacts",))["contacts"]
    run = run_source(tmp_path / "read", "read", config, catalog=catalog)
    assert run.returncode == 0, run.stderr[-2000:]
    truth = {r["id"]: r for r in sandbox.world.ground_truth("contacts")}
    records = run.records["contacts"]
    assert len(records) == len(truth)
    assert {r["id"] for r in records if "x_drift_score" in r} == set(drifted)
    assert all(r["x_drift_score"] == truth[r["id"]]["x_drift_score"] for r in records if "x_drift_score" in r)
    warnings = [m["log"]["message"] for m in run.of_type("LOG")
                if m["log"]["level"] == "WARN" and "x_drift_score" in m["log"]["message"]]
    assert len(warnings) == 1, warnings  # said once, by name
