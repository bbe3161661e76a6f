"""The record factory: every record validates against its 2.16 schema, deterministically."""

from __future__ import annotations

import random

import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from intercom_sandbox.fake import RecordFactory, load_spec

SPEC_URI = "urn:intercom:api-2.16"
SEEDS = range(20)
MAIN_RECORDS = ("contact", "conversation", "conversation_part", "company")
# Constraints in the spec that no value can satisfy; errors there are expected.
UNSATISFIABLE = {
    # format: uuid, yet minLength = maxLength = 24 (it is an Intercom object id, not a UUID)
    ("create_conversation_request", ("from", "id")),
}


@pytest.fixture(scope="module")
def spec() -> dict:
    return load_spec()


@pytest.fixture(scope="module")
def factory(spec) -> RecordFactory:
    return RecordFactory(spec)


@pytest.fixture(scope="module")
def registry(spec) -> Registry:
    # The whole document is one resource, so "#/components/schemas/..." refs resolve inside it.
    return Registry().with_resource(SPEC_URI, Resource(contents=spec, specification=DRAFT4))


def validator_for(registry: Registry, pointer: str) -> OAS30Validator:
    return OAS30Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=registry, format_checker=oas30_format_checker)


def object_schema_names(spec: dict) -> list[str]:
    return [name for name, schema in spec["components"]["schemas"].items()
            if schema.get("type") == "object" or "properties" in schema or "allOf" in schema]


def response_schemas(spec: dict):
    """(JSON pointer, schema) of every response body schema in the paths."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in (operation.get("responses", {}) if isinstance(operation, dict) else {}).items():
                for media_type, media in response.get("content", {}).items():
                    if "schema" in media:
                        escaped = [p.replace("~", "~0").replace("/", "~1") for p in (path, media_type)]
                        yield (f"/paths/{escaped[0]}/{method}/responses/{status}/content/{escaped[1]}/schema",
                               media["schema"])


def test_every_component_schema_builds_valid_records(spec, factory, registry):
    names = list(spec["components"]["schemas"])
    assert len(object_schema_names(spec)) > 300
    failures = {}
    for name in names:
        validator = validator_for(registry, f"/components/schemas/{name}")
        for seed in SEEDS:
            record = factory.build(name, random.Random(seed))
            errors = [e for e in validator.iter_errors(record) if (name, tuple(e.absolute_path)) not in UNSATISFIABLE]
            if errors:
                failures.setdefault(name, f"seed {seed}: at {list(errors[0].absolute_path)}: {errors[0].message[:300]}")
    report = "\n".join(f"{name}: {error}" for name, error in failures.items())
    assert not failures, f"{len(failures)} schemas built invalid records:\n{report}"


def test_every_response_schema_builds_valid_bodies(spec, factory, registry):
    failures = {}
    schemas = list(response_schemas(spec))
    assert len(schemas) > 500
    for pointer, schema in schemas:
        validator = validator_for(registry, pointer)
        for seed in range(3):
            error = next(validator.iter_errors(factory.build_schema(schema, random.Random(seed))), None)
            if error is not None:
                failures.setdefault(pointer, f"seed {seed}: at {list(error.absolute_path)}: {error.message[:300]}")
    report = "\n".join(f"{pointer}: {error}" for pointer, error in failures.items())
    assert not failures, f"{len(failures)} response schemas built invalid bodies:\n{report}"


def test_same_seed_gives_the_same_record_and_other_seeds_differ(factory):
    for name in (*MAIN_RECORDS, "ticket", "conversation_attribute", "search_request", "admin_with_app"):
        first = factory.build(name, random.Random(7))
        assert factory.build(name, random.Random(7)) == first
        assert RecordFactory(load_spec()).build(name, random.Random(7)) == first  # a fresh factory, too
        assert factory.build(name, random.Random(8)) != first


def test_overrides_replace_properties_and_add_extra_keys(spec, factory):
    companies = {"type": "list", "data": [], "url": "/contacts/1/companies", "total_count": 0, "has_more": False}
    record = factory.build("contact", random.Random(1), {"id": "abc", "companies": companies, "x_extra": 5})
    assert record["id"] == "abc"
    assert record["companies"] is companies
    assert record["x_extra"] == 5
    assert list(record)[:-1] == list(spec["components"]["schemas"]["contact"]["properties"])  # schema order kept

    # Overridden properties are not generated at all, so overriding everything consumes no randomness.
    rng = random.Random(2)
    state = rng.getstate()
    everything = {key: None for key in spec["components"]["schemas"]["contact"]["properties"]}
    assert factory.build("contact", rng, everything) == everything
    assert rng.getstate() == state


def test_build_schema_handles_inline_schemas(spec, factory, registry):
    pointer = "/paths/~1contacts/get/responses/200/content/application~1json/schema"
    schema = spec["paths"]["/contacts"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    validator = validator_for(registry, pointer)
    for seed in range(5):
        value = factory.build_schema(schema, random.Random(seed))
        assert validator.is_valid(value), next(validator.iter_errors(value)).message
    assert factory.build_schema({"type": "string", "format": "uuid"}, random.Random(1)).count("-") == 4


def missing_properties(spec: dict, schema: dict, value, path: str = "") -> list[str]:
    """Paths of properties absent from `value`, following $ref and allOf (oneOf/anyOf are skipped)."""
    schemas = spec["components"]["schemas"]
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
    if isinstance(value, list) and "items" in schema:
        return [m for i, item in enumerate(value) for m in missing_properties(spec, schema["items"], item, f"{path}[{i}]")]
    if not isinstance(value, dict):
        return []
    missing = [m for part in schema.get("allOf", ()) for m in missing_properties(spec, part, value, path)]
    for key, sub in schema.get("properties", {}).items():
        if key not in value:
            missing.append(f"{path}.{key}")
        else:
            missing.extend(missing_properties(spec, sub, value[key], f"{path}.{key}"))
    return missing


@pytest.mark.parametrize("name", MAIN_RECORDS)
def test_every_property_is_present_recursively(spec, factory, name):
    schema = spec["components"]["schemas"][name]
    for seed in SEEDS:
        record = factory.build(name, random.Random(seed))
        assert set(schema["properties"]) <= set(record)
        assert missing_properties(spec, schema, record) == []


def nullable_outcomes(spec: dict, pointer: str, value, seen: dict) -> None:
    """Record, per nullable property (by JSON pointer into the spec), whether it came out null."""
    schema = resolve_pointer(spec, pointer)
    while "$ref" in schema:
        pointer = schema["$ref"][1:]
        schema = resolve_pointer(spec, pointer)
    if isinstance(value, list) and "items" in schema:
        for item in value:
            nullable_outcomes(spec, f"{pointer}/items", item, seen)
    if not isinstance(value, dict):
        return
    for index, _ in enumerate(schema.get("allOf", ())):
        nullable_outcomes(spec, f"{pointer}/allOf/{index}", value, seen)
    for key, sub in schema.get("properties", {}).items():
        if key in value:
            if sub.get("nullable"):
                seen.setdefault(f"{pointer}/properties/{key}", []).append(value[key] is None)
            nullable_outcomes(spec, f"{pointer}/properties/{key}", value[key], seen)


def resolve_pointer(spec: dict, pointer: str):
    node = spec
    for part in pointer.strip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


@pytest.mark.parametrize("name", MAIN_RECORDS)
def test_nullable_properties_are_sometimes_null(spec, factory, registry, name):
    seen: dict[str, list[bool]] = {}
    for seed in range(200):
        nullable_outcomes(spec, f"/components/schemas/{name}", factory.build(name, random.Random(seed)), seen)
    null_capable = 0
    for pointer, outcomes in seen.items():
        nulls = sum(outcomes)
        # OAS30Validator lets null through only when the same schema object has a type (not beside $ref/allOf)
        # and any enum lists None; where it would reject null, the factory never emits it.
        if validator_for(registry, pointer).is_valid(None):
            null_capable += 1
            if len(outcomes) >= 100:  # properties deep inside arrays are seen often enough too
                assert 0 < nulls < 0.3 * len(outcomes), (pointer, nulls, len(outcomes))
        else:
            assert nulls == 0, pointer
    assert null_capable > 0


def test_values_look_realistic(factory):
    rng = random.Random(3)
    contacts = [factory.build("contact", rng) for _ in range(50)]
    assert all(c["id"].isdigit() for c in contacts)
    assert all("@" in c["email"] for c in contacts if c["email"])
    assert len({c["email"] for c in contacts}) > 45
    low, high = (1609459200, 1793491200)
    assert all(low <= c["created_at"] <= high for c in contacts)
    assert any(not c["name"].isascii() for c in contacts if c["name"])  # some unicode names
    attributes = [c["custom_attributes"] for c in contacts]
    kinds = {type(v) for a in attributes for v in a.values()}
    assert {str, int, float, bool} <= kinds
