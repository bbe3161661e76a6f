"""Fields Intercom sends that the 2.16 components do not declare, added to the records built.

Three sources show such fields, all bundled by scripts/bundle_openapi.py:
- the response examples of every version's read endpoints (examples.json);
- the components of the older versions (versions.json), e.g. 2.11's `formatted_phone`;
- the reviewed overlay of fields seen in real answers (observed-fields.json), which may also
  give a declared field the type real answers have (company `monthly_spend` is a float).

For each component the sandbox builds, every such field gets a generator of values shaped like
its samples (a schema inferred from them, compiled by the record factory), so its values vary
per record like any other field; it is null on some records when some sample was null.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .fake import Generator, RecordFactory, load_bundled, load_spec

LIST = "[]"  # a path step meaning "every item of the list"
# Other components that describe the same object: GET /me answers an admin as admin_with_app,
# GET /conversations/{id} a conversation list item as a conversation.
SAME_OBJECT = {"admin": ("admin_with_app",), "conversation_list_item": ("conversation",)}
# Keys of those samples that are not part of the record (served elsewhere, or added when served).
NOT_PART = {"admin": {"app"}, "conversation_list_item": {"conversation_parts"}, "ticket": {"ticket_parts"}}


@dataclass
class ExtraField:
    path: tuple[str, ...]
    sample: Any  # the samples merged: every key any of them had, non-null where any was
    nullable: bool
    sources: set[str] = field(default_factory=set)  # "overlay", "example 2.11 GET /me", "component 2.11 admin"
    replaces: bool = False  # an overlay field the component declares with another type: the overlay wins

    @property
    def dotted(self) -> str:
        return ".".join(self.path).replace(".[]", "[]")


def parse_dotted(dotted: str) -> tuple[str, ...]:
    """"a.b[].c" → ("a", "b", "[]", "c"), the overlay's notation."""
    steps: list[str] = []
    for step in dotted.split("."):
        steps += [step[:-2], LIST] if step.endswith(LIST) else [step]
    return tuple(steps)


def nest(path: tuple[str, ...], value: Any) -> Any:
    for step in reversed(path):
        value = [value] if step == LIST else {step: value}
    return value


def merge(a: Any, b: Any) -> Any:
    """Two samples of one field as one: a's shape wins where they disagree, b fills what a lacks."""
    if a is None:
        return b
    if isinstance(a, dict) and isinstance(b, dict):
        return {**b, **{k: merge(v, b.get(k)) for k, v in a.items()}}
    if isinstance(a, list) and isinstance(b, list):
        items = [i for i in a + b if i is not None]
        if not items:
            return []
        merged = items[0]
        for item in items[1:]:
            merged = merge(merged, item)
        return [merged]
    return a


def inferred_schema(sample: Any, nullable: bool, lengths: bool = True) -> dict:
    """A schema whose values have the sample's shape (type, keys, list items); `lengths` bounds lists
    as the factory should make them (short, and empty where the samples only ever were)."""
    if isinstance(sample, bool):
        schema: dict = {"type": "boolean"}
    elif isinstance(sample, int):
        schema = {"type": "integer", "example": sample}
    elif isinstance(sample, float):
        schema = {"type": "number"}
    elif isinstance(sample, str):
        schema = {"type": "string", "example": sample}
    elif isinstance(sample, dict):
        schema = ({"type": "object", "properties": {k: inferred_schema(v, v is None, lengths)
                                                    for k, v in sample.items()}}
                  if sample else {"type": "object", "additionalProperties": not lengths})
    elif isinstance(sample, list):
        items = [i for i in sample if i is not None]
        schema = {"type": "array", "items": inferred_schema(items[0], False, lengths) if items else {}}
        if lengths:
            schema.update(minItems=0, maxItems=2 if items else 0)
    else:  # only ever null and no overlay entry: the overlay should say what it is; a string meanwhile
        schema = {"type": "string"}
    if nullable:
        schema["nullable"] = True
    return schema


class ExtraFields:
    """The undeclared fields of each component, and a way to lay them into a built record."""

    def __init__(self, factory: RecordFactory, spec: dict) -> None:
        self.factory = factory  # the one building the records, from `spec` (2.16)
        self.spec = spec
        self.examples: dict[str, list[dict]] = load_bundled("examples.json")
        self.versions: dict[str, dict] = load_bundled("versions.json")
        self.observed: dict[str, dict] = load_bundled("observed-fields.json")
        self._fields: dict[str, list[ExtraField]] = {}
        self._generators: dict[str, list[tuple[ExtraField, Generator]]] = {}

    # What is undeclared ----------------------------------------------------------------------

    def properties(self, schema: dict) -> dict | None:
        """The properties a schema declares (every branch's, for oneOf/anyOf); None for anything else."""
        schema = self.factory._flatten(self.factory._resolve(schema))
        branches = schema.get("oneOf") or schema.get("anyOf")
        if branches:
            found = [self.properties(b) for b in branches]
            known = [p for p in found if p]
            return {k: v for p in known for k, v in p.items()} if known else None
        return schema.get("properties") or None

    def items(self, schema: dict) -> dict | None:
        schema = self.factory._flatten(self.factory._resolve(schema))
        return schema.get("items") if isinstance(schema.get("items"), dict) else None

    def undeclared(self, schema: dict, sample: Any, path: tuple[str, ...] = ()):
        """(path, value) of every key of `sample` that `schema` does not declare."""
        if isinstance(sample, dict):
            declared = self.properties(schema)
            if declared is None:
                return  # an open object (custom_attributes) or not an object at all: nothing to add
            for key, value in sample.items():
                if key not in declared:
                    yield (*path, key), value
                else:
                    yield from self.undeclared(declared[key], value, (*path, key))
        elif isinstance(sample, list):
            items = self.items(schema)
            if items is not None:
                for value in sample:
                    yield from self.undeclared(items, value, (*path, LIST))

    def declared_at(self, schema: dict, path: tuple[str, ...]) -> dict | None:
        for step in path:
            schema = self.items(schema) if step == LIST else (self.properties(schema) or {}).get(step)
            if schema is None:
                return None
        return schema

    # Samples -------------------------------------------------------------------------------------

    def samples(self, component: str) -> list[tuple[str, dict]]:
        """(source, object) pairs: the examples, and one record built from each older version's
        component (and from the components describing the same object)."""
        out = []
        for name in (component, *SAME_OBJECT.get(component, ())):
            out += [(f"example {e['version']} {e['operation']}", e["value"]) for e in self.examples.get(name, [])]
            for version, bundled in self.versions.items():
                if name not in bundled["schemas"] and (name == component or version != "2.16"):
                    continue  # the same as 2.16's own component
                built = self.version_record(version, name)
                if built is not None:
                    out.append((f"component {version} {name}", built))
        return out

    def version_record(self, version: str, name: str) -> dict | None:
        schemas = {**self.spec["components"]["schemas"], **self.versions[version]["schemas"]}
        if name not in schemas:
            return None
        try:
            return version_factory(version).build(name, random.Random(name))
        except KeyError:  # a $ref to a component that version lacks
            return None

    def fields(self, component: str) -> list[ExtraField]:
        if component in self._fields:
            return self._fields[component]
        schema = {"$ref": f"#/components/schemas/{component}"}
        found: dict[tuple[str, ...], ExtraField] = {}

        def add(path: tuple[str, ...], value: Any, source: str, replaces: bool = False) -> None:
            if path[0] in NOT_PART.get(component, ()):
                return
            known = found.get(path)
            if known is None:
                found[path] = ExtraField(path, value, value is None, {source}, replaces)
            else:
                known.sample, known.nullable = merge(known.sample, value), known.nullable or value is None
                known.sources.add(source)

        # The overlay first: it was reviewed, so its shape wins where a sample disagrees.
        for name in (component, *SAME_OBJECT.get(component, ())):
            for dotted, entry in (self.observed.get(name) or {}).items():
                path, example = parse_dotted(dotted), entry["example"]
                declared = self.declared_at(schema, path)
                if declared is not None:
                    if not self.factory._matches(declared, example):
                        add(path, example, "overlay", replaces=True)
                    continue
                for sub, value in self.undeclared(schema, nest(path, example)):
                    add(sub, value, "overlay")
        for source, sample in self.samples(component):
            for path, value in self.undeclared(schema, sample):
                add(path, value, source)
        self._fields[component] = sorted(found.values(), key=lambda f: f.path)
        return self._fields[component]

    @property
    def components(self) -> list[str]:
        """The components records have been built of so far."""
        return sorted(self._generators)

    # Records -------------------------------------------------------------------------------------

    def generators(self, component: str) -> list[tuple[ExtraField, Generator]]:
        if component not in self._generators:
            self._generators[component] = [
                (f, self.factory.generator(inferred_schema(f.sample, f.nullable), next(
                    step for step in reversed(f.path) if step != LIST)))
                for f in self.fields(component)]
        return self._generators[component]

    def apply(self, component: str, record: dict, rng: random.Random, given: Any = ()) -> dict:
        """`record` with every extra field of `component` it lacks (nested objects are copied, not
        changed); a field the overlay retypes is replaced unless it is one of the `given` keys."""
        for extra, generate in self.generators(component):
            put(record, extra.path, generate, rng, extra.replaces and extra.path[0] not in given)
        return record


def put(container: dict, path: tuple[str, ...], generate: Generator, rng: random.Random, replace: bool) -> None:
    step, rest = path[0], path[1:]
    if not rest:
        if replace or step not in container:
            container[step] = generate(rng, 0)
        return
    child = container.get(step)
    if isinstance(child, dict):
        child = container[step] = dict(child)  # it may be shared (an override, another record)
        put(child, rest, generate, rng, replace)
    elif isinstance(child, list) and rest[0] == LIST:
        child = container[step] = [dict(item) if isinstance(item, dict) else item for item in child]
        for item in child:
            if isinstance(item, dict) and len(rest) > 1:
                put(item, rest[1:], generate, rng, replace)


@lru_cache(maxsize=None)
def version_factory(version: str) -> RecordFactory:
    """A factory for an older version's components (2.16's where that version has the same)."""
    spec = load_spec()
    schemas = {**spec["components"]["schemas"], **load_bundled("versions.json")[version]["schemas"]}
    return RecordFactory({"components": {"schemas": schemas}})
