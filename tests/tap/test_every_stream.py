"""Every exportable object: a full sync with every stream selected returns each stream's ground
truth, every record validates against its schema, and full-table streams send ACTIVATE_VERSION."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from .conftest import discovered_catalog, run_tap, select, tap_config
from .fidelity import differences

ROOT = Path(__file__).resolve().parents[2]
CUSTOM_OBJECT_TYPES = ["Order", "Delivery"]
REPORTING_DATASETS = ["conversation"]
OPT_IN = {"contact_segments", "contact_subscriptions", "contact_notes", "data_events", "company_contacts",
          "company_notes", "conversation_handling_events", "content_data_export", "reporting_data_export"}
EVERY_STREAM = {
    # core
    "admins", "teams", "tags", "segments", "contact_attributes", "company_attributes", "conversation_attributes",
    "contacts", "companies", "company_segments", "conversations", "conversation_parts",
    # tickets
    "tickets", "ticket_parts", "ticket_types", "ticket_type_attributes", "ticket_states",
    # conversations
    "deleted_conversations", "conversation_handling_events", "calls",
    # workspace
    "activity_logs", "away_status_reasons", "office_hours_schedules", "brands", "email_settings",
    "subscription_types", "macros",
    # knowledge
    "articles", "internal_articles", "help_centers", "help_center_collections", "news_items", "newsfeeds",
    "content_snippets",
    # people children
    "contact_tags", "contact_companies", "contact_segments", "contact_subscriptions", "contact_notes",
    "company_contacts", "company_notes", "data_events",
    # exports
    "content_data_export", "reporting_data_export",
}


@pytest.fixture
def fast_exports(monkeypatch):
    monkeypatch.setenv("TAP_INTERCOM_EXPORT_POLL_SECONDS", "0.05")
    monkeypatch.setenv("TAP_INTERCOM_BACKOFF_BASE_SECONDS", "0.02")


def full_config(sandbox, **overrides) -> dict:
    return tap_config(sandbox, custom_object_types=CUSTOM_OBJECT_TYPES, reporting_datasets=REPORTING_DATASETS,
                      export_window_days=365, **overrides)


def stream_keys(catalog: dict) -> dict[str, list[str]]:
    return {entry["tap_stream_id"]: next(m for m in entry["metadata"] if m["breadcrumb"] == [])["metadata"][
        "table-key-properties"] for entry in catalog["streams"]}


def key_of(record: dict, keys: list[str]) -> tuple:
    return tuple(str(record.get(k)) for k in keys)


def truth_keys(sandbox, stream: str, keys: list[str]) -> set[tuple]:
    if stream == "reporting_data_export":
        rows = sandbox.world.ground_truth("reporting_data_export:conversation")
        return {("conversation", str(i)) for i in range(len(rows))}  # compared by content below
    return {key_of(r, keys) for r in sandbox.world.ground_truth(stream)}


EMBEDDED = {"contact_tags": "tags", "contact_companies": "companies"}


def served_objects(sandbox, stream: str, keys: list[str]) -> dict[tuple, dict]:
    """key → the object the sandbox served for each record of `stream`. A contact's tags and
    companies come from the references the contact carries, unless Intercom truncated that
    list; only then from the contact's own endpoint, whole objects."""
    served = {key_of(r, keys): r for r in sandbox.world.ground_truth(stream)}
    if stream in EMBEDDED:
        for contact in sandbox.world.ground_truth("contacts"):
            listing = contact[EMBEDDED[stream]]
            if not listing.get("has_more") and listing.get("total_count", 0) <= len(listing["data"]):
                for item in listing["data"]:
                    reference = dict(item, contact_id=contact["id"])
                    served[key_of(reference, keys)] = reference
    return served


def test_discovery_lists_every_stream_and_marks_the_costly_ones_opt_in(tmp_path, make_sandbox):
    catalog = discovered_catalog(tmp_path, tap_config(make_sandbox()))
    names = {entry["tap_stream_id"] for entry in catalog["streams"]}
    assert names == EVERY_STREAM
    for entry in catalog["streams"]:
        top = next(m for m in entry["metadata"] if m["breadcrumb"] == [])["metadata"]
        assert top["selected-by-default"] is (entry["tap_stream_id"] not in OPT_IN), entry["tap_stream_id"]
    with_objects = discovered_catalog(tmp_path, full_config(make_sandbox()))
    assert {e["tap_stream_id"] for e in with_objects["streams"]} == EVERY_STREAM | {
        "custom_object_order", "custom_object_delivery"}


def test_catalog_json_lists_every_stream():
    committed = json.loads((ROOT / "catalog.json").read_text())
    assert {entry["tap_stream_id"] for entry in committed["streams"]} == EVERY_STREAM


def test_full_sync_of_every_stream_returns_the_ground_truth(tmp_path, make_sandbox, fast_exports):
    sandbox = make_sandbox(export_job_seconds=0.05)
    config = full_config(sandbox)
    catalog = select(discovered_catalog(tmp_path, config), "all")
    result = run_tap(tmp_path / "sync", config, catalog=catalog)
    assert result.returncode == 0, result.stderr[-3000:]
    keys = stream_keys(catalog)
    records = result.records
    schemas = {m["stream"]: m["schema"] for m in result.messages if m["type"] == "SCHEMA"}
    for stream in sorted(keys):
        got = records.get(stream, [])
        assert got, f"{stream}: no records"
        if stream == "reporting_data_export":
            continue
        truth = truth_keys(sandbox, stream, keys[stream])
        seen = {key_of(r, keys[stream]) for r in got}
        assert seen == truth, f"{stream}: missing {sorted(truth - seen)[:3]}, extra {sorted(seen - truth)[:3]}"
    # the reporting rows carry every row of the dataset, once
    rows = sandbox.world.ground_truth("reporting_data_export:conversation")
    exported = sorted(json.dumps({k.split(".")[-1]: v for k, v in r["data"].items()}, sort_keys=True)
                      for r in records["reporting_data_export"])
    assert exported == sorted(json.dumps(row, sort_keys=True) for row in rows)

    # every record validates against the last SCHEMA sent for its stream before it
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    validators: dict[str, jsonschema.Draft7Validator] = {}
    for message in result.messages:
        if message["type"] == "SCHEMA":
            validators[message["stream"]] = jsonschema.Draft7Validator(message["schema"], format_checker=checker)
        elif message["type"] == "RECORD":
            errors = sorted(validators[message["stream"]].iter_errors(message["record"]), key=str)
            assert not errors, f"{message['stream']}: {errors[0].message} at {list(errors[0].absolute_path)}"

    # every record is the object the sandbox served, leaf by leaf
    for stream in sorted(set(keys) - {"reporting_data_export"}):
        served = served_objects(sandbox, stream, keys[stream])
        for record in records[stream]:
            found = differences(served[key_of(record, keys[stream])], record, added=frozenset(keys[stream]),
                                csv=stream.endswith("_export"))
            assert not found, f"{stream} {key_of(record, keys[stream])}: {found[:5]}"

    # an embedded list costs a request only when Intercom truncated it
    routes = sandbox.stats.snapshot()["by_route"]

    def requests_to(prefix: str, suffix: str) -> int:
        return sum(n for route, n in routes.items() if route.startswith(prefix) and route.endswith(suffix))

    truncated_tags = sum(1 for c in sandbox.world.ground_truth("contacts") if c["tags"].get("has_more"))
    assert truncated_tags > 0 and requests_to("/contacts/", "/tags") == truncated_tags
    truncated_tickets = sum(1 for t in sandbox.world.ground_truth("tickets")
                            if t["ticket_parts"]["total_count"] > 25)
    assert truncated_tickets > 0 and requests_to("/tickets/", "_id>[^/]+)") == truncated_tickets
    assert sandbox.config.token not in result.stderr + json.dumps(result.messages)


def test_full_table_streams_send_activate_version_and_incremental_ones_do_not(tmp_path, make_sandbox):
    sandbox = make_sandbox()
    config = tap_config(sandbox)
    catalog = select(discovered_catalog(tmp_path, config), {"admins", "brands", "companies", "company_segments",
                                                            "contacts", "contact_tags", "conversations",
                                                            "conversation_parts", "articles"})
    result = run_tap(tmp_path / "sync", config, catalog=catalog)
    assert result.returncode == 0, result.stderr[-3000:]
    activations: dict[str, list[int]] = {}
    for message in result.messages:
        if message["type"] == "ACTIVATE_VERSION":
            activations.setdefault(message["stream"], []).append(message["version"])
    # full table (and children of a full-table parent): once, after the last record
    assert set(activations) == {"admins", "brands", "companies", "company_segments", "articles"}
    for stream, versions in activations.items():
        assert len(versions) == 1, stream
        stream_messages = [m for m in result.messages if m.get("stream") == stream and m["type"] != "SCHEMA"]
        assert stream_messages[-1]["type"] == "ACTIVATE_VERSION", stream
        records = [m for m in stream_messages if m["type"] == "RECORD"]
        assert records and all(m["version"] == versions[0] for m in records), stream
    # can be turned off
    quiet = run_tap(tmp_path / "quiet", {**config, "emit_activate_version_messages": False}, catalog=catalog)
    assert quiet.returncode == 0
    assert not [m for m in quiet.messages if m["type"] == "ACTIVATE_VERSION"]
