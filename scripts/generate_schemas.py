"""Generate the tap's stream schemas (`schemas/*.json`) from Intercom's OpenAPI description.

    python scripts/generate_schemas.py [--spec PATH] [--version 2.16] [--out schemas]

A new API version is a re-run. The schemas describe what the tap emits, which is
looser than what the API documents: unix timestamps become ISO 8601 date-time strings,
ids become strings, every property but the primary key accepts null (real answers carry
nulls the description does not admit), enums and validation-only formats are dropped (a
value Intercom adds later must not break a load), and `custom_attributes` stays open.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent

# stream → (component schema, key added from the parent, properties dropped, primary key)
STREAMS: dict[str, tuple[str, str | None, tuple[str, ...], tuple[str, ...]]] = {
    # workspace
    "admins": ("admin", None, (), ("id",)),
    "teams": ("team", None, (), ("id",)),
    "tags": ("tag", None, (), ("id",)),
    "segments": ("segment", None, (), ("id",)),
    "contact_attributes": ("data_attribute", None, (), ("id",)),
    "company_attributes": ("data_attribute", None, (), ("id",)),
    "conversation_attributes": ("conversation_attribute", None, (), ("id",)),
    # people
    "contacts": ("contact", None, (), ("id",)),
    "companies": ("company", None, (), ("id",)),
    "company_segments": ("segment", "company_id", (), ("company_id", "id")),
    # conversations: the search answers list items; parts have their own stream
    "conversations": ("conversation_list_item", None, (), ("id",)),
    "conversation_parts": ("conversation_part", "conversation_id", (), ("id",)),
}

# Properties that are ids, whatever type the description gives them.
ID_NAME = re.compile(r"(^id$|_id$)")
IDS_NAME = re.compile(r"_ids$")
UNIX_TIME = re.compile(r"unix timestamp|\(unix|unix time|in seconds since", re.IGNORECASE)
# Integer properties named like moments are unix seconds even where the description is silent
# (company.updated_at says only "The last time the company was updated").
MOMENT_NAME = re.compile(r"(_at|^snoozed_until|^waiting_since)$")
MAX_DEPTH = 8


class Converter:
    def __init__(self, spec: dict) -> None:
        self.components = spec["components"]["schemas"]

    def resolve(self, schema: dict, seen: tuple[str, ...]) -> tuple[dict, tuple[str, ...]]:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            if name in seen:
                return {}, seen  # a schema that contains itself: anything goes below here
            seen = (*seen, name)
            schema = self.components[name]
        return schema, seen

    def branches(self, schema: dict, seen: tuple[str, ...]) -> list[tuple[dict, tuple[str, ...]]]:
        """oneOf/anyOf alternatives, each with its allOf parts merged."""
        found = []
        for branch in schema.get("oneOf") or schema.get("anyOf") or []:
            resolved, branch_seen = self.resolve(branch, seen)
            found.append((self.merge_all_of(resolved, branch_seen), branch_seen))
        return found

    def merge_all_of(self, schema: dict, seen: tuple[str, ...]) -> dict:
        if "allOf" not in schema:
            return schema
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        properties: dict[str, Any] = dict(schema.get("properties") or {})
        for part in schema["allOf"]:
            resolved, part_seen = self.resolve(part, seen)
            resolved = self.merge_all_of(resolved, part_seen)
            properties.update(resolved.get("properties") or {})
            for key in ("type", "description", "format", "items"):
                merged.setdefault(key, resolved.get(key))
        if properties:
            merged["properties"] = properties
            merged["type"] = "object"
        return {k: v for k, v in merged.items() if v is not None}

    def convert(self, schema: dict, name: str = "", depth: int = 0, seen: tuple[str, ...] = ()) -> dict:
        schema, seen = self.resolve(schema, seen)
        schema = self.merge_all_of(schema, seen)
        if depth > MAX_DEPTH or not schema and name != "custom_attributes":
            return {}
        description = first_sentence(schema.get("description"))
        out: dict[str, Any]
        if "oneOf" in schema or "anyOf" in schema:
            out = self.convert_alternatives(schema, name, depth, seen)
        elif name == "custom_attributes" or (schema.get("type") == "object" and not schema.get("properties")):
            out = {"type": ["object", "null"], "additionalProperties": True}
        elif schema.get("type") == "object" or "properties" in schema:
            out = {"type": ["object", "null"], "properties": {
                key: self.convert(value, key, depth + 1, seen)
                for key, value in sorted((schema.get("properties") or {}).items())}}
        elif schema.get("type") == "array":
            item_name = "id" if IDS_NAME.search(name) else ""
            out = {"type": ["array", "null"], "items": self.convert(schema.get("items") or {}, item_name,
                                                                    depth + 1, seen)}
        else:
            out = self.convert_scalar(schema, name)
        if description and out:
            out["description"] = description
        return out

    def convert_alternatives(self, schema: dict, name: str, depth: int, seen: tuple[str, ...]) -> dict:
        branches = self.branches(schema, seen)
        objects = [b for b, _ in branches if b.get("type") == "object" or "properties" in b]
        if objects and len(objects) == len(branches):
            properties: dict[str, Any] = {}
            for branch in objects:
                for key, value in (branch.get("properties") or {}).items():
                    properties.setdefault(key, value)
            return self.convert({"type": "object", "properties": properties}, name, depth, seen)
        if objects:
            return {}  # an object or a scalar: a target can only keep it as it comes
        types: set[str] = set()
        for branch, _ in branches:
            types.update(self.convert_scalar(branch, name).get("type", []))
        return {"type": sorted(types - {"null"}) + ["null"]} if types else {}

    def convert_scalar(self, schema: dict, name: str) -> dict:
        kind = schema.get("type")
        if ID_NAME.search(name) and kind in ("integer", "string", "number", None):
            return {"type": ["string", "null"]}
        if kind == "integer" and (schema.get("format") in ("date-time", "timestamp") or MOMENT_NAME.search(name)
                                  or UNIX_TIME.search(schema.get("description") or "")):
            return {"type": ["string", "null"], "format": "date-time"}
        if kind == "string":
            fmt = schema.get("format")
            return {"type": ["string", "null"], **({"format": fmt} if fmt in ("date-time", "date") else {})}
        if kind in ("integer", "number", "boolean"):
            return {"type": [kind, "null"]}
        return {}


def first_sentence(text: str | None) -> str | None:
    if not text:
        return None
    text = " ".join(text.split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def stream_schema(converter: Converter, component: str, parent_key: str | None, dropped: tuple[str, ...],
                  primary_key: tuple[str, ...]) -> dict:
    schema = converter.convert({"$ref": f"#/components/schemas/{component}"})
    properties = {k: v for k, v in schema.get("properties", {}).items() if k not in dropped}
    if parent_key:
        properties[parent_key] = {"type": ["string", "null"], "description": "The id of the parent record."}
    for key in primary_key:
        properties[key] = {**properties[key], "type": "string"}
    return {"type": "object", "properties": dict(sorted(properties.items())), "required": list(primary_key)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", default="2.16")
    parser.add_argument("--spec", type=Path, help="default: ../shared/intercom-openapi/VERSION/api.intercom.io.yaml")
    parser.add_argument("--out", type=Path, default=ROOT / "schemas")
    args = parser.parse_args()
    spec_path = args.spec or ROOT.parent / "shared" / "intercom-openapi" / args.version / "api.intercom.io.yaml"
    spec = yaml.load(spec_path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    converter = Converter(spec)
    args.out.mkdir(parents=True, exist_ok=True)
    for stream, (component, parent_key, dropped, primary_key) in STREAMS.items():
        schema = stream_schema(converter, component, parent_key, dropped, primary_key)
        (args.out / f"{stream}.json").write_text(json.dumps(schema, indent=2, sort_keys=True,
                                                            ensure_ascii=False) + "\n")
        print(f"{stream:26} ← {component:24} {len(schema['properties']):3} properties, key {list(primary_key)}")


if __name__ == "__main__":
    main()
