"""Shape raw Intercom records to their stream schema, and notice what the schema does not take.

Conversions (the only ways a value changes): unix seconds → ISO 8601 in `date-time`
properties, numbers → strings in ids, 0/1 → booleans in boolean properties. Nothing is
dropped: a property the schema lacks, or a value of a type it does not accept, is reported to
`on_drift(path, value)` and left as it is; the stream then widens its schema (`widening.py`)
and passes the record again (every conversion is idempotent).

This replaces the SDK's own type conformance (the streams set it to NONE): the pass is
compiled once per schema, and a record costs one look-up and one class test per field.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from .widening import ID_NAME, ITEMS, Path, item_name, types_of

Transform = Callable[[Any], Any]
OnDrift = Callable[[Path, Any], None]  # told the path and value the schema does not take
NoneType = type(None)


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
    return value


def as_string(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def as_boolean(value: Any) -> Any:
    return value != 0


# The accepted classes of an untyped schema: every class a JSON value decodes to.
ANYTHING = frozenset({dict, list, str, int, float, bool, NoneType})

# (classes that pass unchanged, converter for the other classes or None)
Plan = tuple[Any, "Transform | None"]


def compile_transform(schema: dict, on_drift: OnDrift | None = None) -> Transform:
    """A function that conforms a record (a dict) to `schema` in place and returns it."""
    report = on_drift or (lambda path, value: None)
    accept, convert = _plan(schema, (), "", report)
    if convert is None:
        return lambda record: record
    return convert


def _plan(schema: dict, path: Path, name: str, on_drift: OnDrift) -> Plan:
    if "type" not in schema:
        return ANYTHING, None
    types = types_of(schema)
    accept: set[type] = {NoneType} if "null" in types else set()
    converters: dict[type, Transform] = {}
    if "object" in types:
        if schema.get("properties"):
            converters[dict] = _object_transform(schema["properties"], path, on_drift)
        else:
            accept.add(dict)  # open: any keys
    if "array" in types:
        items = schema.get("items")
        if isinstance(items, dict) and "type" in items:
            converters[list] = _array_transform(items, path, name, on_drift)
        else:
            accept.add(list)
    if "string" in types:
        if schema.get("format") == "date-time":
            converters[int] = converters[float] = converters[str] = iso_utc
        else:
            accept.add(str)
            if ID_NAME.search(name):
                converters[int] = converters[float] = as_string
    if "integer" in types:
        accept.add(int)
        converters.pop(int, None)
    if "number" in types:
        accept |= {int, float}
        converters.pop(int, None)
        converters.pop(float, None)
    if "boolean" in types:
        accept.add(bool)
        for kind in (int, float):
            if kind not in accept and kind not in converters:
                converters[kind] = as_boolean
    accepted = frozenset(accept)
    if not converters:
        def drift(value: Any) -> Any:
            on_drift(path, value)
            return value
        return accepted, drift

    if len(converters) == 1:  # the common case (an object, a list, a date): one class to convert
        ((kind, only),) = converters.items()
        if only is not as_boolean:
            def convert_one(value: Any) -> Any:
                if value.__class__ is kind:
                    return only(value)
                on_drift(path, value)
                return value
            return accepted, convert_one

    def convert(value: Any) -> Any:
        converter = converters.get(value.__class__)
        if converter is None or (converter is as_boolean and value not in (0, 1)):
            on_drift(path, value)
            return value
        return converter(value)

    return accepted, convert


def _object_transform(properties: dict, path: Path, on_drift: OnDrift) -> Transform:
    plans = {name: _plan(sub, (*path, name), name, on_drift) for name, sub in properties.items()}
    accepted_of = {name: plan[0] for name, plan in plans.items()}.get  # hot loop: no tuple indexing
    converter_of = {name: plan[1] for name, plan in plans.items()}

    def transform_object(value: dict) -> dict:
        for key, item in value.items():
            accepted = accepted_of(key)
            if accepted is None:
                if item is not None:  # a property seen only as null tells no type yet
                    on_drift((*path, key), item)
                continue
            if item.__class__ in accepted:
                continue
            converted = converter_of[key](item)
            if converted is not item:
                value[key] = converted  # an existing key: safe while iterating
        return value

    return transform_object


def _array_transform(items: dict, path: Path, name: str, on_drift: OnDrift) -> Transform:
    accept, convert = _plan(items, (*path, ITEMS), item_name(name), on_drift)

    def transform_array(value: list) -> list:
        for index, item in enumerate(value):
            if item.__class__ not in accept:
                converted = convert(item)
                if converted is not item:
                    value[index] = converted
        return value

    return transform_array
