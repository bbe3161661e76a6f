"""Discovery: catalog.json is the discovery of the sandbox at its default seed, custom
attributes come typed from the workspace's definitions, streams the configured API version
lacks are left out with a note, and a discovery that cannot go on says why in one line."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from intercom_sandbox.world import COMPANY_CUSTOM, CONTACT_CUSTOM
from tap_intercom.mechanics import API_VERSIONS, IntercomStream, version_tuple
from tap_intercom.streams import conversations, exports, knowledge, people, tickets, workspace

from .conftest import TAP, discovered_catalog, tap_config

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from refresh_catalog import discover_default_sandbox  # noqa: E402

SQL_TYPES = {"string": {"string", "null"}, "integer": {"integer", "null"}, "float": {"number", "null"},
             "boolean": {"boolean", "null"}, "date": {"string", "null"}}


def entry(catalog: dict, stream: str) -> dict:
    return next(e for e in catalog["streams"] if e["tap_stream_id"] == stream)


def test_catalog_json_is_the_discovery_of_the_default_sandbox():
    committed = json.loads((ROOT / "catalog.json").read_text())
    assert json.loads(discover_default_sandbox()) == committed, \
        "catalog.json is stale: run `.venv/bin/python scripts/refresh_catalog.py`"


def test_custom_attributes_are_typed_from_the_workspace_definitions(tmp_path, intercom_sandbox):
    catalog = discovered_catalog(tmp_path, tap_config(intercom_sandbox))
    for stream, definitions in [("contacts", CONTACT_CUSTOM), ("companies", COMPANY_CUSTOM)]:
        declared = entry(catalog, stream)["schema"]["properties"]["custom_attributes"]
        assert declared["additionalProperties"] is True  # an attribute made after discovery still lands
        assert set(declared["properties"]) == {name for name, _ in definitions}, stream
        for name, data_type in definitions:
            assert set(declared["properties"][name]["type"]) == SQL_TYPES[data_type], (stream, name)
            assert (declared["properties"][name].get("format") == "date-time") is (data_type == "date"), (stream, name)
    conversation_attributes = entry(catalog, "conversations")["schema"]["properties"]["custom_attributes"]
    served = intercom_sandbox.world.ground_truth("conversation_attributes")
    assert {a["name"] for a in served} <= set(conversation_attributes["properties"])
    ticket_attributes = entry(catalog, "tickets")["schema"]["properties"]["ticket_attributes"]["properties"]
    assert ticket_attributes and all(p.get("description", "").startswith("Custom attribute")
                                     for p in ticket_attributes.values())


def test_every_stream_declares_keys_and_typed_timestamps(tmp_path, intercom_sandbox):
    catalog = discovered_catalog(tmp_path, tap_config(intercom_sandbox))
    for stream in catalog["streams"]:
        top = next(m for m in stream["metadata"] if m["breadcrumb"] == [])["metadata"]
        assert top.get("table-key-properties"), stream["tap_stream_id"]
        props = stream["schema"]["properties"]
        for key in top["table-key-properties"]:
            expected = "integer" if key == "row_number" else "string"  # a row's place in an export file
            assert props[key]["type"] == expected, (stream["tap_stream_id"], key)
        if "updated_at" in props and stream["tap_stream_id"] != "company_attributes":
            assert props["updated_at"].get("format") == "date-time"
    top = {s["tap_stream_id"]: next(m for m in s["metadata"] if m["breadcrumb"] == [])["metadata"]
           for s in catalog["streams"]}
    assert top["contacts"]["valid-replication-keys"] == ["updated_at"]
    assert top["conversations"]["valid-replication-keys"] == ["updated_at"]


def stream_classes() -> list[type[IntercomStream]]:
    return [cls for module in (conversations, exports, knowledge, people, tickets, workspace)
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, IntercomStream) and cls.__module__ == module.__name__ and getattr(cls, "path", None)]


def test_each_stream_says_the_first_version_whose_description_has_its_endpoint():
    def shape(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", path)

    paths = {version: {shape(p) for p in yaml.load((ROOT / "openapi" / version / "api.intercom.io.yaml").read_text(),
                                                   Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["paths"]}
             for version in API_VERSIONS}
    classes = stream_classes()
    assert len(classes) >= 40
    for cls in classes:
        having = [v for v in API_VERSIONS if shape(cls.path) in paths[v]]
        assert having and having[0] == cls.since, (cls.name, cls.path, having)
        assert having == [v for v in API_VERSIONS if version_tuple(v) >= version_tuple(having[0])], cls.name


@pytest.mark.parametrize(("version", "examples"), [
    ("2.11", {"brands", "email_settings", "office_hours_schedules", "deleted_conversations", "content_snippets",
              "calls", "ticket_states"}),
    ("2.15", {"office_hours_schedules", "deleted_conversations", "content_snippets", "macros"}),
])
def test_streams_the_api_version_lacks_are_left_out_with_a_note(tmp_path, intercom_sandbox, version, examples):
    absent = {cls.name for cls in stream_classes() if version_tuple(cls.since) > version_tuple(version)}
    assert examples <= absent
    (tmp_path / "config.json").write_text(json.dumps(tap_config(intercom_sandbox, api_version=version)))
    result = subprocess.run([*TAP, "--config", str(tmp_path / "config.json"), "--discover"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    names = {e["tap_stream_id"] for e in json.loads(result.stdout)["streams"]}
    newest = {e["tap_stream_id"] for e in discovered_catalog(tmp_path, tap_config(intercom_sandbox))["streams"]}
    assert names == newest - absent
    for stream in absent:
        assert f"Stream '{stream}' left out" in result.stderr, stream


def discover_failing(tmp_path: Path, config: dict) -> subprocess.CompletedProcess:
    (tmp_path / "config.json").write_text(json.dumps(config))
    env = {**os.environ, "TAP_INTERCOM_BACKOFF_BASE_SECONDS": "0.01"}
    return subprocess.run([*TAP, "--config", str(tmp_path / "config.json"), "--discover"],
                          capture_output=True, text=True, timeout=120, env=env)


def last_line(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_discovery_with_a_rejected_token_stops_with_one_line(tmp_path, intercom_sandbox):
    result = discover_failing(tmp_path, tap_config(intercom_sandbox, access_token="revoked-token"))
    assert result.returncode != 0 and result.stdout == ""
    assert last_line(result) == "tap-intercom: error: Intercom answered 401: access token invalid or revoked"
    assert "revoked-token" not in result.stderr


def test_discovery_that_cannot_reach_the_workspace_stops_with_one_line(tmp_path):
    result = discover_failing(tmp_path, {"access_token": "secret-token", "api_url": "http://127.0.0.1:9"})
    assert result.returncode != 0 and result.stdout == ""
    line = last_line(result)
    assert line.startswith("tap-intercom: error: giving up after") and "127.0.0.1:9" in line, line
    assert "secret-token" not in result.stderr


def test_discovery_without_a_token_stops_with_one_line(tmp_path):
    result = discover_failing(tmp_path, {"api_url": "http://127.0.0.1:9"})
    assert result.returncode != 0
    assert "access_token setting is missing" in last_line(result)
