"""The committed `schemas/` are exactly what the generator makes from the 2.16 description,
and they are schemas a target can load every real record with."""

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

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(__file__).parents[2].parent / "shared"
SPEC = SHARED / "intercom-openapi" / "2.16" / "api.intercom.io.yaml"
SCHEMAS = ROOT / "schemas"
GENERATOR = ROOT / "scripts" / "generate_schemas.py"

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"the shared folder with Intercom's OpenAPI "
                                                             f"descriptions is not beside the repo ({SHARED})")


def load_generator():
    spec = importlib.util.spec_from_file_location("generate_schemas", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR_MODULE = load_generator()
STREAMS = GENERATOR_MODULE.STREAMS


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.load(SPEC.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@pytest.fixture(scope="module")
def components(spec) -> dict:
    return spec["components"]["schemas"]


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


def has_key(value, key: str) -> bool:
    if isinstance(value, dict):
        return key in value or any(has_key(v, key) for v in value.values())
    if isinstance(value, list):
        return any(has_key(v, key) for v in value)
    return False


def source_properties(components: dict, name: str) -> set[str]:
    """Top-level property names of a component, through allOf/oneOf/anyOf and $refs."""
    schema = components[name]
    found = set(schema.get("properties") or {})
    for group in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(group) or []:
            if "$ref" in part:
                found |= source_properties(components, part["$ref"].rsplit("/", 1)[1])
            found |= set(part.get("properties") or {})
    return found


def test_regenerating_reproduces_the_committed_schemas(tmp_path):
    subprocess.run([sys.executable, str(GENERATOR), str(SPEC), "--out", str(tmp_path)],
                   check=True, capture_output=True, text=True)
    fresh = {p.name: p.read_bytes() for p in sorted(tmp_path.glob("*.json"))}
    committed = {p.name: p.read_bytes() for p in sorted(SCHEMAS.glob("*.json"))}
    assert sorted(fresh) == sorted(committed)
    changed = [name for name in fresh if fresh[name] != committed[name]]
    assert not changed, f"re-run scripts/generate_schemas.py: {changed} differ"
    assert sorted(fresh) == sorted(f"{stream}.json" for stream in [*STREAMS, *GENERATOR_MODULE.export_schemas()])


def test_schemas_are_draft_7_without_refs(schemas):
    # JSON Schema words only: no $ref, and no enum or OpenAPI word (nullable, example, …) left
    allowed = {"type", "properties", "items", "required", "description", "format", "additionalProperties"}
    for stream, schema in schemas.items():
        jsonschema.Draft7Validator.check_schema(schema)
        assert schema["type"] == "object", stream
        assert not has_key(schema, "$ref"), stream
        for path, _, sub in [("", "", schema), *nodes(schema)]:
            assert set(sub) <= allowed, (stream, path, set(sub) - allowed)
            assert "required" not in sub or not path, (stream, path)  # only the top level requires


def test_every_property_comes_from_the_source_component(schemas, components):
    """Nothing is made up, and nothing but the declared drops is left out."""
    for stream, source in STREAMS.items():
        assert source.schema in components, stream
        declared = source_properties(components, source.schema)
        added = ({source.parent_key} if source.parent_key else set()) | set(GENERATOR_MODULE.ADDED.get(stream, {}))
        added -= declared
        emitted = set(schemas[stream]["properties"]) - added
        assert emitted <= declared, (stream, emitted - declared)
        assert emitted == declared - set(source.drop), (stream, declared - set(source.drop) - emitted)
        if source.parent_key:
            assert source.parent_key in schemas[stream]["properties"], stream


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
            assert "null" in types(sub), (stream, path)


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
            if (name == "id" or name.endswith("_id")) and "object" not in types(sub):
                assert types(sub) & {"integer", "number"} == set(), (stream, path)
                assert "string" in types(sub), (stream, path)
            if name.endswith("_ids"):
                assert types(sub["items"]) == {"string", "null"}, (stream, path)
    assert schemas["contacts"]["properties"]["owner_id"]["type"] == ["string", "null"]
    assert schemas["contacts"]["properties"]["id"]["type"] == "string"


def test_custom_attributes_and_undeclared_objects_are_open(schemas):
    seen = 0
    for stream, schema in schemas.items():
        for path, name, sub in nodes(schema):
            if name == "custom_attributes":
                seen += 1
                assert not sub.get("properties") and sub["additionalProperties"] is True, (stream, path)
                assert types(sub) == {"object", "null"}, (stream, path)
            if "object" in types(sub) and not sub.get("properties"):
                assert sub.get("additionalProperties") is True, (stream, path)
    assert seen >= 4  # companies, contacts, conversations, custom objects at least


def response_examples(spec: dict) -> Iterator[tuple[str, dict]]:
    """(item component, example item) from the 200 answers of the endpoints a tap reads:
    GETs, searches and POST /companies/list (write endpoints' examples can be stale: the
    change_type example still shows `ticket_state` as a string)."""
    components = spec["components"]["schemas"]

    def component_of(schema: dict) -> str | None:
        if len(schema.get("allOf") or []) == 1:  # GET /contacts/{id}: contact plus one property
            schema = schema["allOf"][0]
        return schema["$ref"].rsplit("/", 1)[1] if "$ref" in schema else None

    # parts come inside their conversation or ticket: {"conversation_parts": {"conversation_parts": […]}}
    nested = {"conversation": "conversation_part", "ticket": "ticket_part"}

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            reads = method == "get" or (method == "post" and path.endswith(("/search", "/list")))
            if not reads or not isinstance(operation, dict):
                continue
            content = ((operation.get("responses") or {}).get("200") or {}).get("content") or {}
            body = content.get("application/json") or {}
            wrapper = component_of(body.get("schema") or {})
            if not wrapper:
                continue
            examples = [e.get("value") for e in (body.get("examples") or {}).values()]
            lists = {key: component_of(prop.get("items") or {})
                     for key, prop in (components[wrapper].get("properties") or {}).items()
                     if prop.get("type") == "array"}
            for example in examples:
                if not isinstance(example, dict):
                    continue
                yield wrapper, example  # a detail endpoint answers the item itself
                if wrapper in nested:
                    for record in ((example.get(f"{wrapper}_parts") or {}).get(f"{wrapper}_parts") or []):
                        yield nested[wrapper], record
                for key, item in lists.items():
                    for record in (example.get(key) or []) if item else []:
                        if isinstance(record, dict):
                            yield item, record


def test_the_spec_examples_pass_once_shaped_by_the_tap(schemas, spec):
    """The description's own examples break its schemas (nulls, integer ids, strings for
    objects); after the tap's conversion they must pass ours, or a target would refuse them."""
    records = pytest.importorskip("tap_intercom.records")
    by_component: dict[str, list[str]] = {}
    for stream, source in STREAMS.items():
        by_component.setdefault(source.schema, []).append(stream)
    checked: set[str] = set()
    for component, example in response_examples(spec):
        for stream in by_component.get(component, []):
            source = STREAMS[stream]
            record = copy.deepcopy(example)
            for key in source.drop:
                record.pop(key, None)
            if source.parent_key:
                record.setdefault(source.parent_key, "1")
            if any(record.get(key) is None for key in source.primary_key):
                continue  # without its key it is not a record the tap would emit
            transform = records.compile_transform(schemas[stream])
            record = transform(record) if transform else record
            errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
                      for e in jsonschema.Draft7Validator(schemas[stream]).iter_errors(record)]
            assert not errors, (stream, errors[:5])
            checked.add(stream)
    assert len(checked) >= 30 and {"contacts", "companies", "conversations", "conversation_parts", "tickets",
                                   "activity_logs", "macros", "company_attributes"} <= checked, checked
