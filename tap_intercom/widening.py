"""The schema of a JSON value, and how a schema widens to take a value it does not accept.

One set of rules for two users: the schema generator (the descriptions' own response
examples and the observed fields) and the tap at run time (a property Intercom starts
sending without a version bump). Schemas are in the form the tap emits:

- every type list ends with "null"; a value seen only as null gives no schema (None);
- unix seconds in a property named `…_at`, and ISO 8601 strings, are `date-time` strings;
- ids (`id`, `…_id`, the items of `…_ids`) are strings, whatever number Intercom sends;
- a value that needs one of those conversions is accepted, not a reason to widen;
- where shapes disagree, the property takes every shape in a form targets load: an object
  beside scalars is an open object (a JSON column), and an array beside anything else has
  no type at all (any JSON value); their nested properties are then left undeclared, because
  a flattened column per nested property would lose the values of the other shape.
"""

from __future__ import annotations

import re
from typing import Any

ID_NAME = re.compile(r"^id$|_id$")
IDS_NAME = re.compile(r"_ids$")
MOMENT_NAME = re.compile(r"_at$")
ISO_DATETIME = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d")

Path = tuple[str, ...]  # property names from the record's top; "[]" steps into array items
ITEMS = "[]"


def types_of(schema: dict) -> set[str]:
    kind = schema.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def nullable(*types: str) -> list[str]:
    """A type list in a fixed order: the real types sorted, then "null"."""
    return sorted(set(types) - {"null"}) + ["null"]


def is_untyped(schema: dict) -> bool:
    """No `type`: any JSON value."""
    return "type" not in schema


def item_name(name: str) -> str:
    """The name an array's items go by: the items of `tag_ids` are ids."""
    return "id" if IDS_NAME.search(name) or ID_NAME.search(name) else ""


def kind_of(value: Any) -> str:
    kind = value.__class__
    if kind is bool:
        return "boolean"
    if kind is int:
        return "integer"
    if kind is float:
        return "number"
    if kind is str:
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string"  # anything else is written as text


def infer(value: Any, name: str = "") -> dict | None:
    """The schema of `value` (the property `name`) as the tap emits it; None for null."""
    if value is None:
        return None
    kind = kind_of(value)
    if kind in ("integer", "number"):
        if ID_NAME.search(name):
            return {"type": nullable("string")}
        if MOMENT_NAME.search(name):
            return {"type": nullable("string"), "format": "date-time"}
        return {"type": nullable(kind)}
    if kind == "string":
        if ISO_DATETIME.match(value) and not ID_NAME.search(name):
            return {"type": nullable("string"), "format": "date-time"}
        return {"type": nullable("string")}
    if kind == "boolean":
        return {"type": nullable("boolean")}
    if kind == "object":
        properties = {key: schema for key, item in value.items() if (schema := infer(item, key)) is not None}
        if not properties:
            return {"type": nullable("object"), "additionalProperties": True}
        return {"type": nullable("object"), "properties": properties}
    items: dict | None = None
    for element in value:
        items = widen(items, element, item_name(name))
    return {"type": nullable("array"), "items": items} if items is not None else {"type": nullable("array")}


def accepts(schema: dict, value: Any, name: str = "") -> bool:
    """Whether a value of this kind passes `schema` as it is or after the tap's conversions
    (nested properties aside)."""
    if is_untyped(schema):
        return True
    types = types_of(schema)
    kind = kind_of(value)
    if kind in types or (kind == "integer" and "number" in types):
        return True
    if "string" in types and kind in ("integer", "number"):
        return schema.get("format") == "date-time" or bool(ID_NAME.search(name))
    if "boolean" in types and kind in ("integer", "number"):
        return value in (0, 1)  # Intercom sends some flags as 0/1
    return False


def widen(schema: dict | None, value: Any, name: str = "") -> dict | None:
    """`schema` widened to accept `value`, or `schema` itself when it already does."""
    if value is None:
        return schema
    if schema is None:
        return infer(value, name)
    if not accepts(schema, value, name):
        return union(schema, infer(value, name) or {})
    kind = kind_of(value)
    if kind == "object" and schema.get("properties"):
        properties = schema["properties"]
        wider = None
        for key, item in value.items():
            current = properties.get(key)
            widened = widen(current, item, key)
            if widened is not current:
                wider = wider if wider is not None else dict(properties)
                wider[key] = widened
        return schema if wider is None else {**schema, "properties": wider}
    if kind == "array" and isinstance(schema.get("items"), dict):
        items = schema["items"]
        for element in value:
            items = widen(items, element, item_name(name))
        return schema if items is schema["items"] else {**schema, "items": items}
    return schema


def union(first: dict, second: dict) -> dict:
    """A schema that takes what either takes, in a form a target loads (see the module doc)."""
    types = types_of(first) | types_of(second)
    if "number" in types:
        types.discard("integer")  # a number may be whole
    description = first.get("description") or second.get("description")
    out: dict[str, Any]
    if is_untyped(first) or is_untyped(second) or ("array" in types and types - {"array", "null"}):
        out = {}
    elif "object" in types and types - {"object", "null"}:
        out = {"type": nullable(*types), "additionalProperties": True}
    else:
        out = {"type": nullable(*types)}
        formats = {s.get("format") for s in (first, second) if "string" in types_of(s)}
        if len(formats) == 1 and None not in formats:
            out["format"] = formats.pop()
        if "object" in types:
            out.update(merge_objects(first, second))
        if "array" in types:
            items = [s["items"] for s in (first, second) if isinstance(s.get("items"), dict)]
            if items:
                out["items"] = items[0] if len(items) == 1 else union(*items)
    if description:
        out["description"] = description
    return out


def merge_objects(first: dict, second: dict) -> dict:
    """The properties of two object schemas together; open if either is open."""
    if not first.get("properties") or not second.get("properties"):
        if first.get("properties") or second.get("properties"):
            return {"properties": dict(first.get("properties") or second.get("properties"))}
        return {"additionalProperties": True}
    properties = dict(first["properties"])
    for key, schema in second["properties"].items():
        properties[key] = union(properties[key], schema) if key in properties else schema
    return {"properties": properties}


def widen_at(schema: dict, path: Path, value: Any, name: str = "") -> dict:
    """The record schema `schema` with the node at `path` widened to accept `value`."""
    if not path:
        return widen(schema, value, name) or schema
    head, rest = path[0], path[1:]
    if head == ITEMS:
        items = schema.get("items")
        if rest:
            widened = widen_at(items, rest, value, item_name(name)) if items else items
        else:
            widened = widen(items, value, item_name(name))
        return schema if widened is items or widened is None else {**schema, "items": widened}
    properties = schema.get("properties")
    if properties is None:
        return schema  # an open object takes any key already
    current = properties.get(head)
    if rest:
        if current is None:
            return schema
        widened = widen_at(current, rest, value, head)
    else:
        widened = widen(current, value, head)
    if widened is current or widened is None:
        return schema
    return {**schema, "properties": {**properties, head: widened}}
