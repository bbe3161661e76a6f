"""Shape raw Intercom records to their stream schema: unix seconds → ISO 8601, ids → strings,
booleans sent as 0/1 → booleans, properties the schema does not know → dropped (and named once).

This replaces the SDK's own type conformance (the streams set it to NONE): the plan is compiled
once per schema, so a record costs one walk over the fields that can need changing, and a
nested object whose keys are all known is checked with one set comparison.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

Transform = Callable[[Any], Any]
Unmapped = Callable[[str], None]  # told the dotted path of a property the schema lacks


@lru_cache(maxsize=1 << 16)  # a record's timestamps repeat (created, updated, its parts')
def _iso_from_seconds(value: int | float) -> str:
    if value > 100_000_000_000:  # milliseconds slip into a few fields
        value = value / 1000
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))


def iso_utc(value: Any) -> Any:
    """Unix seconds (int, float or digit string) → '2024-01-31T12:00:00Z'; other values unchanged."""
    kind = value.__class__
    if kind is int or kind is float:
        return _iso_from_seconds(value)
    if kind is str and value.isdigit():
        return _iso_from_seconds(int(value))
    return value  # None, a date string already, or something to leave to the schema check


def as_string(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) if isinstance(value, (int, float)) else value


def as_boolean(value: Any) -> Any:
    return value != 0 if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _types(schema: dict) -> set[str]:
    kind = schema.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


# The schema generator turns ids into strings whatever number type the description gives them;
# every other string property is a string in Intercom's answers already.
ID_NAME = re.compile(r"^id$|_ids?$")


def compile_transform(schema: dict, on_unmapped: Unmapped | None = None, path: str = "",
                      name: str = "") -> Transform | None:
    """A function that conforms a value to `schema` (the property `name`), or None when nothing
    needs changing."""
    types = _types(schema)
    if "string" in types and schema.get("format") == "date-time":
        return iso_utc
    if "object" in types and "properties" in schema:
        return _object_transform(schema, on_unmapped, path)
    if "array" in types and isinstance(schema.get("items"), dict):
        conform_item = compile_transform(schema["items"], on_unmapped, path, name)
        if conform_item is None:
            return None

        def transform_array(value: Any) -> Any:
            return [conform_item(v) for v in value] if isinstance(value, list) else value

        return transform_array
    if types <= {"string", "null"} and "string" in types:
        return as_string if ID_NAME.search(name) else None
    if types <= {"boolean", "null"} and "boolean" in types:
        return as_boolean
    return None


def _object_transform(schema: dict, on_unmapped: Unmapped | None, path: str) -> Transform | None:
    properties = schema["properties"]
    fields = {name: f for name, sub in properties.items()
              if (f := compile_transform(sub, on_unmapped, f"{path}{name}.", name))}
    if schema.get("additionalProperties"):  # open: every key stays
        known = None
        if not fields:
            return None
    else:
        known = frozenset(properties)
    # Most fields are strings that already are strings: test those inline, call only for the rest.
    strings = tuple(name for name, f in fields.items() if f is as_string)
    others = tuple((name, f) for name, f in fields.items() if f is not as_string)

    def transform_object(value: Any) -> Any:
        if value.__class__ is not dict:
            return value
        if known is not None and not value.keys() <= known:
            for name in [name for name in value if name not in known]:
                del value[name]
                if on_unmapped is not None:
                    on_unmapped(path + name)
        for name in strings:
            item = value.get(name)
            if item is not None and item.__class__ is not str:
                value[name] = as_string(item)
        for name, conform in others:
            if name in value:
                value[name] = conform(value[name])
        return value

    return transform_object
