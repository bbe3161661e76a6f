"""Generate the tap's stream schemas (`schemas/*.json`) from Intercom's OpenAPI descriptions.

    python scripts/generate_schemas.py [--openapi openapi] [--out schemas]

Each stream's schema is the union of what is known about its object:
1. the object's components in every description in `openapi/` (VERSIONS), newest first, so
   a property the newest description words differently keeps the newest words;
2. the response examples of the endpoints that return the object, in every description
   (they show fields and shapes the components do not declare);
3. `openapi/observed-fields.yaml`: fields seen in real answers and documented nowhere.

A new API version is a new folder in `openapi/` and a new entry in VERSIONS, then a re-run.

The schemas describe what the tap emits, which is looser than what the API documents,
because a target (not the API) checks records against them:
- unix timestamps become ISO 8601 `date-time` strings (the tap converts them);
- ids become strings (the tap converts them);
- every property but the primary key accepts null (the examples carry nulls the components
  do not admit);
- where sources disagree on a shape, the property takes every shape in a form targets load
  (`tap_intercom/widening.py`, which the tap also uses when Intercom sends something new);
- enums and validation-only formats (uri, email, uuid) are dropped: a value Intercom adds
  in a later version must not break a load;
- `custom_attributes`, and any object without declared properties, stay open objects (the tap
  types custom attributes from the workspace's own definitions at discovery).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Iterator
from functools import reduce
from pathlib import Path
from typing import Any, NamedTuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the tap

from tap_intercom.widening import ID_NAME, IDS_NAME, MOMENT_NAME, nullable, types_of, union, widen  # noqa: E402

VERSIONS = ("2.16", "2.15", "2.14", "2.11")  # newest first
OPENAPI = ROOT / "openapi"
OBSERVED = OPENAPI / "observed-fields.yaml"


class Source(NamedTuple):
    components: tuple[str, ...]  # the object's names in the descriptions (one per endpoint shape)
    parent_key: str | None  # id of the parent record, added by the tap to child/link streams
    drop: tuple[str, ...]  # properties that go to a stream of their own
    primary_key: tuple[str, ...]


def source(*components: str, parent_key: str | None = None, drop: tuple[str, ...] = (),
           key: tuple[str, ...] = ("id",)) -> Source:
    return Source(components, parent_key, drop, key)


# stream → where its records come from (see README's stream table for the endpoints)
STREAMS: dict[str, Source] = {
    # core; GET /me answers an admin too (with its app, which is not the admin's)
    "admins": source("admin", "admin_with_app", drop=("app",)),
    "teams": source("team"),
    "tags": source("tag"),
    "segments": source("segment"),
    # data attributes have an id only when they are custom; `name` repeats (`name` and
    # `plan.name` are both "name"), `full_name` does not
    "company_attributes": source("data_attribute", key=("model", "full_name")),
    "contact_attributes": source("data_attribute", key=("model", "full_name")),
    "conversation_attributes": source("conversation_attribute"),
    "companies": source("company"),
    "company_segments": source("segment", parent_key="company_id", key=("company_id", "id")),
    "contacts": source("contact"),
    # POST /conversations/search answers list items; GET /conversations/{id} the same
    # conversation with its parts, which go to conversation_parts
    "conversations": source("conversation_list_item", "conversation", drop=("conversation_parts",)),
    "conversation_parts": source("conversation_part", parent_key="conversation_id"),
    # more
    "tickets": source("ticket", drop=("ticket_parts",)),
    "ticket_parts": source("ticket_part", parent_key="ticket_id"),
    "ticket_types": source("ticket_type", drop=("ticket_type_attributes",)),
    # an attribute belongs to one ticket type (it carries `ticket_type_id` itself)
    "ticket_type_attributes": source("ticket_type_attribute", parent_key="ticket_type_id"),
    "ticket_states": source("ticket_state_detailed"),
    "deleted_conversations": source("deleted_conversation_item"),
    # handling events have no id
    "conversation_handling_events": source("handling_event", parent_key="conversation_id",
                                           key=("conversation_id", "timestamp", "type")),
    "calls": source("call"),
    "activity_logs": source("activity_log"),
    "away_status_reasons": source("away_status_reason"),
    "office_hours_schedules": source("office_hours_schedule"),
    "brands": source("brand"),
    "email_settings": source("email_setting"),
    "subscription_types": source("subscription_type"),
    "macros": source("macro"),
    "articles": source("article_list_item"),
    "internal_articles": source("internal_article_list_item"),
    "help_centers": source("help_center"),
    "help_center_collections": source("collection"),
    "news_items": source("news_item"),
    "newsfeeds": source("newsfeed"),
    "content_snippets": source("content_snippet"),
    # link streams: the same tag/company/segment/... shows up under many parents; the short
    # copies a contact embeds (addressable_list, company_data) are the same records
    "contact_tags": source("tag", "addressable_list", parent_key="contact_id", key=("contact_id", "id")),
    "contact_companies": source("company", "company_data", parent_key="contact_id", key=("contact_id", "id")),
    "contact_segments": source("segment", parent_key="contact_id", key=("contact_id", "id")),
    "contact_subscriptions": source("subscription_type", parent_key="contact_id", key=("contact_id", "id")),
    "company_contacts": source("contact", parent_key="company_id", key=("company_id", "id")),
    # a note belongs to one contact or company
    "contact_notes": source("note", parent_key="contact_id"),
    "company_notes": source("note", parent_key="company_id"),
    # GET /events?summary=true: one summary per event name and contact, no id
    "data_events": source("data_event_summary_item", parent_key="contact_id", key=("contact_id", "name")),
    # export files: the columns of the content export are described as `data_export_csv`
    "content_data_export": source("data_export_csv", key=("receipt_id",)),
    # the template of every `custom_object_<type>` stream
    "custom_object_instance": source("custom_object_instance"),
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


UNIX_TIME = re.compile(r"unix timestamp|^The first time\b", re.IGNORECASE)  # (export file's first_open …)
SCALARS = {"string", "integer", "number", "boolean"}
MAX_DEPTH = 10  # nesting levels; 2.16 needs 8 (conversations), deeper is cut to an open object
OPEN_NAMES = {"custom_attributes"}  # workspace-defined keys: typed at discovery, never from examples


def open_object(description: str | None = None) -> dict:
    out: dict[str, Any] = {"type": ["object", "null"], "additionalProperties": True}
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


def merge(parts: list[dict]) -> dict:
    """The union of converted schemas (oneOf/anyOf alternatives and allOf parts alike): a
    looser union than allOf means, on purpose: a record that fits any part must pass. A part
    without a type (the description gave none) adds nothing."""
    parts = [p for p in parts if p]
    return reduce(union, parts) if parts else {}


class Converter:
    """OpenAPI 3.0 schema → JSON Schema draft 7, as the tap emits it."""

    def __init__(self, spec: dict, samples: dict[str, list[dict]] | None = None) -> None:
        self.components: dict[str, dict] = spec["components"]["schemas"]
        # component → example values (response examples, observed fields): an object embedded
        # in another (a conversation's company) takes the same widening as its own stream
        self.samples = samples or {}
        self.dangling: set[str] = set()  # $refs to nothing (2.11 has four)

    def convert(self, schema: dict, name: str = "", depth: int = 0, chain: tuple[str, ...] = ()) -> dict:
        """Convert the schema of property `name`; `chain` holds the components being expanded."""
        description = schema.get("description")  # a property's own words beat its component's
        deprecated = schema.get("deprecated")
        referenced = None
        while "$ref" in schema:
            component = schema["$ref"].rsplit("/", 1)[1]
            if component in chain:
                return open_object(first_sentence(description))  # a schema that contains itself
            if component not in self.components:
                self.dangling.add(component)
                return open_object(first_sentence(description))
            chain = (*chain, component)
            referenced = component
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
        if referenced and depth > 0 and "properties" in out:
            for value in self.samples.get(referenced, []):
                out = widen(out, value) or out

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
                properties[key] = self.convert(value, key, depth + 1, chain)
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
        if not ID_NAME.search(name) or "type" not in out:
            return out  # not an id, or any JSON value (an id or a list of ids)
        types = types_of(out)
        if types <= SCALARS | {"null"}:
            return {k: v for k, v in out.items() if k != "format"} | {"type": ["string", "null"]}
        if "array" in types and types - {"array", "null"} <= SCALARS:
            # an id or a list of ids (ticket part `updated_attribute_data.value.id`)
            return out | {"type": nullable(*types - {"integer", "number"}, "string")}
        return out  # an object that happens to be called `id` (the Indonesian `translated_content.id`)


def load_description(version: str, folder: Path = OPENAPI) -> dict:
    path = folder / version / "api.intercom.io.yaml"
    return yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def response_examples(spec: dict) -> Iterator[tuple[str, dict]]:
    """(component, example object) from the 200 answers of the endpoints a tap reads: GETs,
    searches and POST /companies/list (write endpoints' examples can be stale: the change_type
    example still shows `ticket_state` as a string). A list answer yields each item under the
    items' component; a detail answer yields itself; parts inside a conversation or ticket
    yield each part."""
    components = spec["components"]["schemas"]

    def component_of(schema: dict) -> str | None:
        if len(schema.get("allOf") or []) == 1:  # GET /contacts/{id}: contact plus one property
            schema = schema["allOf"][0]
        return schema["$ref"].rsplit("/", 1)[1] if "$ref" in schema else None

    nested = {"conversation": "conversation_part", "ticket": "ticket_part"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            reads = method == "get" or (method == "post" and path.endswith(("/search", "/list")))
            if not reads or not isinstance(operation, dict):
                continue
            content = ((operation.get("responses") or {}).get("200") or {}).get("content") or {}
            body = content.get("application/json") or {}
            wrapper = component_of(body.get("schema") or {})
            if not wrapper or wrapper not in components:
                continue
            lists = {key: component_of(prop.get("items") or {})
                     for key, prop in (components[wrapper].get("properties") or {}).items()
                     if prop.get("type") == "array"}
            for example in (e.get("value") for e in (body.get("examples") or {}).values()):
                if not isinstance(example, dict):
                    continue
                yield wrapper, example
                if wrapper in nested:
                    for part in (example.get(f"{wrapper}_parts") or {}).get(f"{wrapper}_parts") or []:
                        yield nested[wrapper], part
                # a list's items, under the key the schema names or another list key of the
                # example (GET /contacts/{id}/companies: schema `companies`, example `data`)
                item = next((c for c in lists.values() if c), None)
                for key, value in example.items():
                    if isinstance(value, list) and (lists.get(key) or (item and key not in lists)):
                        for record in value:
                            if isinstance(record, dict):
                                yield lists.get(key) or item, record


def observed_fields(path: Path = OBSERVED) -> dict[str, dict[str, dict]]:
    """component → dotted path → {example, seen} (see the file's header)."""
    data = yaml.safe_load(path.read_text()) or {}
    for component, fields in data.items():
        for dotted, entry in fields.items():
            if not isinstance(entry, dict) or "example" not in entry or not entry.get("seen"):
                raise SystemExit(f"{path.name}: {component}.{dotted} needs an `example` and where it was `seen`")
    return data


def nest(dotted: str, value: Any) -> dict:
    """"a.b[].c" and a value → {"a": {"b": [{"c": value}]}}."""
    out: Any = value
    for step in reversed(dotted.split(".")):
        name, is_list = (step[:-2], True) if step.endswith("[]") else (step, False)
        out = {name: [out] if is_list else out}
    return out


def without(record: dict, keys: tuple[str, ...]) -> dict:
    return {k: v for k, v in record.items() if k not in keys}


def undeclared_nulls(schema: dict | None, value: Any, path: str = "") -> Iterator[str]:
    """Paths of `value` that are null where `schema` declares nothing (their type is unknown)."""
    if isinstance(value, dict):
        if schema is not None and "properties" not in schema:
            return  # an open object (or anything): every key is taken
        for key, item in value.items():
            sub = (schema or {}).get("properties", {}).get(key)
            if item is None and sub is None:
                yield f"{path}{key}"
            elif item is not None:
                yield from undeclared_nulls(sub, item, f"{path}{key}.")
    elif isinstance(value, list) and schema is not None and isinstance(schema.get("items"), dict):
        for item in value:
            yield from undeclared_nulls(schema["items"], item, f"{path[:-1]}[].")


class Generator:
    """Every description, its examples and the observed fields, merged per stream."""

    def __init__(self, descriptions: dict[str, dict], observed: dict[str, dict[str, dict]]) -> None:
        self.examples: dict[str, list[dict]] = {}
        for spec in descriptions.values():
            for component, example in response_examples(spec):
                self.examples.setdefault(component, []).append(example)
        self.observed = observed
        samples = {component: [*self.examples.get(component, []),
                               *(nest(dotted, entry["example"]) for dotted, entry in (observed.get(component) or {}).items())]
                   for component in {*self.examples, *observed}}
        self.converters = {version: Converter(spec, samples) for version, spec in descriptions.items()}
        self.problems: list[str] = []

    def stream_schema(self, stream: str, source: Source) -> dict:
        parts = [converter.convert({"$ref": f"#/components/schemas/{component}"})
                 for converter in self.converters.values()
                 for component in source.components if component in converter.components]
        if not parts:
            raise SystemExit(f"{stream}: none of {source.components} is in any description; fix STREAMS")
        schema = merge(parts)
        schema["properties"] = without(schema["properties"], source.drop)
        examples = [without(e, source.drop) for c in source.components for e in self.examples.get(c, [])]
        observed = [nest(dotted, entry["example"]) for c in source.components
                    for dotted, entry in (self.observed.get(c) or {}).items()]
        for value in examples + observed:
            schema = widen(schema, value) or schema
        for value in examples:
            for path in undeclared_nulls(schema, value):
                self.problems.append(f"{stream}: `{path}` is only ever null in the examples; give its type in "
                                     f"{OBSERVED.relative_to(ROOT)} under {source.components[0]}")
        properties = schema["properties"]
        if source.parent_key and source.parent_key not in properties:
            parent = source.parent_key.removesuffix("_id").replace("_", " ")
            properties[source.parent_key] = {"type": ["string", "null"],
                                             "description": f"The id of the parent {parent} (added by the tap)."}
        properties.update(copy.deepcopy(ADDED.get(stream, {})))
        for key in source.primary_key:
            non_null = [t for t in properties[key]["type"] if t != "null"]
            properties[key] = properties[key] | {"type": non_null[0] if len(non_null) == 1 else non_null}
        return {"type": "object", "properties": properties, "required": list(source.primary_key)}

    @property
    def dangling(self) -> set[str]:
        return {name for converter in self.converters.values() for name in converter.dangling}


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate(openapi: Path = OPENAPI) -> dict[str, dict]:
    """stream → schema, from the descriptions and observed fields in `openapi`."""
    generator = Generator({version: load_description(version, openapi) for version in VERSIONS},
                          observed_fields(openapi / OBSERVED.name))
    schemas = {stream: generator.stream_schema(stream, source) for stream, source in STREAMS.items()}
    if generator.problems:
        raise SystemExit("\n".join(dict.fromkeys(generator.problems)))
    schemas.update(export_schemas())
    if generator.dangling:
        print(f"$refs to missing components, left open: {', '.join(sorted(generator.dangling))}", file=sys.stderr)
    return schemas


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--openapi", type=Path, default=OPENAPI,
                        help="folder with <version>/api.intercom.io.yaml and observed-fields.yaml (default: openapi/)")
    parser.add_argument("--out", type=Path, default=ROOT / "schemas", help="output folder (default: schemas/)")
    args = parser.parse_args(argv)
    schemas = generate(args.openapi)
    args.out.mkdir(parents=True, exist_ok=True)
    for stream, schema in schemas.items():
        (args.out / f"{stream}.json").write_text(render(schema))
        origin = ", ".join(STREAMS[stream].components) if stream in STREAMS else "(run-time datasets)"
        print(f"{stream:30} ← {origin:40} {len(schema['properties']):3} properties")
    stale = sorted(p.name for p in args.out.glob("*.json") if p.stem not in schemas)
    if stale:
        print(f"not generated, remove if unused: {', '.join(stale)}", file=sys.stderr)


if __name__ == "__main__":
    main()
