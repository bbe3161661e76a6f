"""Intercom adds a field mid-sync: the stream's schema widens, a new SCHEMA goes out before the
first record that carries it, one warning names it, and every record validates against the
last SCHEMA of its stream. A property deselected in the catalog is still removed. And the
oldest API version the tap speaks syncs in its own shapes."""

from __future__ import annotations

import jsonschema

from intercom_sandbox.world import DRIFT_FIELD

from .conftest import discovered_catalog, run_tap, select, tap_config
from .fidelity import differences

DRIFTING = ("contacts", "conversations")


def validate_against_last_schema(messages: list[dict]) -> None:
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    validators: dict[str, jsonschema.Draft7Validator] = {}
    for message in messages:
        if message["type"] == "SCHEMA":
            validators[message["stream"]] = jsonschema.Draft7Validator(message["schema"], format_checker=checker)
        elif message["type"] == "RECORD":
            errors = list(validators[message["stream"]].iter_errors(message["record"]))
            assert not errors, f"{message['stream']}: {errors[0].message}"


def deselect(catalog: dict, stream: str, prop: str) -> dict:
    entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == stream)
    for metadata in entry["metadata"]:
        if metadata["breadcrumb"] == ["properties", prop]:
            metadata["metadata"]["selected"] = False
    return catalog


def test_a_field_that_appears_mid_sync_widens_the_schema_before_its_first_record(tmp_path, make_sandbox):
    sandbox = make_sandbox(contacts=80, conversations=40)
    config = tap_config(sandbox, page_size=20)
    catalog = deselect(select(discovered_catalog(tmp_path, config), set(DRIFTING)), "contacts", "email")
    drifted = sandbox.drift(kinds=DRIFTING, share=0.5)
    assert all(drifted[kind] for kind in DRIFTING)
    result = run_tap(tmp_path / "sync", config, catalog=catalog)
    assert result.returncode == 0, result.stderr[-3000:]

    validate_against_last_schema(result.messages)
    for stream in DRIFTING:
        messages = [m for m in result.messages if m.get("stream") == stream and m["type"] in ("SCHEMA", "RECORD")]
        schemas = [n for n, m in enumerate(messages) if m["type"] == "SCHEMA"]
        first_drift = next(n for n, m in enumerate(messages) if m["type"] == "RECORD" and DRIFT_FIELD in m["record"])
        assert len(schemas) == 2, stream  # discovery's, then the widened one
        assert DRIFT_FIELD not in messages[schemas[0]]["schema"]["properties"]
        widened = messages[schemas[1]]["schema"]["properties"][DRIFT_FIELD]
        assert "number" in widened["type"] and "null" in widened["type"]
        # mid-sync: records went out before it, and the widened SCHEMA comes right before the first that has it
        assert 0 < schemas[1] == first_drift - 1, stream
        warnings = [line for line in result.stderr.splitlines() if "WARNING" in line and DRIFT_FIELD in line
                    and f"'{stream}'" in line]
        assert len(warnings) == 1, (stream, warnings)

    # the values are Intercom's, on exactly the drifted records
    for stream in DRIFTING:
        truth = {r["id"]: r for r in sandbox.world.ground_truth(stream)}
        records = result.records[stream]
        assert {r["id"] for r in records if DRIFT_FIELD in r} == set(drifted[stream])
        for record in records:
            if DRIFT_FIELD in record:
                assert record[DRIFT_FIELD] == truth[record["id"]][DRIFT_FIELD]
    # the user's deselection still holds, drift or not
    assert all("email" not in r for r in result.records["contacts"])


def test_api_version_2_11_syncs_tickets_in_its_own_shapes(tmp_path, make_sandbox):
    sandbox = make_sandbox(contacts=30, conversations=20)
    config = tap_config(sandbox, api_version="2.11")
    streams = {"tickets", "ticket_types", "admins", "contacts", "conversations"}
    catalog = select(discovered_catalog(tmp_path, config), streams)
    result = run_tap(tmp_path / "sync", config, catalog=catalog)
    assert result.returncode == 0, result.stderr[-3000:]
    validate_against_last_schema(result.messages)
    tickets = result.records["tickets"]
    assert tickets and all(isinstance(t["ticket_state"], str) for t in tickets)
    for stream in streams:
        served = {r["id"]: r for r in sandbox.world.ground_truth(stream, api_version="2.11")}
        records = result.records[stream]
        assert {r["id"] for r in records} == set(served), stream
        for record in records:
            found = differences(served[record["id"]], record)
            assert not found, f"{stream} {record['id']}: {found[:5]}"
