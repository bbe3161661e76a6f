"""Nothing Intercom sends is dropped or rejected: the per-record pass reports what the schema
does not take, the schema widens, list answers are read under either of their names, and
custom attributes are typed from their definitions."""

from __future__ import annotations

import copy
import logging

import jsonschema
import pytest

from tap_intercom.attributes import definitions, typed
from tap_intercom.errors import AuthError, ForbiddenError, RequestError, UnexpectedAnswerError
from tap_intercom.mechanics import listed
from tap_intercom.records import compile_transform
from tap_intercom.widening import widen_at

SCHEMA = {"type": "object", "required": ["id"], "properties": {
    "id": {"type": "string"},
    "created_at": {"type": ["string", "null"], "format": "date-time"},
    "avatar": {"type": ["string", "null"]},
    "tags": {"type": ["object", "null"], "properties": {
        "data": {"type": ["array", "null"], "items": {"type": ["object", "null"], "properties": {
            "id": {"type": ["string", "null"]}}}}}},
    "custom_attributes": {"type": ["object", "null"], "additionalProperties": True},
}}


def shaped(record: dict, schema: dict = SCHEMA) -> tuple[dict, list]:
    drifts: list = []
    out = compile_transform(schema, lambda path, value: drifts.append((path, value)))(copy.deepcopy(record))
    return out, drifts


def test_the_pass_converts_and_reports_what_the_schema_does_not_take_without_dropping_it():
    record = {"id": 7, "created_at": 1_700_000_000, "avatar": {"type": "avatar", "image_url": "https://x/a.png"},
              "tags": {"data": [{"id": 3, "colour": "red"}]}, "brand_new": 1.5, "custom_attributes": {"Plan Tier": "pro"}}
    out, drifts = shaped(record)
    assert out["id"] == "7" and out["created_at"] == "2023-11-14T22:13:20Z" and out["tags"]["data"][0]["id"] == "3"
    assert out["avatar"] == record["avatar"] and out["brand_new"] == 1.5 and out["tags"]["data"][0]["colour"] == "red"
    assert sorted(path for path, _ in drifts) == [("avatar",), ("brand_new",), ("tags", "data", "[]", "colour")]
    assert "custom_attributes" not in {path[0] for path, _ in drifts}  # an open object takes any key


def test_widening_takes_every_drift_and_the_record_then_validates():
    record = {"id": "7", "avatar": {"type": "avatar", "image_url": "https://x/a.png"},
              "tags": {"data": [{"id": "3", "colour": "red"}]}, "brand_new": 1.5, "seen_at": 1_700_000_000}
    schema = SCHEMA
    out, drifts = shaped(record, schema)
    for path, value in drifts:
        schema = widen_at(schema, path, value)
    assert schema["properties"]["brand_new"] == {"type": ["number", "null"]}
    assert schema["properties"]["seen_at"] == {"type": ["string", "null"], "format": "date-time"}
    assert set(schema["properties"]["avatar"]["type"]) == {"object", "string", "null"}
    assert schema["properties"]["tags"]["properties"]["data"]["items"]["properties"]["colour"]["type"] == [
        "string", "null"]
    again, more = shaped(record, schema)
    assert not more and again["seen_at"] == "2023-11-14T22:13:20Z"
    jsonschema.validate(again, schema)
    jsonschema.validate({"id": "8", "avatar": "https://x/b.png"}, schema)  # the other shape still passes
    assert SCHEMA["properties"].get("brand_new") is None  # widening copies, never edits a schema in place


def test_a_list_answer_is_read_under_either_name_and_an_answer_without_it_is_an_error():
    assert listed({"type": "list", "data": [{"id": "1"}]}, ("companies", "data"), "GET /contacts/{id}/companies") == [
        {"id": "1"}]
    assert listed({"companies": [{"id": "2"}], "data": []}, ("companies", "data"), "GET x") == [{"id": "2"}]
    assert listed({"companies": None}, ("companies", "data"), "GET x") == []
    with pytest.raises(UnexpectedAnswerError, match=r"GET /contacts/\{id\}/companies answered without its list "
                                                     r"\('companies' or 'data'\); it has 'type', 'pages'"):
        listed({"type": "list", "pages": {}}, ("companies", "data"), "GET /contacts/{id}/companies")


def test_custom_attributes_become_typed_properties_and_the_object_stays_open():
    definitions = {"Issue Type": "string", "Order No.": "integer", "Refund.Amount": "decimal", "Is VIP": "boolean",
                   "Promised By": "datetime", "Screenshots": "files"}
    schema = typed(SCHEMA, "custom_attributes", definitions)
    declared = schema["properties"]["custom_attributes"]
    assert declared["additionalProperties"] is True and set(declared["properties"]) == set(definitions)
    assert declared["properties"]["Order No."]["type"] == ["integer", "null"]
    assert declared["properties"]["Refund.Amount"]["type"] == ["number", "null"]
    assert declared["properties"]["Promised By"]["format"] == "date-time"
    assert "type" not in declared["properties"]["Screenshots"]  # files: any JSON value
    out, drifts = shaped({"id": "1", "custom_attributes": {"Promised By": 1_700_000_000, "Is VIP": True,
                                                           "Order No.": 12, "Added Later": "x"}}, schema)
    assert out["custom_attributes"]["Promised By"] == "2023-11-14T22:13:20Z"
    assert drifts == [(("custom_attributes", "Added Later"), "x")]  # lands, and the schema will widen
    assert "properties" not in SCHEMA["properties"]["custom_attributes"]


class RefusingIntercom:
    """An http client whose every GET fails with `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def get(self, path, params=None):
        raise self.error


@pytest.mark.parametrize("error", [RequestError("Intercom answered 422 on GET /data_attributes", 422),
                                   ForbiddenError("403 on GET /data_attributes: missing read_users")])
def test_definitions_the_workspace_refuses_leave_the_attributes_untyped_with_a_warning(error, caplog):
    logger = logging.getLogger("test-definitions")
    assert definitions(RefusingIntercom(error), "conversation", "2.15", logger) == {}
    assert "Custom conversation attributes stay untyped" in caplog.text and str(error) in caplog.text


def test_a_rejected_token_at_discovery_is_not_swallowed():
    with pytest.raises(AuthError):
        definitions(RefusingIntercom(AuthError("401")), "contact", "2.16", logging.getLogger("test-definitions"))
