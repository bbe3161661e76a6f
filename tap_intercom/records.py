"""Shape raw Intercom records to their stream schema: unix seconds → ISO 8601, ids → strings.

The plan is compiled once per schema, so a record costs one walk over the fields the
schema says need changing, not over the whole record.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

Transform = Callable[[Any], Any]


def iso_utc(value: Any) -> Any:
    """Unix seconds (int, float or digit string) → '2024-01-31T12:00:00Z'; other values unchanged."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        if not value.isdigit():
            return value  # already a date string
        value = int(value)
    if isinstance(value, (int, float)):
        if value > 100_000_000_000:  # milliseconds slip into a few fields
            value = value / 1000
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))
    return value


def as_string(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) if isinstance(value, (int, float)) else value


def _types(schema: dict) -> set[str]:
    kind = schema.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def compile_transform(schema: dict) -> Transform | None:
    """A function that conforms a value to `schema`, or None when nothing needs changing."""
    types = _types(schema)
    if "string" in types and schema.get("format") == "date-time":
        return iso_utc
    if types & {"object"} and schema.get("properties"):
        fields = {name: f for name, sub in schema["properties"].items() if (f := compile_transform(sub))}
        if not fields:
            return None
        items = tuple(fields.items())

        def transform_object(value: Any) -> Any:
            if isinstance(value, dict):
                for name, conform in items:
                    if name in value:
                        value[name] = conform(value[name])
            return value

        return transform_object
    if "array" in types and isinstance(schema.get("items"), dict):
        conform_item = compile_transform(schema["items"])
        if conform_item is None:
            return None

        def transform_array(value: Any) -> Any:
            return [conform_item(v) for v in value] if isinstance(value, list) else value

        return transform_array
    if types == {"string"} or types == {"string", "null"}:
        return as_string
    return None
