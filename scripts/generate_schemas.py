"""Generate the tap's stream schemas (`schemas/*.json`) from Intercom's OpenAPI description.

    python scripts/generate_schemas.py [SPEC] [--version 2.16] [--out schemas]

SPEC defaults to `<repo>/../shared/intercom-openapi/<version>/api.intercom.io.yaml`, so a
new API version is a re-run with `--version`.

The schemas describe what the tap emits, which is looser than what the API documents,
because a target (not the API) checks records against them:
- unix timestamps become ISO 8601 `date-time` strings (the tap converts them);
- ids become strings (the tap converts them);
- every property but the primary key accepts null (the spec's own examples carry nulls
  its schemas do not admit);
- enums and validation-only formats (uri, email, uuid) are dropped: a value Intercom adds
  in a later version must not break a load;
- `custom_attributes`, and any object without declared properties, stay open objects.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, NamedTuple

import yaml

ROOT = Path(__file__).resolve().parent.parent


class Source(NamedTuple):
    schema: str  # name in components.schemas
    parent_key: str | None  # id of the parent record, added by the tap to child/link streams
    drop: tuple[str, ...]  # properties that go to a stream of their own
    primary_key: tuple[str, ...]


# stream → where its records come from (see /work/shared/INTERCOM-API.md for the endpoints)
STREAMS: dict[str, Source] = {
    # core
    "admins": Source("admin", None, (), ("id",)),
    "teams": Source("team", None, (), ("id",)),
    "tags": Source("tag", None, (), ("id",)),
    "segments": Source("segment", None, (), ("id",)),
    # data attributes have an id only when they are custom; `name` repeats (`name` and
    # `plan.name` are both "name"), `full_name` does not
    "company_attributes": Source("data_attribute", None, (), ("model", "full_name")),
    "contact_attributes": Source("data_attribute", None, (), ("model", "full_name")),
    "conversation_attributes": Source("conversation_attribute", None, (), ("id",)),
    "companies": Source("company", None, (), ("id",)),
    "company_segments": Source("segment", "company_id", (), ("company_id", "id")),
    "contacts": Source("contact", None, (), ("id",)),
    # what POST /conversations/search answers: `conversation` without `conversation_parts`
    "conversations": Source("conversation_list_item", None, (), ("id",)),
    "conversation_parts": Source("conversation_part", "conversation_id", (), ("id",)),
    # more
    "tickets": Source("ticket", None, ("ticket_parts",), ("id",)),
    "ticket_parts": Source("ticket_part", "ticket_id", (), ("id",)),
    "ticket_types": Source("ticket_type", None, (), ("id",)),
    # an attribute belongs to one ticket type (it carries `ticket_type_id` itself)
    "ticket_type_attributes": Source("ticket_type_attribute", "ticket_type_id", (), ("id",)),
    "ticket_states": Source("ticket_state_detailed", None, (), ("id",)),
    "deleted_conversations": Source("deleted_conversation_item", None, (), ("id",)),
    # handling events have no id
    "conversation_handling_events": Source("handling_event", "conversation_id", (),
                                           ("conversation_id", "timestamp", "type")),
    "calls": Source("call", None, (), ("id",)),
    "activity_logs": Source("activity_log", None, (), ("id",)),
    "away_status_reasons": Source("away_status_reason", None, (), ("id",)),
    "office_hours_schedules": Source("office_hours_schedule", None, (), ("id",)),
    "brands": Source("brand", None, (), ("id",)),
    "email_settings": Source("email_setting", None, (), ("id",)),
    "subscription_types": Source("subscription_type", None, (), ("id",)),
    "macros": Source("macro", None, (), ("id",)),
    "articles": Source("article_list_item", None, (), ("id",)),
    "internal_articles": Source("internal_article_list_item", None, (), ("id",)),
    "help_centers": Source("help_center", None, (), ("id",)),
    "help_center_collections": Source("collection", None, (), ("id",)),
    "news_items": Source("news_item", None, (), ("id",)),
    "newsfeeds": Source("newsfeed", None, (), ("id",)),
    "content_snippets": Source("content_snippet", None, (), ("id",)),
    # link streams: the same tag/company/segment/... shows up under many parents
    "contact_tags": Source("tag", "contact_id", (), ("contact_id", "id")),
    "contact_companies": Source("company", "contact_id", (), ("contact_id", "id")),
    "contact_segments": Source("segment", "contact_id", (), ("contact_id", "id")),
    "contact_subscriptions": Source("subscription_type", "contact_id", (), ("contact_id", "id")),
    "company_contacts": Source("contact", "company_id", (), ("company_id", "id")),
    # a note belongs to one contact or company
    "contact_notes": Source("note", "contact_id", (), ("id",)),
    "company_notes": Source("note", "company_id", (), ("id",)),
    # GET /events?summary=true: one summary per event name and contact, no id
    "data_events": Source("data_event_summary_item", "contact_id", (), ("contact_id", "name")),
    # export files: the columns of the content export are described as `data_export_csv`
    "content_data_export": Source("data_export_csv", None, (), ("receipt_id",)),
    # the template of every `custom_object_<type>` stream
    "custom_object_instance": Source("custom_object_instance", None, (), ("id",)),
}

# Export-job streams: every record also says which window (one export job) it came from and
# its row in that file (added by the tap). The reporting datasets are not described in the
# OpenAPI description (their attributes come from GET /export/reporting_data/get_datasets at
# run time), so a reporting row is an open object.
WINDOW_COLUMNS = {
    "export_window_start": {"type": ["string", "null"], "format": "date-time",
                            "description": "Start of the export job's window (added by the tap; the bookmark)."},
    "export_window_end": {"type": ["string", "null"], "format": "date-time",
                          "description": "End of the export job's window (added by the tap)."},
    "row_number": {"type": ["integer", "null"], "description": "Row of the record in its export file (added by the tap)."},
}
ADDED = {"content_data_export": WINDOW_COLUMNS}


def export_schemas() -> dict[str, dict]:
    reporting = {
        "dataset_id": {"type": "string", "description": "The reporting dataset the row belongs to."},
        "data": open_object("The row: attribute id → value, as Intercom's export file has it."),
    }
    # in the reporting export the window and the row are the key
    window = dict(WINDOW_COLUMNS, export_window_start=WINDOW_COLUMNS["export_window_start"] | {"type": "string"},
                  row_number=WINDOW_COLUMNS["row_number"] | {"type": "integer"})
    return {
        "reporting_data_export": {"type": "object", "properties": {**reporting, **window},
                                  "required": ["dataset_id", "export_window_start", "row_number"]},
    }


# Where real answers are known to break the declared type: (component, property) → the types
# the tap declares instead (null is added as everywhere).
WIDEN: dict[tuple[str, str], tuple[str, ...]] = {
    # the spec's own response examples put strings in these "objects"
    ("activity_log_metadata", "before"): ("object", "string"),
    ("activity_log_metadata", "after"): ("object", "string"),
    # declared integer, but the company endpoints take (and keep) 155.5
    ("company", "monthly_spend"): ("number",),
}

ID_NAME = re.compile(r"^id$|_id$")
IDS_NAME = re.compile(r"_ids$")
UNIX_TIME = re.compile(r"unix timestamp|^The first time\b", re.IGNORECASE)  # (export file's first_open …)
# Integers named like moments are unix seconds even where the description does not say so
# (company.updated_at: "The last time the company was updated.").
MOMENT_NAME = re.compile(r"_at$")
SCALARS = {"string", "integer", "number", "boolean"}
MAX_DEPTH = 10  # nesting levels; 2.16 needs 8 (conversations), deeper is cut to an open object


def nullable(*types: str) -> list[str]:
    """A type list in a fixed order: the real types sorted, then "null"."""
    return sorted(set(types) - {"null"}) + ["null"]


def open_object(description: str | None = None) -> dict:
    # `properties: {}` as well: singer-sdk's record conformance needs the key in array items.
    out: dict[str, Any] = {"type": ["object", "null"], "properties": {}, "additionalProperties": True}
    if description:
        out["description"] = description
    return out


def first_sentence(text: str | None) -> str | None:
    """The first sentence, whitespace collapsed ("e.g. " and "i.e. " do not end one).

    A one-word lead such as "Optional." takes the next sentence along.
    """
    if not text:
        return None
    text = " ".join(text.split())
    for end in re.finditer(r"(?<!e\.g)(?<!i\.e)\.\s", text):
        if " " in text[: end.start()]:
            return text[: end.start() + 1]
    return text


def types_of(schema: dict) -> set[str]:
    kind = schema.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def merge(parts: list[dict]) -> dict:
    """The union of converted schemas (oneOf/anyOf alternatives and allOf parts alike).

    A looser union than allOf means, on purpose: a record that fits any part must pass.
    """
    parts = [p for p in parts if p]
    if not parts:
        return {}
    if len(parts) == 1:
        return parts[0]
    types: set[str] = set()
    properties: dict[str, list[dict]] = {}
    items: list[dict] = []
    for part in parts:
        types |= types_of(part)
        for key, value in (part.get("properties") or {}).items():
            properties.setdefault(key, []).append(value)
        if isinstance(part.get("items"), dict):
            items.append(part["items"])
    out: dict[str, Any] = {"type": nullable(*types)}
    if "string" in types:
        # a format survives only if every string alternative has it
        formats = {p.get("format") for p in parts if "string" in types_of(p)}
        if len(formats) == 1 and None not in formats:
            out["format"] = formats.pop()
    if properties:
        out["properties"] = {key: merge(values) for key, values in properties.items()}
    elif "object" in types:
        out["additionalProperties"] = True
    if items:
        out["items"] = merge(items)
    description = next((p["description"] for p in parts if p.get("description")), None)
    if description:
        out["description"] = description
    return out


class Converter:
    """OpenAPI 3.0 schema → JSON Schema draft 7, as the tap emits it."""

    def __init__(self, spec: dict) -> None:
        self.components: dict[str, dict] = spec["components"]["schemas"]
        self.dangling: set[str] = set()  # $refs to nothing (2.11 has four)

    def convert(self, schema: dict, name: str = "", depth: int = 0, chain: tuple[str, ...] = ()) -> dict:
        """Convert the schema of property `name`; `chain` holds the components being expanded."""
        description = schema.get("description")  # a property's own words beat its component's
        deprecated = schema.get("deprecated")
        while "$ref" in schema:
            component = schema["$ref"].rsplit("/", 1)[1]
            if component in chain:
                return open_object(first_sentence(description))  # a schema that contains itself
            if component not in self.components:
                self.dangling.add(component)
                return open_object(first_sentence(description))
            chain = (*chain, component)
            schema = self.components[component]
            description = description or schema.get("description")
            deprecated = deprecated or schema.get("deprecated")
        description = first_sentence(description)
        if deprecated and description and "deprecated" not in description.lower():
            description = f"Deprecated. {description}"
        if depth > MAX_DEPTH or name == "custom_attributes":
            return open_object(description)

        parts = [self.convert(part, name, depth, chain) for part in schema.get("allOf") or []]
        parts += [self.convert(part, name, depth, chain)
                  for part in (schema.get("oneOf") or []) + (schema.get("anyOf") or [])]
        own = {k: v for k, v in schema.items() if k not in ("allOf", "oneOf", "anyOf")}
        # `{type: object, allOf: [$ref]}`: the sibling `type` only restates the part's
        if not parts or any(k in own for k in ("properties", "items", "format")):
            parts.append(self.convert_plain(own, name, depth, chain))
        out = merge(parts)

        out = self.apply_id_rule(out, name)
        if description:
            out["description"] = description
        return out

    def convert_plain(self, schema: dict, name: str, depth: int, chain: tuple[str, ...]) -> dict:
        """A schema without $ref and combinators."""
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            declared = schema.get("properties") or {}
            if not declared:
                return open_object()
            properties = {}
            for key, value in declared.items():
                converted = self.convert(value, key, depth + 1, chain)
                widened = WIDEN.get((chain[-1] if chain else "", key))
                if widened:
                    converted["type"] = nullable(*widened)
                properties[key] = converted
            return {"type": ["object", "null"], "properties": properties}
        if kind == "array":
            # the items of `tag_ids` (or of an `id` that may be a list) are ids themselves
            item_name = "id" if ID_NAME.search(name) or IDS_NAME.search(name) else ""
            out: dict[str, Any] = {"type": ["array", "null"]}
            if isinstance(schema.get("items"), dict):
                out["items"] = self.convert(schema["items"], item_name, depth + 1, chain)
            return out
        if kind == "integer" and (schema.get("format") in ("date-time", "timestamp")
                                  or UNIX_TIME.search(schema.get("description") or "")
                                  or MOMENT_NAME.search(name)):
            return {"type": ["string", "null"], "format": "date-time"}
        if kind == "string" and schema.get("format") == "date-time":
            return {"type": ["string", "null"], "format": "date-time"}
        if kind in SCALARS:
            return {"type": nullable(kind)}
        return {}  # no type given: anything goes

    @staticmethod
    def apply_id_rule(out: dict, name: str) -> dict:
        """Ids are strings, whatever number type the description gives them."""
        if not ID_NAME.search(name) or not out:
            return out
        types = types_of(out)
        if types <= SCALARS | {"null"}:
            return {k: v for k, v in out.items() if k != "format"} | {"type": ["string", "null"]}
        if "array" in types and types - {"array", "null"} <= SCALARS:
            # an id or a list of ids (ticket part `updated_attribute_data.value.id`)
            return out | {"type": nullable(*types - {"integer", "number"}, "string")}
        return out  # an object that happens to be called `id` (the Indonesian `translated_content.id`)


def stream_schema(converter: Converter, source: Source) -> dict:
    converted = converter.convert({"$ref": f"#/components/schemas/{source.schema}"})
    properties = {k: v for k, v in converted["properties"].items() if k not in source.drop}
    if source.parent_key and source.parent_key not in properties:
        parent = source.parent_key.removesuffix("_id").replace("_", " ")
        properties[source.parent_key] = {"type": ["string", "null"],
                                         "description": f"The id of the parent {parent} (added by the tap)."}
    for key in source.primary_key:
        non_null = [t for t in properties[key]["type"] if t != "null"]
        properties[key] = properties[key] | {"type": non_null[0] if len(non_null) == 1 else non_null}
    return {"type": "object", "properties": properties, "required": list(source.primary_key)}


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("spec", nargs="?", type=Path, help="the OpenAPI description "
                        "(default: ../shared/intercom-openapi/VERSION/api.intercom.io.yaml)")
    parser.add_argument("--version", default="2.16", help="Intercom API version (default: 2.16)")
    parser.add_argument("--out", type=Path, default=ROOT / "schemas", help="output folder (default: schemas/)")
    args = parser.parse_args(argv)
    spec_path = args.spec or ROOT.parent / "shared" / "intercom-openapi" / args.version / "api.intercom.io.yaml"
    spec = yaml.load(spec_path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))

    converter = Converter(spec)
    args.out.mkdir(parents=True, exist_ok=True)
    missing = []
    for stream, source in STREAMS.items():
        if source.schema not in converter.components:
            missing.append(stream)
            print(f"{stream:30} ← {source.schema:28} not in this description: skipped", file=sys.stderr)
            continue
        schema = stream_schema(converter, source)
        schema["properties"].update(ADDED.get(stream, {}))
        (args.out / f"{stream}.json").write_text(render(schema))
        print(f"{stream:30} ← {source.schema:28} {len(schema['properties']):3} properties, "
              f"key {list(source.primary_key)}")
    for stream, schema in export_schemas().items():
        (args.out / f"{stream}.json").write_text(render(schema))
        print(f"{stream:30} ← (run-time datasets)           {len(schema['properties']):3} properties")
    stale = sorted(p.name for p in args.out.glob("*.json") if p.stem not in STREAMS and p.stem not in export_schemas())
    if stale:
        print(f"not generated, remove if unused: {', '.join(stale)}", file=sys.stderr)
    if converter.dangling:
        print(f"$refs to missing components, left open: {', '.join(sorted(converter.dangling))}", file=sys.stderr)
    if missing:
        sys.exit(f"{len(missing)} stream(s) have no source component; fix STREAMS for this version")


if __name__ == "__main__":
    main()
