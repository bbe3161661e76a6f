"""The committed schemas are exactly what the generator makes from the 2.16 description."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "intercom-openapi" / "2.16" / "api.intercom.io.yaml"
SCHEMAS = ROOT / "schemas"


@pytest.fixture(scope="module")
def spec():
    if not SPEC.exists():
        pytest.skip(f"the official OpenAPI description is not beside the repo ({SPEC})")
    return yaml.load(SPEC.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def all_schemas() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(SCHEMAS.glob("*.json"))}


def test_regenerating_reproduces_the_committed_schemas(spec, tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "generate_schemas.py"), "--spec", str(SPEC),
                    "--out", str(tmp_path)], check=True, capture_output=True)
    fresh = {p.name: p.read_text() for p in tmp_path.glob("*.json")}
    committed = {p.name: p.read_text() for p in SCHEMAS.glob("*.json")}
    assert fresh == committed


def test_schemas_are_valid_and_keys_are_required_strings():
    for name, schema in all_schemas().items():
        jsonschema.Draft7Validator.check_schema(schema)
        assert "$ref" not in json.dumps(schema), name
        for key in schema["required"]:
            assert schema["properties"][key]["type"] == "string", (name, key)


def walk(schema: dict, path: str = ""):
    yield path, schema
    for key, sub in (schema.get("properties") or {}).items():
        yield from walk(sub, f"{path}.{key}")
    if isinstance(schema.get("items"), dict):
        yield from walk(schema["items"], f"{path}[]")


def test_timestamps_are_date_time_strings_and_ids_are_strings():
    for name, schema in all_schemas().items():
        for path, sub in walk(schema):
            leaf = path.rsplit(".", 1)[-1]
            if leaf.endswith("_at") and "type" in sub and "object" not in sub["type"]:
                assert sub.get("format") == "date-time" and "string" in sub["type"], (name, path)
            if leaf == "id" or leaf.endswith("_id"):
                assert "string" in sub.get("type", ["string"]), (name, path)
    contacts = all_schemas()["contacts"]["properties"]
    assert contacts["owner_id"]["type"] == ["string", "null"]
    assert contacts["custom_attributes"] == {"additionalProperties": True, "type": ["object", "null"],
                                             "description": contacts["custom_attributes"]["description"]}


def test_every_property_comes_from_the_2_16_object(spec):
    sys.path.insert(0, str(ROOT / "scripts"))
    from generate_schemas import STREAMS

    components = spec["components"]["schemas"]

    def properties_of(name: str) -> set[str]:
        schema = components[name]
        found = set(schema.get("properties") or {})
        for group in ("allOf", "oneOf", "anyOf"):
            for part in schema.get(group) or []:
                if "$ref" in part:
                    found |= properties_of(part["$ref"].rsplit("/", 1)[1])
                found |= set(part.get("properties") or {})
        return found

    for stream, (component, parent_key, _, _) in STREAMS.items():
        emitted = set(json.loads((SCHEMAS / f"{stream}.json").read_text())["properties"]) - {parent_key}
        assert emitted == properties_of(component), stream
