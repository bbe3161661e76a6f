"""The committed `schemas/` are exactly what the generator makes from the descriptions in
`openapi/` (every version, their response examples, the observed-fields overlay), and every
example of every description passes the tap's per-record pass whole and valid."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import yaml

from tap_intercom.records import compile_transform
from tap_intercom.streams import conversations, tickets

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "openapi"
SCHEMAS = ROOT / "schemas"
GENERATOR = ROOT / "scripts" / "generate_schemas.py"


def load_generator():
    spec = importlib.util.spec_from_file_location("generate_schemas", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = load_generator()
STREAMS = GEN.STREAMS


@pytest.fixture(scope="module")
def descriptions() -> dict[str, dict]:
    return {version: GEN.load_description(version) for version in GEN.VERSIONS}


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(SCHEMAS.glob("*.json"))}


def nodes(schema: dict, path: str = "") -> Iterator[tuple[str, str, dict]]:
    """Every (path, property name, schema) below `schema`, array items included."""
    for name, sub in (schema.get("properties") or {}).items():
        yield f"{path}.{name}", name, sub
        yield from nodes(sub, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield f"{path}[]", "", schema["items"]
        yield from nodes(schema["items"], f"{path}[]")


def types(schema: dict) -> set[str]:
    kind = schema.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def leaves(value, path: str = "") -> Iterator[str]:
    """Every key path of a JSON value (what a record must still carry after the tap's pass)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}"
            yield from leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, f"{path}[{index}]")


def component_properties(components: dict, name: str) -> set[str]:
    """Top-level property names of a component, through allOf/oneOf/anyOf and $refs."""
    schema = components[name]
    found = set(schema.get("properties") or {})
    for group in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(group) or []:
            if "$ref" in part and part["$ref"].rsplit("/", 1)[1] in components:
                found |= component_properties(components, part["$ref"].rsplit("/", 1)[1])
            found |= set(part.get("properties") or {})
    return found


def test_regenerating_reproduces_the_committed_schemas(tmp_path):
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(tmp_path)], check=True, capture_output=True, text=True)
    fresh = {p.name: p.read_bytes() for p in sorted(tmp_path.glob("*.json"))}
    committed = {p.name: p.read_bytes() for p in sorted(SCHEMAS.glob("*.json"))}
    assert sorted(fresh) == sorted(committed)
    changed = [name for name in fresh if fresh[name] != committed[name]]
    assert not changed, f"re-run scripts/generate_schemas.py: {changed} differ"
    assert sorted(fresh) == sorted(f"{stream}.json" for stream in [*STREAMS, *GEN.export_schemas()])


def test_the_repository_holds_every_description_it_reads():
    for version in GEN.VERSIONS:
        assert (OPENAPI / version / "api.intercom.io.yaml").read_text()[:200].count("openapi: 3.0"), version
    assert "MIT" in (OPENAPI / "LICENSE.md").read_text()
    source = (OPENAPI / "SOURCE.md").read_text()
    assert "github.com/intercom/Intercom-OpenAPI" in source and all(v in source for v in GEN.VERSIONS)


def test_schemas_are_draft_7_without_refs(schemas):
    # JSON Schema words only: no $ref, and no enum or OpenAPI word (nullable, example, …) left
    allowed = {"type", "properties", "items", "required", "description", "format", "additionalProperties"}
    for stream, schema in schemas.items():
        jsonschema.Draft7Validator.check_schema(schema)
        assert schema["type"] == "object", stream
        for path, _, sub in [("", "", schema), *nodes(schema)]:
            assert set(sub) <= allowed, (stream, path, set(sub) - allowed)
            assert "required" not in sub or not path, (stream, path)  # only the top level requires


def test_every_property_has_a_source_and_every_source_property_is_kept(schemas, descriptions):
    """Nothing made up: each property is in a component of some version, an example of an
    endpoint returning the object, or the overlay. Nothing left out but the child lists."""
    examples: dict[str, set[str]] = {}
    for spec in descriptions.values():
        for component, example in GEN.response_examples(spec):
            examples.setdefault(component, set()).update(example)
    observed = GEN.observed_fields()
    for stream, source in STREAMS.items():
        declared = set().union(*(component_properties(spec["components"]["schemas"], c)
                                 for spec in descriptions.values() for c in source.components
                                 if c in spec["components"]["schemas"]))
        shown = set().union(*(examples.get(c, set()) for c in source.components))
        seen = {dotted.split(".")[0].removesuffix("[]") for c in source.components for dotted in observed.get(c, {})}
        added = {source.parent_key} | set(GEN.ADDED.get(stream, {}))
        emitted = set(schemas[stream]["properties"])
        assert emitted - added <= declared | shown | seen, (stream, emitted - added - declared - shown - seen)
        assert (declared | shown | seen) - set(source.drop) <= emitted, (stream, declared - emitted)
        assert not set(source.drop) & emitted, stream


def test_the_child_lists_left_out_are_the_ones_the_tap_moves_to_child_streams():
    moved = {"conversations": {conversations.ConversationPartsStream.moved_from_parent},
             "tickets": {tickets.TicketPartsStream.moved_from_parent},
             "ticket_types": {tickets.TicketTypeAttributesStream.moved_from_parent}}
    for stream, source in STREAMS.items():
        if stream != "admins":  # `app` of GET /me belongs to the workspace, not to an admin
            assert set(source.drop) == moved.get(stream, set()), stream


def test_primary_keys_are_required_and_not_null(schemas):
    for stream, source in STREAMS.items():
        schema = schemas[stream]
        assert schema["required"] == list(source.primary_key), stream
        for key in source.primary_key:
            assert key in schema["properties"], (stream, key)
            assert "null" not in types(schema["properties"][key]), (stream, key)


def test_every_other_property_accepts_null(schemas):
    for stream, schema in schemas.items():
        for path, name, sub in nodes(schema):
            if path.lstrip(".") in schema["required"]:
                continue
            assert "type" not in sub or "null" in types(sub), (stream, path)  # no type: anything, null too


def test_timestamps_are_date_time_strings(schemas):
    for stream, schema in schemas.items():
        for path, name, sub in nodes(schema):
            if sub.get("format"):
                assert sub["format"] == "date-time", (stream, path)
                assert types(sub) <= {"string", "null"}, (stream, path)
            if name.endswith("_at") and types(sub) & {"integer", "number", "string"}:
                assert sub.get("format") == "date-time", (stream, path)


def test_ids_are_strings(schemas):
    for stream, schema in schemas.items():
        for path, name, sub in nodes(schema):
            if (name == "id" or name.endswith("_id")) and "type" in sub and "object" not in types(sub):
                assert types(sub) & {"integer", "number"} == set(), (stream, path)
                assert "string" in types(sub), (stream, path)
    assert schemas["contacts"]["properties"]["owner_id"]["type"] == ["string", "null"]
    assert schemas["contacts"]["properties"]["id"]["type"] == "string"


def test_open_objects_take_any_key_and_declare_none(schemas):
    """An object without declared properties carries no `properties: {}`: the SDK's flattening
    would read that as "no keys" and drop the whole value."""
    seen = 0
    for stream, schema in schemas.items():
        for path, name, sub in nodes(schema):
            if name == "custom_attributes":
                seen += 1
                assert "properties" not in sub and sub["additionalProperties"] is True, (stream, path)
            if "object" in types(sub) and not sub.get("properties"):
                assert "properties" not in sub and sub.get("additionalProperties") is True, (stream, path)
    assert seen >= 4  # companies, contacts, conversations, custom objects at least


def test_shapes_the_sources_disagree_on_are_all_taken(schemas):
    def valid(stream: str, record: dict) -> bool:
        return jsonschema.Draft7Validator(schemas[stream]).is_valid(record)

    # admin avatar: a string in the 2.16 component, an object in 2.11 and in 2.16's /me example
    assert valid("admins", {"id": "1", "avatar": "https://example.com/a.png"})
    assert valid("admins", {"id": "1", "avatar": {"type": "avatar", "image_url": "https://example.com/a.png"}})
    # ticket_state: a string in 2.11, an object in 2.16
    assert valid("tickets", {"id": "1", "ticket_state": "submitted"})
    assert valid("tickets", {"id": "1", "ticket_state": {"type": "ticket_state", "id": "7", "category": "submitted"}})
    assert not valid("tickets", {"id": "1", "ticket_state": 7})  # still a schema, not "anything"


def test_embedded_lists_keep_their_envelope(schemas):
    for stream, field in [("contacts", "tags"), ("contacts", "companies"), ("contacts", "notes"),
                          ("contacts", "opted_in_subscription_types")]:
        envelope = schemas[stream]["properties"][field]["properties"]
        assert {"type", "url", "total_count", "has_more", "data"} <= set(envelope), (stream, field, set(envelope))


def test_observed_fields_say_where_they_were_seen_and_land_in_a_schema(schemas):
    observed = GEN.observed_fields()
    by_component: dict[str, list[str]] = {}
    for stream, source in STREAMS.items():
        for component in source.components:
            by_component.setdefault(component, []).append(stream)
    assert observed
    for component, fields in observed.items():
        assert component in by_component, component
        for dotted, entry in fields.items():
            assert "PROVISIONAL" not in str(entry["seen"]), (component, dotted)
            for stream in by_component[component]:
                node = schemas[stream]
                for step in dotted.split("."):
                    name = step.removesuffix("[]")
                    node = node["properties"][name]
                    if step.endswith("[]"):
                        node = node["items"]
                assert types(node) - {"null"}, (stream, dotted)


def test_a_field_only_ever_null_in_the_examples_stops_the_generator(descriptions):
    spec = copy.deepcopy(descriptions["2.16"])
    example = spec["paths"]["/tags"]["get"]["responses"]["200"]["content"]["application/json"]["examples"]
    next(iter(example.values()))["value"]["data"][0]["colour_of_the_day"] = None
    generator = GEN.Generator({"2.16": spec}, {})
    generator.stream_schema("tags", STREAMS["tags"])
    assert any("colour_of_the_day" in problem for problem in generator.problems)


@pytest.mark.parametrize("version", GEN.VERSIONS)
def test_every_response_example_passes_the_tap_whole_and_valid(schemas, descriptions, version):
    """The description's own examples break its schemas (nulls, integer ids, unix times, strings
    for objects); after the tap's per-record pass they must validate against ours, and the
    pass must neither drop a key nor find one the schema lacks (that would be a drift)."""
    by_component: dict[str, list[str]] = {}
    for stream, source in STREAMS.items():
        for component in source.components:
            by_component.setdefault(component, []).append(stream)
    checked: set[str] = set()
    for component, example in GEN.response_examples(descriptions[version]):
        for stream in by_component.get(component, []):
            source = STREAMS[stream]
            record = {k: v for k, v in copy.deepcopy(example).items() if k not in source.drop}
            if source.parent_key:
                record.setdefault(source.parent_key, "1")
            if any(record.get(key) is None for key in source.primary_key):
                continue  # without its key it is not a record the tap would emit
            before = set(leaves(record))
            drifts: list = []
            shaped = compile_transform(schemas[stream], lambda path, value: drifts.append(path))(record)
            assert not drifts, (version, stream, drifts)
            assert set(leaves(shaped)) == before, (version, stream, before ^ set(leaves(shaped)))
            errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
                      for e in jsonschema.Draft7Validator(schemas[stream]).iter_errors(shaped)]
            assert not errors, (version, stream, errors[:5])
            checked.add(stream)
    must = {"contacts", "companies", "conversations", "tickets", "admins", "tags"}
    must |= {"conversation_parts"} if version != "2.11" else set()  # 2.11's conversation examples have no parts
    assert len(checked) >= 20 and must <= checked, checked
