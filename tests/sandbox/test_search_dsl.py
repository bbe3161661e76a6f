"""The search query DSL on its own: validation and matching, with hand-computed answers."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from intercom_sandbox.search import (
    SearchError,
    SearchModel,
    compile_query,
    day_bounds,
    parse_search_request,
)

UTC = datetime.timezone.utc
NEW_YORK = ZoneInfo("America/New_York")

CONTACT_FIELDS = {
    "id": "string", "name": "string", "email": "string", "role": "string", "location.city": "string",
    "created_at": "date", "updated_at": "date", "last_seen_at": "date",
    "tag_id": "string", "segment_id": "string", "unsubscribed_from_emails": "boolean",
    "custom_attributes.seats": "integer", "custom_attributes.score": "float",
}
CONVERSATION_FIELDS = {
    "id": "string", "created_at": "date", "updated_at": "date", "state": "string", "open": "boolean",
    "source.body": "string", "statistics.count_reopens": "integer", "tag_ids": "string", "contact_ids": "string",
}


def contact_model(timezone: datetime.tzinfo = UTC) -> SearchModel:
    return SearchModel(
        name="contact", field_types=CONTACT_FIELDS, default_per_page=50, day_grain_dates=True,
        inclusive_ranges=False, timezone=timezone, tag_field_restricted=True,
        multi_valued_fields=frozenset({"tag_id", "segment_id"}),
    )


def conversation_model(name: str = "conversation") -> SearchModel:
    return SearchModel(
        name=name, field_types=CONVERSATION_FIELDS, default_per_page=20, day_grain_dates=False,
        inclusive_ranges=True, timezone=UTC, word_match_fields=frozenset({"source.body"}),
        multi_valued_fields=frozenset({"tag_ids", "contact_ids"}),
    )


CONTACTS = [
    {"id": "c1", "name": "Ada Lovelace", "email": "ada@Example.com", "role": "user", "tag_id": ["t1", "t2"],
     "segment_id": [], "unsubscribed_from_emails": False, "custom_attributes": {"seats": 5, "score": 1.5},
     "location": {"city": "London"}},
    {"id": "c2", "name": "Grace Hopper", "email": "grace@navy.mil", "role": "lead", "tag_id": ["t2"],
     "segment_id": ["s1"], "unsubscribed_from_emails": True, "custom_attributes": {"seats": 10, "score": 2.5},
     "location": {"city": "New York"}},
    {"id": "c3", "name": "Alan Turing", "email": "alan@example.com", "role": "user", "tag_id": [],
     "segment_id": ["s1", "s2"], "unsubscribed_from_emails": False, "custom_attributes": {"seats": 15},
     "location": {"city": "Manchester"}},
    {"id": "c4", "name": None, "email": "anon@example.org", "role": "lead", "tag_id": ["t3"],
     "segment_id": ["s2"], "custom_attributes": {}, "location": {}},
    {"id": "c5", "name": "Edsger Dijkstra", "email": None, "role": "user", "tag_id": None,
     "segment_id": [], "unsubscribed_from_emails": False, "custom_attributes": {"seats": 10}},
    {"id": "c6", "name": "Barbara Liskov", "email": "barbara@MIT.edu", "role": "user", "tag_id": ["t1"],
     "segment_id": None, "unsubscribed_from_emails": True, "custom_attributes": {"seats": 20}},
]

# 2020-01-01 00:00 UTC is 1577836800; New York is UTC-5 in January.
DATED_CONTACTS = [
    {"id": "d1", "created_at": 1577836799},  # 2019-12-31 23:59:59 UTC = Dec 31 18:59:59 NY
    {"id": "d2", "created_at": 1577836800},  # 2020-01-01 00:00 UTC   = Dec 31 19:00 NY
    {"id": "d3", "created_at": 1577869200},  # 2020-01-01 09:00 UTC   = Jan 1 04:00 NY
    {"id": "d4", "created_at": 1577923199},  # 2020-01-01 23:59:59 UTC = Jan 1 18:59:59 NY
    {"id": "d5", "created_at": 1577923200},  # 2020-01-02 00:00 UTC   = Jan 1 19:00 NY
    {"id": "d6", "created_at": 1577934000},  # 2020-01-02 03:00 UTC   = Jan 1 22:00 NY
    {"id": "d7", "created_at": 1577941200},  # 2020-01-02 05:00 UTC   = Jan 2 00:00 NY
    {"id": "d8", "created_at": None},
]
JAN_1_9AM_UTC = 1577869200
JAN_2_3AM_UTC = 1577934000

CONVERSATIONS = [
    {"id": "v1", "created_at": 1000, "updated_at": 2000, "state": "open", "open": True,
     "source": {"body": "<p>I need support</p>"}, "statistics": {"count_reopens": 0},
     "tag_ids": ["t1"], "contact_ids": ["c1", "c2"]},
    {"id": "v2", "created_at": 1500, "updated_at": 2500, "state": "closed", "open": False,
     "source": {"body": "Supporting docs, please!"}, "statistics": {"count_reopens": 2},
     "tag_ids": [], "contact_ids": ["c2"]},
    {"id": "v3", "created_at": 2000, "updated_at": 3000, "state": "snoozed", "open": True,
     "source": {"body": "SUPPORT&amp;team rocks"}, "statistics": {"count_reopens": 5},
     "tag_ids": ["t1", "t2"], "contact_ids": ["c3"]},
    {"id": "v4", "created_at": 2500, "updated_at": 3500, "state": "Open", "open": True,
     "source": {"body": None}, "statistics": {}, "tag_ids": None, "contact_ids": []},
]


def accessor(record: dict) -> Any:
    """Reads dotted paths out of nested dicts, None when a step is missing."""
    def get(path: str) -> Any:
        value: Any = record
        for key in path.split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value
    return get


def matching(query: dict, model: SearchModel, records: list[dict]) -> set[str]:
    predicate = compile_query(query, model)
    return {r["id"] for r in records if predicate(accessor(r))}


def contacts(query: dict) -> set[str]:
    return matching(query, contact_model(), CONTACTS)


def conversations(query: dict) -> set[str]:
    return matching(query, conversation_model(), CONVERSATIONS)


def f(field: str, operator: str, value: Any) -> dict:
    return {"field": field, "operator": operator, "value": value}


def rejected(query: Any, model: SearchModel | None = None) -> SearchError:
    with pytest.raises(SearchError) as caught:
        compile_query(query, model or contact_model())
    assert caught.value.status == 400
    assert caught.value.code == "parameter_invalid"
    return caught.value


# String fields --------------------------------------------------------------------------------


@pytest.mark.parametrize("operator, value, expected", [
    ("=", "grace hopper", {"c2"}),
    ("!=", "Grace Hopper", {"c1", "c3", "c4", "c5", "c6"}),  # c4 has no name: it is not Grace Hopper
    ("IN", ["ada lovelace", "ALAN TURING", "nobody"], {"c1", "c3"}),
    ("NIN", ["Ada Lovelace", "Alan Turing"], {"c2", "c4", "c5", "c6"}),
    ("~", "RA", {"c2", "c5", "c6"}),
    ("!~", "ra", {"c1", "c3", "c4"}),
    ("^", "A", {"c1", "c3"}),
    ("$", "ER", {"c2"}),
    ("=", None, {"c4"}),
    ("!=", None, {"c1", "c2", "c3", "c5", "c6"}),
])
def test_string_operators_are_case_insensitive(operator, value, expected):
    assert contacts(f("name", operator, value)) == expected


def test_string_operators_on_nested_fields():
    assert contacts(f("email", "~", "example")) == {"c1", "c3", "c4"}
    assert contacts(f("email", "$", ".COM")) == {"c1", "c3"}
    assert contacts(f("location.city", "=", "new york")) == {"c2"}
    assert contacts(f("location.city", "=", None)) == {"c4", "c5", "c6"}


# Numbers and booleans -------------------------------------------------------------------------


@pytest.mark.parametrize("operator, value, expected", [
    ("=", 10, {"c2", "c5"}),
    ("=", "10", {"c2", "c5"}),  # a number given as text
    ("!=", 10, {"c1", "c3", "c4", "c6"}),
    (">", 10, {"c3", "c6"}),  # strict on contacts
    (">=", 10, {"c2", "c3", "c5", "c6"}),
    ("<", 10, {"c1"}),
    ("<=", 10, {"c1", "c2", "c5"}),
    ("IN", [5, 15], {"c1", "c3"}),
    ("NIN", [5, 15], {"c2", "c4", "c5", "c6"}),
])
def test_integer_operators_on_contacts(operator, value, expected):
    assert contacts(f("custom_attributes.seats", operator, value)) == expected


def test_float_and_boolean_fields():
    assert contacts(f("custom_attributes.score", ">", 2)) == {"c2"}
    assert contacts(f("custom_attributes.score", "<=", 1.5)) == {"c1"}
    assert contacts(f("unsubscribed_from_emails", "=", True)) == {"c2", "c6"}
    assert contacts(f("unsubscribed_from_emails", "!=", True)) == {"c1", "c3", "c4", "c5"}
    assert contacts(f("unsubscribed_from_emails", "IN", [True])) == {"c2", "c6"}


# Multi-valued fields --------------------------------------------------------------------------


@pytest.mark.parametrize("operator, value, expected", [
    ("=", "t1", {"c1", "c6"}),
    ("!=", "t1", {"c2", "c3", "c4", "c5"}),
    ("=", "T2", {"c1", "c2"}),
    ("!=", "t2", {"c3", "c4", "c5", "c6"}),
    ("=", None, {"c3", "c5"}),  # an empty list and a missing list both count as no tag
    ("!=", None, {"c1", "c2", "c4", "c6"}),
])
def test_tag_id_matches_any_element(operator, value, expected):
    assert contacts(f("tag_id", operator, value)) == expected


def test_other_multi_valued_fields_take_every_operator():
    assert contacts(f("segment_id", "IN", ["s2", "s9"])) == {"c3", "c4"}
    assert contacts(f("segment_id", "NIN", ["s1"])) == {"c1", "c4", "c5", "c6"}
    assert contacts(f("segment_id", "^", "s")) == {"c2", "c3", "c4"}
    assert contacts(f("segment_id", "!~", "2")) == {"c1", "c2", "c5", "c6"}
    assert conversations(f("tag_ids", "=", "t1")) == {"v1", "v3"}
    assert conversations(f("tag_ids", "!=", "t1")) == {"v2", "v4"}
    assert conversations(f("tag_ids", "IN", ["t2", "t9"])) == {"v3"}
    assert conversations(f("tag_ids", "NIN", ["t2"])) == {"v1", "v2", "v4"}
    assert conversations(f("contact_ids", "=", "c2")) == {"v1", "v2"}
    assert conversations(f("contact_ids", "$", "3")) == {"v3"}


@pytest.mark.parametrize("operator", ["IN", "NIN", "~", "!~", "^", "$", ">"])
def test_contact_tag_id_takes_only_equality(operator):
    value = ["t1"] if operator in ("IN", "NIN") else "t1"
    error = rejected(f("tag_id", operator, value))
    assert error.message == f"Operator '{operator}' is not supported on field 'tag_id': only '=' and '!=' are"


def test_tag_restriction_only_applies_to_contacts():
    assert conversations(f("tag_ids", "~", "t")) == {"v1", "v3"}


# Contact dates: calendar days -----------------------------------------------------------------


@pytest.mark.parametrize("operator, expected", [
    ("=", {"d2", "d3", "d4"}),  # the whole of Jan 1
    (">", {"d5", "d6", "d7"}),  # from Jan 2 00:00, not from 09:00
    ("<", {"d1"}),  # before Jan 1 00:00
])
def test_contact_dates_match_by_utc_day(operator, expected):
    assert matching(f("created_at", operator, JAN_1_9AM_UTC), contact_model(), DATED_CONTACTS) == expected


@pytest.mark.parametrize("operator, value, expected", [
    ("=", JAN_1_9AM_UTC, {"d3", "d4", "d5", "d6"}),  # Jan 1 in New York runs 05:00 UTC to 05:00 UTC
    (">", JAN_1_9AM_UTC, {"d7"}),
    ("<", JAN_1_9AM_UTC, {"d1", "d2"}),
    ("=", JAN_2_3AM_UTC, {"d3", "d4", "d5", "d6"}),  # 03:00 UTC on Jan 2 is still Jan 1 in New York
    (">", JAN_2_3AM_UTC, {"d7"}),
])
def test_contact_dates_match_by_workspace_day(operator, value, expected):
    assert matching(f("created_at", operator, value), contact_model(NEW_YORK), DATED_CONTACTS) == expected


def test_the_same_instant_is_another_day_in_utc():
    assert matching(f("created_at", "=", JAN_2_3AM_UTC), contact_model(), DATED_CONTACTS) == {"d5", "d6", "d7"}


def test_contact_date_given_as_numeric_text_and_as_null():
    assert matching(f("created_at", "=", "1577869200"), contact_model(), DATED_CONTACTS) == {"d2", "d3", "d4"}
    assert matching(f("created_at", "=", None), contact_model(), DATED_CONTACTS) == {"d8"}


@pytest.mark.parametrize("operator", ["!=", ">=", "<=", "IN", "NIN", "~"])
def test_contact_dates_refuse_other_operators(operator):
    value = [JAN_1_9AM_UTC] if operator in ("IN", "NIN") else JAN_1_9AM_UTC
    error = rejected(f("updated_at", operator, value))
    assert error.message == f"Operator '{operator}' is not supported on date field 'updated_at'"


def test_day_bounds_follow_daylight_saving_changes():
    # 2020-03-08 in New York: starts 05:00 UTC (EST), ends 04:00 UTC the next day (EDT), 23 hours.
    assert day_bounds(1583668800, NEW_YORK) == (1583643600, 1583726400)
    assert day_bounds(1583668800, UTC) == (1583625600, 1583712000)


# Conversations and tickets: inclusive ranges to the second ------------------------------------


@pytest.mark.parametrize("operator, value, expected", [
    (">", 1500, {"v2", "v3", "v4"}),  # documented "greater (or equal)"
    (">=", 1500, {"v2", "v3", "v4"}),
    ("<", 2000, {"v1", "v2", "v3"}),  # documented "lower (or equal)"
    ("<=", 1500, {"v1", "v2"}),
    ("=", 2000, {"v3"}),  # to the second, no day grain
    ("=", 2001, set()),
    ("!=", 2000, {"v1", "v2", "v4"}),
    ("IN", [1000, 2500], {"v1", "v4"}),
    ("NIN", [1000, 2500], {"v2", "v3"}),
    (">", "1500", {"v2", "v3", "v4"}),
])
def test_conversation_dates_are_inclusive_to_the_second(operator, value, expected):
    assert conversations(f("created_at", operator, value)) == expected


def test_conversation_integers_are_inclusive_too():
    assert conversations(f("statistics.count_reopens", ">", 2)) == {"v2", "v3"}
    assert conversations(f("statistics.count_reopens", "<", 0)) == {"v1"}
    assert conversations(f("statistics.count_reopens", "=", None)) == {"v4"}


def test_tickets_behave_like_conversations():
    model = conversation_model("ticket")
    assert matching(f("updated_at", ">", 3000), model, CONVERSATIONS) == {"v3", "v4"}
    assert matching(f("state", "IN", ["open", "snoozed"]), model, CONVERSATIONS) == {"v1", "v3", "v4"}
    assert matching(f("open", "=", False), model, CONVERSATIONS) == {"v2"}


@pytest.mark.parametrize("operator, value, expected", [
    ("=", "support", {"v1", "v3"}),  # "Supporting" is another word
    ("=", "need support", set()),  # one word at a time
    ("~", "support", {"v1", "v2", "v3"}),
    ("^", "SUPP", {"v1", "v2", "v3"}),
    ("$", "ing", {"v2"}),
    ("!=", "support", {"v2", "v4"}),
    ("=", "team", {"v3"}),  # "&amp;" is punctuation between words
    ("=", "p", set()),  # HTML tags are not words
    ("IN", ["docs", "rocks"], {"v2", "v3"}),
    ("=", None, {"v4"}),
])
def test_source_body_matches_single_words(operator, value, expected):
    assert conversations(f("source.body", operator, value)) == expected


# Groups and limits ----------------------------------------------------------------------------


def test_and_or_groups():
    assert contacts({"operator": "AND", "value": [f("role", "=", "user"), f("custom_attributes.seats", ">", 5)]}) \
        == {"c3", "c5", "c6"}
    assert contacts({"operator": "OR", "value": [f("name", "^", "a"), f("tag_id", "=", "t3")]}) == {"c1", "c3", "c4"}
    assert contacts({"operator": "AND", "value": [f("role", "=", "lead")]}) == {"c2", "c4"}


def test_two_levels_of_groups_are_accepted():
    query = {"operator": "AND", "value": [
        {"operator": "OR", "value": [f("role", "=", "lead"), f("custom_attributes.seats", "=", 20)]},
        {"operator": "OR", "value": [f("email", "~", "example"), f("tag_id", "=", "t2")]},
    ]}
    assert contacts(query) == {"c2", "c4"}


def test_a_third_level_is_refused():
    query = {"operator": "AND", "value": [
        {"operator": "OR", "value": [{"operator": "AND", "value": [f("role", "=", "lead")]}]},
    ]}
    assert rejected(query).message == "Too many nested filters: at most 2 levels"


def test_fifteen_filters_per_group_but_not_sixteen():
    fifteen = {"operator": "OR", "value": [f("id", "=", f"c{n}") for n in range(1, 16)]}
    assert contacts(fifteen) == {"c1", "c2", "c3", "c4", "c5", "c6"}
    sixteen = {"operator": "OR", "value": [f("id", "=", f"c{n}") for n in range(1, 17)]}
    assert rejected(sixteen).message == "A filter group accepts at most 15 filters, got 16"
    nested = {"operator": "AND", "value": [sixteen]}
    assert "at most 15 filters" in rejected(nested).message


def test_empty_or_malformed_groups_are_refused():
    assert "at least one filter" in rejected({"operator": "AND", "value": []}).message
    assert "list of filters" in rejected({"operator": "OR", "value": f("id", "=", "c1")}).message
    assert "must be an object" in rejected({"operator": "OR", "value": ["id = c1"]}).message


def test_one_bad_filter_fails_the_whole_query_before_any_record_is_read():
    query = {"operator": "OR", "value": [f("id", "=", "c1"), f("created_at", ">=", 0)]}
    assert "'>='" in rejected(query).message


# Validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("query, message", [
    (f("favourite_colour", "=", "red"), "Unknown search field 'favourite_colour' for contacts"),
    (f("custom_attributes.unknown", "=", "x"), "Unknown search field 'custom_attributes.unknown' for contacts"),
    (f("name", "==", "x"), "Unknown operator '=='"),
    (f("name", "and", "x"), "Unknown operator 'and'"),
    (f("name", ">", "x"), "Operator '>' is not supported on string field 'name'"),
    (f("custom_attributes.seats", "~", "1"), "Operator '~' is not supported on integer field 'custom_attributes.seats'"),
    (f("unsubscribed_from_emails", ">", True), "Operator '>' is not supported on boolean field"),
    (f("name", "IN", "Ada Lovelace"), "Operator 'IN' on field 'name' needs an array value"),
    (f("name", "NIN", "Ada Lovelace"), "Operator 'NIN' on field 'name' needs an array value"),
    (f("name", "=", ["Ada Lovelace"]), "takes a single value, not an array"),
    (f("created_at", "=", "foobar"), "Field 'created_at' expects a date (unix timestamp in seconds), got 'foobar'"),
    (f("created_at", "=", 1.5), "Field 'created_at' expects a date"),
    (f("custom_attributes.seats", "=", True), "Field 'custom_attributes.seats' expects an integer, got True"),
    (f("custom_attributes.seats", "IN", [1, "two"]), "expects an integer, got 'two'"),
    (f("custom_attributes.score", "=", "much"), "Field 'custom_attributes.score' expects a number"),
    (f("name", "=", 7), "Field 'name' expects a string, got 7"),
    (f("unsubscribed_from_emails", "=", "true"), "Field 'unsubscribed_from_emails' expects a boolean"),
    (f("name", "~", None), "Operator '~' on field 'name' needs a value, got null"),
    (f("name", "IN", None), "Operator 'IN' on field 'name' needs a value, got null"),
    ({"field": "name", "operator": "="}, "has no 'value'"),
    ({"operator": "=", "value": "x"}, "needs a 'field' string"),
    ({"field": "name", "operator": "AND", "value": [f("id", "=", "c1")]}, "has no field"),
    (["not", "a", "filter"], "must be an object"),
])
def test_invalid_filters_are_refused_with_a_clear_message(query, message):
    assert message in rejected(query).message


def test_conversations_refuse_text_operators_on_dates():
    error = rejected(f("created_at", "~", "1"), conversation_model())
    assert error.message == "Operator '~' is not supported on date field 'created_at'"


# Request body: query, pagination, sort --------------------------------------------------------


def parse_error(body: Any, model: SearchModel | None = None) -> SearchError:
    with pytest.raises(SearchError) as caught:
        parse_search_request(body, model or contact_model())
    assert caught.value.status == 400
    return caught.value


def test_request_defaults_per_model():
    query = f("id", "=", "c1")
    request = parse_search_request({"query": query}, contact_model())
    assert (request.per_page, request.starting_after, request.sort_field, request.descending) == (50, None, None, True)
    assert parse_search_request({"query": query}, conversation_model()).per_page == 20
    assert parse_search_request({"query": query}, conversation_model("ticket")).per_page == 20
    assert {r["id"] for r in CONTACTS if request.predicate(accessor(r))} == {"c1"}


def test_request_with_pagination_and_sort():
    body = {"query": f("id", "=", "c1"), "pagination": {"per_page": 150, "starting_after": "WzEsMl0"},
            "sort": {"field": "updated_at", "order": "ascending"}}
    request = parse_search_request(body, contact_model())
    assert (request.per_page, request.starting_after, request.sort_field, request.descending) \
        == (150, "WzEsMl0", "updated_at", False)
    sorted_down = parse_search_request({"query": f("id", "=", "c1"), "sort": {"field": "created_at"}}, contact_model())
    assert (sorted_down.sort_field, sorted_down.descending) == ("created_at", True)


def test_fields_used_lists_every_field_read():
    query = {"operator": "AND", "value": [
        f("role", "=", "user"),
        {"operator": "OR", "value": [f("tag_id", "=", "t1"), f("custom_attributes.seats", ">", 3)]},
    ]}
    request = parse_search_request({"query": query}, contact_model())
    assert request.fields_used == frozenset({"role", "tag_id", "custom_attributes.seats"})


@pytest.mark.parametrize("body", [{}, {"query": None}, {"pagination": {"per_page": 5}}])
def test_missing_query(body):
    error = parse_error(body)
    assert (error.code, error.message) == ("parameter_not_found", "query parameter is required")


@pytest.mark.parametrize("pagination, message", [
    ({"per_page": 151}, "per_page must be between 1 and 150, got 151"),
    ({"per_page": 0}, "per_page must be between 1 and 150, got 0"),
    ({"per_page": -3}, "per_page must be between 1 and 150, got -3"),
    ({"per_page": "20"}, "per_page must be an integer, got '20'"),
    ({"per_page": True}, "per_page must be an integer, got True"),
    ({"starting_after": 42}, "starting_after must be a string cursor, got 42"),
    ([20], "pagination must be an object with per_page and starting_after"),
])
def test_invalid_pagination(pagination, message):
    error = parse_error({"query": f("id", "=", "c1"), "pagination": pagination})
    assert (error.code, error.message) == ("parameter_invalid", message)


@pytest.mark.parametrize("order", ["asc", "DESCENDING", "", 1, ["ascending"]])
def test_invalid_sort_order(order):
    error = parse_error({"query": f("id", "=", "c1"), "sort": {"field": "created_at", "order": order}})
    assert error.code == "invalid_sort_order"
    assert "'ascending' or 'descending'" in error.message


@pytest.mark.parametrize("sort, message", [
    ({"field": "shoe_size", "order": "ascending"}, "Cannot sort on unknown field 'shoe_size'"),
    ({"field": "tag_id"}, "Cannot sort on field 'tag_id': it holds several values"),
    ({"order": "ascending"}, "sort.field must name the field to sort on"),
    ("created_at", "sort must be an object with field and order"),
])
def test_invalid_sort_field(sort, message):
    error = parse_error({"query": f("id", "=", "c1"), "sort": sort})
    assert (error.code, error.message) == ("parameter_invalid", message)


def test_body_must_be_an_object():
    error = parse_error([f("id", "=", "c1")])
    assert error.code == "parameter_invalid"
