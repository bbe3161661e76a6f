"""Custom attributes typed from the workspace's own definitions, read at discovery.

The descriptions can only say that `custom_attributes` is an object: each workspace defines
its own keys. Discovery reads the definitions, one request per model, and declares one property
per attribute, so a target makes a typed column of each (with the SDK's `flattening_enabled`,
`custom_attributes__plan_tier`). The objects stay open: an attribute created after discovery
still lands, through the widening of `records.py`.

| model | definitions | data types |
|---|---|---|
| contact, company | GET /data_attributes?model=…&include_archived=true (custom ones) | string, integer, float, boolean, date |
| conversation | GET /conversations/attributes (2.16), /data_attributes?model=conversation before | string, list, integer, decimal, boolean, datetime, files, relationship |
| ticket | GET /ticket_types: every type's attributes | string, list, integer, decimal, boolean, datetime, files |

Dates arrive as unix seconds and leave as ISO 8601, like every other moment.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from .errors import ForbiddenError, NotFoundError, RequestError
from .widening import union

STRING = {"type": ["string", "null"]}
TYPES: dict[str, dict] = {
    "string": STRING,
    "list": STRING,  # the chosen option's label
    "integer": {"type": ["integer", "null"]},
    "float": {"type": ["number", "null"]},
    "decimal": {"type": ["number", "null"]},
    "boolean": {"type": ["boolean", "null"]},
    "date": {"type": ["string", "null"], "format": "date-time"},
    "datetime": {"type": ["string", "null"], "format": "date-time"},
    # files and relationships (custom object instances) carry structures: any JSON value
}
MODELS = ("contact", "company", "conversation", "ticket")


def attribute_schema(name: str, data_type: str) -> dict:
    schema = dict(TYPES.get(data_type, {}))
    schema["description"] = f"Custom attribute {name!r} ({data_type}), typed from the workspace's definition."
    return schema


def definitions(http: Any, model: str, api_version: str, logger: logging.Logger) -> dict[str, str]:
    """name → data type of the model's custom attributes; {} when the token may not read them."""
    try:
        if model in ("contact", "company"):
            return data_attributes(http, model)
        if model == "conversation":
            if version_tuple(api_version) >= (2, 16):  # /data_attributes?model=conversation is a 422 there
                answer = http.get("/conversations/attributes", {"include_archived": "true"})
                return {a["name"]: str(a.get("data_type")) for a in answer.get("data") or [] if a.get("name")}
            return data_attributes(http, "conversation")
        if model == "ticket":
            return ticket_attributes(http)
    except (ForbiddenError, NotFoundError) as exc:
        logger.warning("Custom %s attributes stay untyped: the token cannot read their definitions (%s)", model, exc)
        return {}
    except RequestError as exc:  # the workspace refuses the question: the values still land, untyped
        logger.warning("Custom %s attributes stay untyped: Intercom refused to list their definitions (%s)", model, exc)
        return {}
    raise ValueError(f"no custom attribute model {model!r}")


def data_attributes(http: Any, model: str) -> dict[str, str]:
    answer = http.get("/data_attributes", {"model": model, "include_archived": "true"})
    found = {}
    for attribute in answer.get("data") or []:
        full_name = str(attribute.get("full_name") or "")
        if attribute.get("custom") or full_name.startswith("custom_attributes."):
            found[full_name.removeprefix("custom_attributes.") or attribute.get("name")] = \
                str(attribute.get("data_type"))
    return found


def ticket_attributes(http: Any) -> dict[str, str]:
    answer = http.get("/ticket_types")
    found: dict[str, str] = {}
    for ticket_type in answer.get("data", answer.get("ticket_types")) or []:
        listing = ticket_type.get("ticket_type_attributes") or {}
        for attribute in listing.get("data", listing.get("ticket_type_attributes")) or []:
            name, data_type = attribute.get("name"), str(attribute.get("data_type"))
            if name:
                # two ticket types may give one name two types: then any value goes
                found[name] = data_type if found.get(name, data_type) == data_type else "mixed"
    return found


def typed(schema: dict, field: str, attributes: dict[str, str]) -> dict:
    """`schema` (a stream schema) with `field` declaring one property per attribute, still open."""
    if not attributes or field not in schema.get("properties", {}):
        return schema
    out = copy.deepcopy(schema)
    target = out["properties"][field]
    properties = dict(target.get("properties") or {})
    for name, data_type in sorted(attributes.items()):
        declared = attribute_schema(name, data_type)
        properties[name] = union(properties[name], declared) if name in properties else declared
    target["properties"] = properties
    target["additionalProperties"] = True
    target["type"] = ["object", "null"]
    return out


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in str(version).split("."))
