"""Pack what the sandbox needs from Intercom's OpenAPI descriptions (`openapi/` in this repo)
into the sandbox package, `intercom_sandbox/openapi/`, as compact JSON.

The sandbox reads these files at run time, so they ship inside the package; JSON loads about
twenty times faster than the YAML originals. What it ships:

- `api-2.16.json`: the whole 2.16 description (records are built from its components);
- `versions.json`: per version, its operations ("GET /contacts/{contact_id}") and the
  components that differ from 2.16's (so an older version's objects can be built too);
- `examples.json`: per component, the objects in the 200 answers' examples of the endpoints
  that read (every version), which show fields the components do not declare;
- `observed-fields.json`: `openapi/observed-fields.yaml`, the reviewed fields real answers carry.

Re-run after changing `openapi/` (a new version: add it to VERSIONS):

    python scripts/bundle_openapi.py          # write the files
    python scripts/bundle_openapi.py --check  # exit 1 when they are stale
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = ROOT / "openapi"
TARGET = ROOT / "intercom_sandbox" / "openapi"
VERSIONS = ("2.11", "2.14", "2.15", "2.16")
WHOLE = "2.16"  # the version shipped whole; the others as differences from it
METHODS = ("get", "put", "post", "delete", "patch")
# Parts inside a conversation or ticket example are objects of their own.
NESTED_PARTS = {"conversation": "conversation_part", "ticket": "ticket_part"}


def load_yaml(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str)


def operations(spec: dict) -> list[str]:
    return sorted(f"{method.upper()} {path}" for path, item in spec["paths"].items()
                  for method in item if method in METHODS)


def component_of(schema: dict) -> str | None:
    if len(schema.get("allOf") or []) == 1:  # GET /contacts/{id}: a contact plus one property
        schema = schema["allOf"][0]
    return schema["$ref"].rsplit("/", 1)[1] if "$ref" in schema else None


def read_examples(spec: dict) -> Iterator[tuple[str, str, dict]]:
    """(component, operation, example object) from the 200 answers of the endpoints that read:
    GETs and searches (write endpoints' examples can be stale). A list answer yields each item
    under the items' component, also when the example names the list differently (GET
    /contacts/{id}/companies: schema `companies`, example `data`)."""
    components = spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or not (method == "get" or path.endswith(("/search", "/list"))):
                continue
            body = (((operation.get("responses") or {}).get("200") or {}).get("content") or {}).get(
                "application/json") or {}
            wrapper = component_of(body.get("schema") or {})
            if wrapper not in components:
                continue
            lists = {key: component_of(prop.get("items") or {})
                     for key, prop in (components[wrapper].get("properties") or {}).items()
                     if prop.get("type") == "array"}
            item_component = next((c for c in lists.values() if c), None)
            name = f"{method.upper()} {path}"
            for example in ((e or {}).get("value") for e in (body.get("examples") or {}).values()):
                if not isinstance(example, dict):
                    continue
                yield wrapper, name, example
                if wrapper in NESTED_PARTS:
                    for part in (example.get(f"{wrapper}_parts") or {}).get(f"{wrapper}_parts") or []:
                        yield NESTED_PARTS[wrapper], name, part
                for key, value in example.items():
                    component = lists.get(key) or (item_component if key not in lists else None)
                    if isinstance(value, list) and component:
                        yield from ((component, name, record) for record in value if isinstance(record, dict))


def bundle(openapi: Path = OPENAPI) -> dict[str, str]:
    """File name → content of every bundled file."""
    specs = {version: load_yaml(openapi / version / "api.intercom.io.yaml") for version in VERSIONS}
    whole = specs[WHOLE]["components"]["schemas"]
    versions, examples = {}, {}
    for version, spec in specs.items():
        schemas = spec["components"]["schemas"]
        versions[version] = {
            "operations": operations(spec),
            "schemas": {} if version == WHOLE else {k: v for k, v in schemas.items() if whole.get(k) != v},
        }
        for component, operation, example in read_examples(spec):
            examples.setdefault(component, []).append({"version": version, "operation": operation, "value": example})
    return {
        f"api-{WHOLE}.json": compact(specs[WHOLE]),
        "versions.json": compact(versions),
        "examples.json": compact(examples),
        "observed-fields.json": compact(load_yaml(openapi / "observed-fields.yaml")),
    }


def main(argv: list[str]) -> int:
    files = bundle()
    if "--check" in argv:
        stale = [name for name, text in files.items()
                 if not (TARGET / name).exists() or (TARGET / name).read_text(encoding="utf-8") != text]
        for name in stale:
            print(f"stale: {(TARGET / name).relative_to(ROOT)} (run scripts/bundle_openapi.py)", file=sys.stderr)
        return 1 if stale else 0
    for name, text in files.items():
        (TARGET / name).write_text(text, encoding="utf-8")
        print(f"wrote {(TARGET / name).relative_to(ROOT)} ({len(text.encode()):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
