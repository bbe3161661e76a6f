"""What reaches the target: one SCHEMA per stream, STATE as bookmarks move (not once per
parent), records shaped by the compiled conform pass."""

from __future__ import annotations

from collections import Counter

from tap_intercom.records import compile_transform


def test_one_schema_per_stream_and_no_state_per_parent(make_sandbox, sync):
    sandbox = make_sandbox(contacts=60, companies=40, conversations=90)
    result = sync(sandbox)
    assert result.returncode == 0, result.stderr[-3000:]
    schemas = Counter(m["stream"] for m in result.messages if m["type"] == "SCHEMA")
    assert schemas["conversation_parts"] == 1 and schemas["company_segments"] == 1
    assert set(schemas.values()) == {1}
    states = sum(1 for m in result.messages if m["type"] == "STATE")
    assert states < 40  # the SDK alone would write one after each of the 130 parents' children
    # children say "Beginning sync" once, not once per parent
    assert result.stderr.count("Beginning sync of 'conversation_parts'") == 1


SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["string", "null"]},
        "name": {"type": ["string", "null"]},
        "created_at": {"type": ["string", "null"], "format": "date-time"},
        "unsubscribed": {"type": ["boolean", "null"]},
        "author": {"type": ["object", "null"], "properties": {"id": {"type": ["string", "null"]},
                                                            "team_ids": {"type": ["array", "null"],
                                                                         "items": {"type": "string"}}}},
        "custom_attributes": {"type": ["object", "null"], "properties": {}, "additionalProperties": True},
    },
}


def test_conform_shapes_types_and_reports_what_the_schema_lacks():
    drift: list[tuple] = []
    conform = compile_transform(SCHEMA, lambda path, value: drift.append((".".join(path), value)))
    record = conform({"id": 7, "name": "Ann", "created_at": 1_700_000_000, "unsubscribed": 0,
                      "author": {"id": 12, "team_ids": [1, "2"], "avatar": "x"}, "new_field": 1,
                      "custom_attributes": {"anything": 3}})
    # converted where the schema says so, and nothing dropped: what it lacks stays, reported
    assert record == {"id": "7", "name": "Ann", "created_at": "2023-11-14T22:13:20Z", "unsubscribed": False,
                      "author": {"id": "12", "team_ids": ["1", "2"], "avatar": "x"}, "new_field": 1,
                      "custom_attributes": {"anything": 3}}
    assert sorted(drift) == [("author.avatar", "x"), ("new_field", 1)]
