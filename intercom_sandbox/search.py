"""Intercom's search query DSL (contacts, conversations, tickets search endpoints).

`parse_search_request` validates a whole search body the way Intercom does and
compiles its query once into nested closures, so that matching a record costs
only a few function calls. Records are read through an accessor,
`accessor("source.body")`, so this module knows nothing about how the sandbox
stores them.
"""

from __future__ import annotations

import datetime
import html
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Accessor = Callable[[str], Any]
Predicate = Callable[[Accessor], bool]
ElementTest = Callable[[Any], bool]

MAX_NESTING = 2  # levels of AND/OR groups
MAX_GROUP_SIZE = 15  # filters in one AND/OR group
MAX_PER_PAGE = 150

GROUP_OPERATORS = ("AND", "OR")
FILTER_OPERATORS = ("=", "!=", "IN", "NIN", ">", "<", ">=", "<=", "~", "!~", "^", "$")
RANGE_OPERATORS = frozenset({">", "<", ">=", "<="})
TEXT_OPERATORS = frozenset({"~", "!~", "^", "$"})
EQUALITY_OPERATORS = frozenset({"=", "!=", "IN", "NIN"})

OPERATORS_BY_TYPE: dict[str, frozenset[str]] = {
    "string": EQUALITY_OPERATORS | TEXT_OPERATORS,
    "integer": EQUALITY_OPERATORS | RANGE_OPERATORS,
    "float": EQUALITY_OPERATORS | RANGE_OPERATORS,
    "boolean": EQUALITY_OPERATORS,
    "date": EQUALITY_OPERATORS | RANGE_OPERATORS,
    # conversation and ticket ids: strings that also take > and < (clients page by `id > last id`)
    "ordered_string": EQUALITY_OPERATORS | RANGE_OPERATORS,
}
DAY_GRAIN_DATE_OPERATORS = frozenset({"=", ">", "<"})
TAG_FIELD = "tag_id"
TAG_OPERATORS = frozenset({"=", "!="})

# A negative operator matches exactly the records its positive twin does not
# match; on multi-valued fields that gives "no element matches".
NEGATIONS = {"!=": "=", "NIN": "IN", "!~": "~"}

SORT_ORDERS = {"ascending": False, "descending": True}

_INTEGER_TEXT = re.compile(r"[+-]?\d+")
_HTML_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\w+")


class SearchError(Exception):
    """Becomes an HTTP error answer: status, Intercom error code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def invalid(message: str) -> SearchError:
    return SearchError(400, "parameter_invalid", message)


@dataclass(frozen=True)
class SearchModel:
    name: str  # "contact" | "conversation" | "ticket"
    # dotted field path -> "string" | "integer" | "float" | "boolean" | "date"; others are unknown
    field_types: Mapping[str, str]
    default_per_page: int
    day_grain_dates: bool  # contacts: dates are matched by calendar day
    inclusive_ranges: bool  # conversations/tickets: ">" is ">=" and "<" is "<="
    timezone: datetime.tzinfo  # workspace timezone, where calendar days start
    tag_field_restricted: bool = False  # contacts: tag_id only accepts = and !=
    word_match_fields: frozenset[str] = frozenset()  # matched word by word, e.g. source.body
    multi_valued_fields: frozenset[str] = frozenset()  # the accessor returns a list


@dataclass(frozen=True)
class SearchRequest:
    predicate: Predicate
    per_page: int
    starting_after: str | None
    sort_field: str | None  # None when the body has no sort
    descending: bool
    fields_used: frozenset[str]  # every field path the query reads


# Request body ----------------------------------------------------------------------------------


def parse_search_request(body: Any, model: SearchModel) -> SearchRequest:
    """Validate a whole search body (raises SearchError) and compile its query."""
    if not isinstance(body, Mapping):
        raise invalid("The search body must be a JSON object")
    if body.get("query") is None:
        raise SearchError(400, "parameter_not_found", "query parameter is required")
    fields_used: set[str] = set()
    predicate = _compile_node(body["query"], model, 0, fields_used)
    per_page, starting_after = _parse_pagination(body.get("pagination"), model)
    sort_field, descending = _parse_sort(body.get("sort"), model)
    return SearchRequest(predicate, per_page, starting_after, sort_field, descending, frozenset(fields_used))


def _parse_pagination(pagination: Any, model: SearchModel) -> tuple[int, str | None]:
    if pagination is None:
        return model.default_per_page, None
    if not isinstance(pagination, Mapping):
        raise invalid("pagination must be an object with per_page and starting_after")
    per_page = pagination.get("per_page")
    if per_page is None:
        per_page = model.default_per_page
    elif not _is_int(per_page):
        raise invalid(f"per_page must be an integer, got {per_page!r}")
    elif not 1 <= per_page <= MAX_PER_PAGE:
        raise invalid(f"per_page must be between 1 and {MAX_PER_PAGE}, got {per_page}")
    starting_after = pagination.get("starting_after")
    if starting_after is not None and not isinstance(starting_after, str):
        raise invalid(f"starting_after must be a string cursor, got {starting_after!r}")
    return per_page, starting_after or None


def _parse_sort(sort: Any, model: SearchModel) -> tuple[str | None, bool]:
    """(sort field, descending); the order defaults to descending, sorted or not."""
    if sort is None:
        return None, True
    if not isinstance(sort, Mapping):
        raise invalid("sort must be an object with field and order")
    order = sort.get("order")
    if order is None:
        order = "descending"
    if not isinstance(order, str) or order not in SORT_ORDERS:
        raise SearchError(400, "invalid_sort_order",
                          f"Sort order must be 'ascending' or 'descending', got {order!r}")
    sort_field = sort.get("field")
    if not isinstance(sort_field, str) or not sort_field:
        raise invalid("sort.field must name the field to sort on")
    if sort_field not in model.field_types:
        raise invalid(f"Cannot sort on unknown field '{sort_field}'")
    if sort_field in model.multi_valued_fields or sort_field in model.word_match_fields:
        raise invalid(f"Cannot sort on field '{sort_field}': it holds several values")
    return sort_field, SORT_ORDERS[order]


# Query -----------------------------------------------------------------------------------------


def compile_query(query: Any, model: SearchModel) -> Predicate:
    """Validate a query (raises SearchError 400) and compile it into a predicate over accessors."""
    if query is None:
        raise SearchError(400, "parameter_not_found", "query parameter is required")
    return _compile_node(query, model, 0, set())


def _compile_node(node: Any, model: SearchModel, depth: int, fields_used: set[str]) -> Predicate:
    """`depth` counts the AND/OR groups around `node`."""
    if not isinstance(node, Mapping):
        raise invalid(f"A filter must be an object, got {node!r}")
    if node.get("operator") in GROUP_OPERATORS:
        return _compile_group(node, model, depth, fields_used)
    return _compile_filter(node, model, fields_used)


def _compile_group(node: Mapping, model: SearchModel, depth: int, fields_used: set[str]) -> Predicate:
    operator = node["operator"]
    if depth >= MAX_NESTING:
        raise invalid(f"Too many nested filters: at most {MAX_NESTING} levels")
    if "field" in node:
        raise invalid(f"A filter group ('{operator}') has no field; put its filters in 'value'")
    members = node.get("value")
    if not isinstance(members, list):
        raise invalid(f"A filter group ('{operator}') needs a list of filters in 'value'")
    if not members:
        raise invalid(f"A filter group ('{operator}') must contain at least one filter")
    if len(members) > MAX_GROUP_SIZE:
        raise invalid(f"A filter group accepts at most {MAX_GROUP_SIZE} filters, got {len(members)}")
    predicates = tuple(_compile_node(member, model, depth + 1, fields_used) for member in members)
    if len(predicates) == 1:
        return predicates[0]
    if operator == "AND":
        def matches_all(get: Accessor) -> bool:
            for predicate in predicates:
                if not predicate(get):
                    return False
            return True
        return matches_all

    def matches_any(get: Accessor) -> bool:
        for predicate in predicates:
            if predicate(get):
                return True
        return False
    return matches_any


def _compile_filter(node: Mapping, model: SearchModel, fields_used: set[str]) -> Predicate:
    field = node.get("field")
    operator = node.get("operator")
    if operator not in FILTER_OPERATORS:
        expected = ", ".join(f"'{o}'" for o in (*FILTER_OPERATORS, *GROUP_OPERATORS))
        raise invalid(f"Unknown operator {operator!r}; expected one of {expected}")
    if not isinstance(field, str) or not field:
        raise invalid(f"A filter needs a 'field' string, got {node!r}")
    if "value" not in node:
        raise invalid(f"The filter on field '{field}' has no 'value'")
    field_type = model.field_types.get(field)
    if field_type is None:
        raise invalid(f"Unknown search field '{field}' for {model.name}s")
    if field_type not in OPERATORS_BY_TYPE:
        raise ValueError(f"search model {model.name}: field {field} has unsupported type {field_type!r}")
    _check_operator(field, field_type, operator, model)
    value = node["value"]
    fields_used.add(field)

    positive = NEGATIONS.get(operator, operator)
    if value is None:
        if positive != "=":
            raise invalid(f"Operator '{operator}' on field '{field}' needs a value, got null")
        matches = _missing_matcher(field, model)
    else:
        test = _element_test(field, field_type, operator, value, model)
        matches = _field_matcher(field, model, test)
    if operator not in NEGATIONS:
        return matches
    return lambda get: not matches(get)


def _check_operator(field: str, field_type: str, operator: str, model: SearchModel) -> None:
    if model.tag_field_restricted and field == TAG_FIELD:
        if operator not in TAG_OPERATORS:
            raise invalid(f"Operator '{operator}' is not supported on field '{field}': only '=' and '!=' are")
        return
    if field_type == "date" and model.day_grain_dates:
        if operator not in DAY_GRAIN_DATE_OPERATORS:
            raise invalid(f"Operator '{operator}' is not supported on date field '{field}'")
        return
    if operator not in OPERATORS_BY_TYPE[field_type]:
        raise invalid(f"Operator '{operator}' is not supported on {field_type} field '{field}'")


# Reading a field of a record -------------------------------------------------------------------


def _field_matcher(field: str, model: SearchModel, test: ElementTest) -> Predicate:
    """A predicate true when the field's value, or any one of its values, passes `test`."""
    if field in model.word_match_fields:
        def any_word(get: Accessor) -> bool:
            return any(map(test, words_of(get(field))))
        return any_word
    if field in model.multi_valued_fields:
        def any_element(get: Accessor) -> bool:
            return any(map(test, _elements(get(field))))
        return any_element

    def scalar(get: Accessor) -> bool:
        value = get(field)
        return value is not None and test(value)
    return scalar


def _missing_matcher(field: str, model: SearchModel) -> Predicate:
    """`field = null`: the record has no value (an empty list counts as none)."""
    if field in model.word_match_fields:
        return lambda get: not words_of(get(field))
    if field in model.multi_valued_fields:
        return lambda get: not _elements(get(field))
    return lambda get: get(field) is None


def _elements(value: Any) -> list | tuple:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return [v for v in value if v is not None] if None in value else value
    return (value,)  # an accessor that gave a lone value for a multi-valued field


def words_of(text: Any) -> set[str]:
    """The lower-cased words of a text field; HTML tags are markup, not words."""
    if not text:
        return set()
    if not isinstance(text, str):
        text = str(text)
    if "<" in text:
        text = _HTML_TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return set(_WORD.findall(text.lower()))


# Testing one value -----------------------------------------------------------------------------


def _element_test(field: str, field_type: str, query_operator: str, value: Any,
                  model: SearchModel) -> ElementTest:
    """A test of one non-null record value for the positive form of the operator.

    Negative operators (!=, NIN, !~) get the test of their positive twin; the caller negates.
    """
    if field_type == "ordered_string":  # compared as text ("" is before every id)
        if isinstance(value, (list, bool)) or value is None:
            raise invalid(f"Field '{field}' expects a string, got {value!r}")
        wanted_id = str(value)
        operator = NEGATIONS.get(query_operator, query_operator)
        if model.inclusive_ranges and operator in (">", "<"):
            operator += "="
        compare = {"=": str.__eq__, ">": str.__gt__, ">=": str.__ge__, "<": str.__lt__, "<=": str.__le__}[operator]
        return lambda v: compare(str(v), wanted_id)
    operator = NEGATIONS.get(query_operator, query_operator)
    if operator == "IN":
        if not isinstance(value, list):
            raise invalid(f"Operator '{query_operator}' on field '{field}' needs an array value, got {value!r}")
        wanted = [_query_value(field, field_type, item) for item in value]
        if field_type == "string":
            wanted_text = frozenset(w.lower() for w in wanted)
            return lambda v: _text(v) in wanted_text
        wanted_set = frozenset(wanted)
        return lambda v: v in wanted_set
    if isinstance(value, list):
        raise invalid(f"Operator '{query_operator}' on field '{field}' takes a single value, not an array; "
                      "use 'IN' or 'NIN' for a list")
    wanted = _query_value(field, field_type, value)

    if field_type == "string":
        needle = wanted.lower()
        if operator == "=":
            return lambda v: _text(v) == needle
        if operator == "~":
            return lambda v: needle in _text(v)
        if operator == "^":
            return lambda v: _text(v).startswith(needle)
        if operator == "$":
            return lambda v: _text(v).endswith(needle)
    elif field_type == "date" and model.day_grain_dates:
        return _day_test(operator, wanted, model.timezone)
    else:
        if operator == "=":
            return lambda v: v == wanted
        if model.inclusive_ranges and operator in (">", "<"):
            operator += "="  # documented as "Greater (or equal) than", "Lower (or equal) than"
        if operator == ">":
            return lambda v: v > wanted
        if operator == ">=":
            return lambda v: v >= wanted
        if operator == "<":
            return lambda v: v < wanted
        if operator == "<=":
            return lambda v: v <= wanted
    raise AssertionError(f"operator {operator} passed validation for a {field_type} field")


def _day_test(operator: str, timestamp: int, timezone: datetime.tzinfo) -> ElementTest:
    """Contact dates: the query value stands for its whole calendar day in the workspace timezone."""
    day_start, next_day_start = day_bounds(timestamp, timezone)
    if operator == "=":
        return lambda v: day_start <= v < next_day_start
    if operator == ">":
        return lambda v: v >= next_day_start
    return lambda v: v < day_start  # "<"


def day_bounds(timestamp: int, timezone: datetime.tzinfo) -> tuple[int, int]:
    """Unix seconds at the start of the timestamp's day and of the next day, in `timezone`."""
    day = datetime.datetime.fromtimestamp(timestamp, timezone).date()
    following = day + datetime.timedelta(days=1)
    # Built from the calendar date, not start + 86400: days around DST changes are 23 or 25 hours.
    start = datetime.datetime(day.year, day.month, day.day, tzinfo=timezone)
    end = datetime.datetime(following.year, following.month, following.day, tzinfo=timezone)
    return int(start.timestamp()), int(end.timestamp())


def _text(value: Any) -> str:
    return value.lower() if isinstance(value, str) else str(value).lower()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _query_value(field: str, field_type: str, value: Any) -> Any:
    """The query's value checked against the field type, numbers given as text turned into numbers."""
    if field_type == "string":
        if isinstance(value, str):
            return value
        raise invalid(f"Field '{field}' expects a string, got {value!r}")
    if field_type == "boolean":
        if isinstance(value, bool):
            return value
        raise invalid(f"Field '{field}' expects a boolean, got {value!r}")
    if field_type in ("integer", "date"):
        if _is_int(value):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)  # clients send 1577869200.0 (singer-io does) and Intercom takes it
        if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
            return int(value)  # Intercom takes "1577869200" for a date
        expected = "a date (unix timestamp in seconds)" if field_type == "date" else "an integer"
        raise invalid(f"Field '{field}' expects {expected}, got {value!r}")
    # float
    number = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
    if (_is_int(number) or isinstance(number, float)) and math.isfinite(number):
        return number
    raise invalid(f"Field '{field}' expects a number, got {value!r}")
