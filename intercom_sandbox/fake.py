"""Schema-driven, deterministic record factory for the Intercom sandbox.

Every component schema of the bundled OpenAPI description is compiled once into a tree of
small generator closures ``gen(rng, depth) -> value``; building a record is then just a
walk over that tree, driven only by the caller's ``random.Random``. Records carry every
property of their schema (optional ones too) and validate against the schema with
``openapi_schema_validator.OAS30Validator``, including its quirks: ``nullable`` only lets
null through when the same schema object has a ``type`` (so ``$ref``/``allOf`` siblings and
enums without ``None`` never yield null here).
"""

from __future__ import annotations

import base64
import json
import random
import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

Generator = Callable[[random.Random, int], Any]

NULL_RATE = 0.1
MAX_DEPTH = 4  # how often a self-referencing schema may nest before we stop it
REF_PREFIX = "#/components/schemas/"

FIRST_NAMES = ("Ada", "Jo", "Liam", "Noor", "José", "Zoë", "Søren", "Ana", "Kwame", "Mei", "Ólafur",
               "Chloé", "Priya", "Mateus", "Yuki", "Björn")
LAST_NAMES = ("Lovelace", "García", "Müller", "O'Brien", "Nakamura", "Okafor", "Dubois", "Silva",
              "Kowalski", "Nguyễn", "Johansson", "Patel", "Rossi", "Wiśniewska", "Smith", "Brontë")
FULL_NAMES = ("田中 太郎", "李 小龙", "김 민준", "Анна Иванова")
ASCII_NAMES = ("ada", "jo", "liam", "noor", "jose", "zoe", "soren", "ana", "kwame", "mei", "chloe",
               "priya", "yuki", "bjorn", "smith", "garcia", "mueller", "okafor", "silva", "patel")
DOMAINS = ("example.com", "example.org", "acme.test", "globex.example", "initech.example")
WORDS = ("account", "billing", "invoice", "login", "password", "export", "report", "upgrade", "refund",
         "plan", "team", "workspace", "integration", "webhook", "mobile", "app", "error", "sync", "data",
         "order", "delivery", "trial", "feature", "request", "question", "update", "settings", "access",
         "café", "naïve", "résumé", "Grüße", "señor", "façade", "请求", "支払い", "帮助", "確認", "🚀", "✅", "🙏")
TITLE_WORDS = ("Cannot", "Need", "Question", "about", "my", "the", "Refund", "Upgrade", "Billing", "Login",
               "issue", "Export", "failing", "Help", "with", "Invoice", "Trial", "Déjà", "vu", "Überweisung",
               "請求書", "🚀", "Urgent:", "Feature", "request")
LABEL_WORDS = ("Support", "Sales", "VIP", "Enterprise", "Beta", "Premium", "Onboarding", "Équipe",
               "Kundendienst", "サポート", "Tier 2", "Growth", "Acme", "Globex")
VOCABULARY = {
    "browser": ("chrome", "firefox", "safari", "edge"),
    "os": ("macOS 14.5", "Windows 11", "iOS 17.5", "Android 14", "Ubuntu 24.04"),
    "city": ("Dublin", "São Paulo", "München", "東京", "San Francisco", "Lagos", "Kraków"),
    "country": ("Ireland", "Brazil", "Germany", "Japan", "United States", "Nigeria", "Poland"),
    "country_code": ("IE", "BR", "DE", "JP", "US", "NG", "PL"),
    "continent_code": ("EU", "SA", "AS", "NA", "AF"),
    "region": ("Leinster", "São Paulo", "Bavaria", "Tokyo", "California", "Lagos", "Lesser Poland"),
    "locale": ("en", "fr", "de", "pt-BR", "ja", "es"),
    "timezone": ("Europe/Dublin", "America/Sao_Paulo", "Europe/Berlin", "Asia/Tokyo", "America/Los_Angeles"),
    "phone": ("+353 1 555 0100", "+1 415 555 0134", "+49 30 5550 1234", "+81 3-5550-1234"),
    "utm_source": ("newsletter", "google", "twitter", "partner_site", "producthunt"),
    "utm_medium": ("email", "cpc", "social", "referral", "banner"),
    "utm_campaign": ("spring_launch", "black_friday", "webinar_2024", "onboarding_drip", "rétro_été"),
    "utm_content": ("pricing_banner", "hero_cta", "footer_link", "variant_b"),
    "utm_term": ("crm", "help desk", "live chat", "customer support software"),
    "referrer": ("https://www.example.com/pricing", "https://www.google.com/", "https://news.example.org/launch",
                 "https://partner.example.net/integrations/intercom"),
}
TEXT_FIELDS = {"body", "html", "description", "text", "message", "note", "summary", "content", "body_markdown",
               "blurb", "reason", "explanation"}
TITLE_FIELDS = {"title", "subject", "headline", "label", "display_name", "job_title"}
# Free-form objects (e.g. contact.custom_attributes) get a few of these keys, each with its own value kind.
FREE_FORM_FIELDS = (("plan_name", "string"), ("seats", "integer"), ("monthly_spend", "float"),
                    ("paid_subscriber", "boolean"), ("renewal_date", "date"), ("segment", "string"),
                    ("nps_score", "integer"))
FREE_FORM_KEYS = ("plan", "region", "tier", "source", "segment", "team", "channel", "score")
TYPE_TESTS = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}
# Runs worth re-rolling in example strings: long hex ids, then digit runs (ids, versions, URL parts).
EXAMPLE_RUNS = re.compile(r"([0-9a-f]{16,}|\d{3,})")
ISO_DATE = re.compile(r"\d{4}-\d\d-\d\dT")


@lru_cache(maxsize=None)
def load_bundled(name: str) -> Any:
    """A file scripts/bundle_openapi.py packed into openapi/ (parsed once per process; treat it as read-only)."""
    return json.loads((Path(__file__).resolve().parent / "openapi" / name).read_text(encoding="utf-8"))


def load_spec(version: str = "2.16") -> dict:
    """The bundled OpenAPI description the records are built from."""
    return load_bundled(f"api-{version}.json")


def pick(rng: random.Random, options: tuple | list) -> Any:
    # rng.random() is several times cheaper than rng.choice(); both are deterministic.
    return options[int(rng.random() * len(options))]


def person_name(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return pick(rng, FULL_NAMES)
    return f"{pick(rng, FIRST_NAMES)} {pick(rng, LAST_NAMES)}"


def phrase(rng: random.Random, words: tuple, low: int, high: int) -> str:
    return " ".join(pick(rng, words) for _ in range(low + int(rng.random() * (high - low + 1))))


def email_address(rng: random.Random) -> str:
    return f"{pick(rng, ASCII_NAMES)}.{pick(rng, ASCII_NAMES)}{rng.randrange(1000, 100000)}@{pick(rng, DOMAINS)}"


def uuid4_string(rng: random.Random) -> str:
    bits = rng.getrandbits(128)
    bits = (bits & ~(0xF << 76)) | (4 << 76)  # version 4
    bits = (bits & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def digits(rng: random.Random, length: int) -> str:
    return str(rng.randrange(10 ** (length - 1), 10 ** length))


def is_id_name(name: str) -> bool:
    return name in ("id", "ids") or name.endswith(("_id", "_ids"))


class RecordFactory:
    def __init__(self, spec: dict, *, time_range: tuple[int, int] = (1609459200, 1793491200)):
        self._schemas: dict[str, dict] = spec["components"]["schemas"]
        self._time_low, self._time_high = time_range
        # Caches keyed by id(schema) hold the schema too: that keeps it alive, so its id can't be reused.
        self._compiled: dict[tuple, tuple[dict, Generator]] = {}  # (id, property name, may be null)
        self._flattened: dict[int, tuple[dict, dict]] = {}
        self._accepts_null_cache: dict[int, bool] = {}  # only ever asked about schemas that are kept alive
        self._records: dict[str, Generator] = {}
        self._cyclic = self._self_referencing_schemas()

    # Public API ------------------------------------------------------------------------

    def build(self, schema_name: str, rng: random.Random, overrides: Mapping[str, Any] | None = None) -> dict:
        generator = self._records.get(schema_name)
        if generator is None:
            generator = self._records[schema_name] = self._compile(self._schemas[schema_name], schema_name, False)
        fields = getattr(generator, "fields", None)
        if not overrides:
            return generator(rng, 0)
        if fields is None:  # a oneOf/anyOf record: generate it whole, then overlay
            return {**generator(rng, 0), **overrides}
        record = {key: overrides[key] if key in overrides else field(rng, 0) for key, field in fields}
        for key, value in overrides.items():
            record.setdefault(key, value)
        return record

    def build_schema(self, schema: dict, rng: random.Random) -> Any:
        return self._compile(schema, "", True)(rng, 0)

    def generator(self, schema: dict, name: str = "") -> Generator:
        """`gen(rng, depth)` for values of `schema`, read as the value of a property called `name`."""
        return self._compile(schema, name, True)

    # Schema helpers ----------------------------------------------------------------------

    def _target(self, schema: dict) -> dict:
        return self._schemas[schema["$ref"][len(REF_PREFIX):]]

    def _resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            schema = self._target(schema)
        return schema

    def _self_referencing_schemas(self) -> set[str]:
        edges = {name: set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(schema)))
                 for name, schema in self._schemas.items()}
        cyclic = set()
        for name in edges:
            seen, stack = set(), list(edges[name])
            while stack:
                current = stack.pop()
                if current not in seen:
                    seen.add(current)
                    stack.extend(edges.get(current, ()))
            if name in seen:
                cyclic.add(name)
        return cyclic

    def _merge(self, parts: list[dict]) -> dict:
        """allOf semantics for generation: union of properties/required; later parts refine earlier ones."""
        merged: dict = {}
        for part in parts:
            part = self._flatten(self._resolve(part))
            properties = dict(merged.get("properties", {}))
            for key, sub in part.get("properties", {}).items():
                properties[key] = {**properties[key], **sub} if key in properties else sub
            required = list(dict.fromkeys([*merged.get("required", ()), *part.get("required", ())]))
            merged = {**merged, **part}
            if properties:
                merged["properties"] = properties
            if required:
                merged["required"] = required
        return merged

    def _flatten(self, schema: dict) -> dict:
        if "allOf" not in schema:
            return schema
        if id(schema) not in self._flattened:
            merged = self._merge([*schema["allOf"], {k: v for k, v in schema.items() if k != "allOf"}])
            self._flattened[id(schema)] = (schema, merged)
        return self._flattened[id(schema)][1]

    def _accepts_null(self, schema: dict) -> bool:
        """Would OAS30Validator accept null here? Mirrors its keyword-by-keyword behaviour."""
        key = id(schema)
        if key in self._accepts_null_cache:
            return self._accepts_null_cache[key]
        self._accepts_null_cache[key] = False  # guards recursive refs
        accepted = (("$ref" not in schema or self._accepts_null(self._target(schema)))
                    and ("type" not in schema or schema.get("nullable") is True)
                    and ("enum" not in schema or None in schema["enum"])
                    and all(self._accepts_null(s) for s in schema.get("allOf", ()))
                    and ("anyOf" not in schema or any(self._accepts_null(s) for s in schema["anyOf"]))
                    and ("oneOf" not in schema or sum(self._accepts_null(s) for s in schema["oneOf"]) == 1))
        self._accepts_null_cache[key] = accepted
        return accepted

    def _matches(self, schema: dict, value: Any) -> bool:
        """A cheap structural validator, used to keep oneOf results unambiguous."""
        if value is None:
            return self._accepts_null(schema)
        if "$ref" in schema and not self._matches(self._target(schema), value):
            return False
        if "type" in schema and not TYPE_TESTS[schema["type"]](value):
            return False
        if "enum" in schema and value not in schema["enum"]:
            return False
        if isinstance(value, dict):
            if any(key not in value for key in schema.get("required", ())):
                return False
            properties, extra = schema.get("properties", {}), schema.get("additionalProperties", True)
            for key, item in value.items():
                sub = properties.get(key, extra)
                if sub is False or (isinstance(sub, dict) and not self._matches(sub, item)):
                    return False
        if isinstance(value, list) and "items" in schema:
            if not all(self._matches(schema["items"], item) for item in value):
                return False
        return (all(self._matches(s, value) for s in schema.get("allOf", ()))
                and ("anyOf" not in schema or any(self._matches(s, value) for s in schema["anyOf"]))
                and ("oneOf" not in schema or sum(self._matches(s, value) for s in schema["oneOf"]) == 1))

    # Compilation ---------------------------------------------------------------------------

    def _compile(self, schema: dict, name: str, may_be_null: bool = True) -> Generator:
        key = (id(schema), name, may_be_null)
        if key not in self._compiled:
            generator = self._compile_value(schema, name)
            if may_be_null and schema.get("nullable") and self._accepts_null(schema):
                generator = self._sometimes_null(generator)
            self._compiled[key] = (schema, generator)
        return self._compiled[key][1]

    @staticmethod
    def _sometimes_null(generator: Generator) -> Generator:
        def maybe_null(rng: random.Random, depth: int) -> Any:
            return None if rng.random() < NULL_RATE else generator(rng, depth)
        return maybe_null

    def _compile_value(self, schema: dict, name: str) -> Generator:
        if "$ref" in schema:
            return self._reference(schema["$ref"][len(REF_PREFIX):])
        if "allOf" in schema:
            return self._compile_value(self._flatten(schema), name)
        if "oneOf" in schema or "anyOf" in schema:
            return self._choice(schema, name)
        if "enum" in schema:
            options = tuple(v for v in schema["enum"] if v is not None)
            return lambda rng, depth: pick(rng, options) if options else None
        kind = schema.get("type")
        if kind == "object" or (kind is None and ("properties" in schema or "additionalProperties" in schema)):
            return self._object(schema) if schema.get("properties") else self._free_form(schema)
        if kind == "array" or (kind is None and "items" in schema):
            return self._array(schema, name)
        if kind == "integer":
            return self._integer(schema, name)
        if kind == "number":
            low, high = schema.get("minimum", 0), schema.get("maximum", 1000)
            # Never integral, so a number can't be mistaken for an integer branch.
            return lambda rng, depth: min(high, round(low + rng.random() * (high - low), 2) + 0.005)
        if kind == "boolean":
            return lambda rng, depth: rng.random() < 0.5
        if kind == "string":
            return self._string(schema, name)
        example = schema.get("example")  # untyped: any value; prefer the documented example
        if isinstance(example, (str, int, float, bool)):
            return lambda rng, depth: example
        return lambda rng, depth: pick(rng, WORDS)

    def _reference(self, target: str) -> Generator:
        if target not in self._cyclic:
            return self._compile(self._schemas[target], target)
        compiled: Generator | None = None  # compiled on first use, which is what lets the schema contain itself

        def recursive(rng: random.Random, depth: int) -> Any:
            nonlocal compiled
            if depth >= MAX_DEPTH:
                return self._minimal(target, rng, depth)
            if compiled is None:
                compiled = self._compile(self._schemas[target], target)
            return compiled(rng, depth + 1)
        return recursive

    def _minimal(self, target: str, rng: random.Random, depth: int) -> Any:
        schema = self._schemas[target]
        if schema.get("nullable") and self._accepts_null(schema):
            return None
        schema = self._flatten(schema)
        if schema.get("type") == "array":
            return []
        properties = schema.get("properties", {})
        return {key: self._compile(properties[key], key)(rng, depth + 1)
                for key in schema.get("required", ()) if key in properties}

    def _choice(self, schema: dict, name: str) -> Generator:
        keyword = "oneOf" if "oneOf" in schema else "anyOf"
        branches = schema[keyword]
        # Keywords beside oneOf/anyOf constrain every branch, so each branch is generated merged with them.
        base = {k: v for k, v in schema.items() if k not in (keyword, "discriminator", "nullable")}
        shared = any(k in base for k in ("type", "properties", "required", "additionalProperties", "allOf"))
        generators = [self._compile(self._merge([base, branch]) if shared else branch, name) for branch in branches]
        discriminator = schema.get("discriminator")

        def accepted(value: Any, index: int) -> bool:
            if discriminator:  # the validator only checks the branch the discriminator names
                tag = value.get(discriminator["propertyName"]) if isinstance(value, dict) else None
                ref = discriminator.get("mapping", {}).get(tag) or f"{REF_PREFIX}{tag}"
                return ref == branches[index].get("$ref")
            if keyword == "anyOf":
                return True
            return sum(1 for branch in branches if self._matches(branch, value)) == 1

        def choose(rng: random.Random, depth: int) -> Any:
            start = int(rng.random() * len(branches))
            for attempt in range(2 * len(branches)):  # branches that overlap get retried, then skipped
                index = (start + attempt) % len(branches)
                value = generators[index](rng, depth)
                if accepted(value, index):
                    return value
            return value
        return choose

    def _object(self, schema: dict) -> Generator:
        fields = tuple((key, self._compile(sub, key)) for key, sub in schema["properties"].items())

        def build_object(rng: random.Random, depth: int) -> dict:
            return {key: field(rng, depth) for key, field in fields}
        build_object.fields = fields  # lets build() skip overridden properties
        return build_object

    def _free_form(self, schema: dict) -> Generator:
        extra = schema.get("additionalProperties")
        if extra is False:
            return lambda rng, depth: {}
        if isinstance(extra, dict) and extra:
            value = self._compile(extra, "")
            return lambda rng, depth: {key: value(rng, depth)
                                       for key in rng.sample(FREE_FORM_KEYS, 1 + int(rng.random() * 3))}
        return lambda rng, depth: {key: self._free_value(rng, kind)
                                   for key, kind in rng.sample(FREE_FORM_FIELDS, 2 + int(rng.random() * 3))}

    def _free_value(self, rng: random.Random, kind: str) -> Any:
        if kind == "string":
            return phrase(rng, LABEL_WORDS, 1, 2)
        if kind == "integer":
            return rng.randrange(0, 500)
        if kind == "float":
            return round(rng.random() * 1000, 2) + 0.005
        if kind == "boolean":
            return rng.random() < 0.5
        return self._timestamp(rng)

    def _array(self, schema: dict, name: str) -> Generator:
        items = schema.get("items", {})
        item = self._compile(items, name)
        low, high = schema.get("minItems", 1), schema.get("maxItems", 3)
        high = max(low, min(high, 3))
        stops_recursion = items.get("$ref", "")[len(REF_PREFIX):] in self._cyclic and low == 0

        def build_array(rng: random.Random, depth: int) -> list:
            if stops_recursion and depth >= MAX_DEPTH:
                return []
            return [item(rng, depth) for _ in range(low + int(rng.random() * (high - low + 1)))]
        return build_array

    def _timestamp(self, rng: random.Random) -> int:
        return self._time_low + int(rng.random() * (self._time_high - self._time_low))

    def _integer(self, schema: dict, name: str) -> Generator:
        if schema.get("format") in ("date-time", "timestamp") or name.endswith("_at"):
            return lambda rng, depth: self._timestamp(rng)
        low = schema.get("minimum", 1 if is_id_name(name) else 0) + bool(schema.get("exclusiveMinimum"))
        example = schema.get("example")
        default_high = 10 ** 8 if is_id_name(name) else max(1000, example * 3 if type(example) is int else 0)
        high = schema.get("maximum", max(low, default_high)) - bool(schema.get("exclusiveMaximum"))
        return lambda rng, depth: low + int(rng.random() * (high - low + 1))

    def _string(self, schema: dict, name: str) -> Generator:
        generator = self._string_by_meaning(schema, name)
        low, high, pattern = schema.get("minLength", 0), schema.get("maxLength"), schema.get("pattern")
        if not (low or high or pattern):
            return generator

        def constrained(rng: random.Random, depth: int) -> str:
            for _ in range(5):
                text = generator(rng, depth)[:high].ljust(low, "0")
                if not pattern or re.search(pattern, text):
                    return text
            return schema.get("example", text)  # patterns are rare; the example is the best fallback
        return constrained

    def _string_by_meaning(self, schema: dict, name: str) -> Generator:
        fmt, example = schema.get("format"), schema.get("example")
        example = example if isinstance(example, str) else None
        if fmt == "date-time" or (name.endswith("_at") and example is None) or re.match(ISO_DATE, example or ""):
            return lambda rng, depth: utc(self._timestamp(rng)).strftime("%Y-%m-%dT%H:%M:%SZ")
        if fmt == "date":
            return lambda rng, depth: utc(self._timestamp(rng)).strftime("%Y-%m-%d")
        if fmt == "uuid" and schema.get("maxLength", 36) >= 36:  # one request schema asks for a 24-char "uuid"
            return lambda rng, depth: uuid4_string(rng)
        if fmt == "byte":
            return lambda rng, depth: base64.b64encode(rng.randbytes(12)).decode("ascii")
        if fmt == "email" or name == "email" or name.endswith("_email"):
            return lambda rng, depth: email_address(rng)
        if fmt == "uri" or name in ("url", "website", "avatar") or name.endswith("_url"):
            if example and not example.startswith("http"):  # relative paths, and `type`s the spec marks as uri
                return self._varied_example(example)
            host = re.match(r"https?://([^/]+)", example or "")
            host = host.group(1) if host else "www.example.com"
            return lambda rng, depth: f"https://{host}/{pick(rng, ASCII_NAMES)}/{digits(rng, 6)}"
        if is_id_name(name):
            length = len(example) if example and example.isdigit() and len(example) >= 6 else 8
            length = max(length, schema.get("minLength", 0))
            return lambda rng, depth: digits(rng, length)
        if name in VOCABULARY:
            options = VOCABULARY[name]
            return lambda rng, depth: pick(rng, options)
        if name in TEXT_FIELDS or (example and example.count(" ") >= 4):
            if name in ("body", "html") or (example or "").startswith("<"):
                return lambda rng, depth: f"<p>{phrase(rng, WORDS, 4, 12)}</p>"
            return lambda rng, depth: phrase(rng, WORDS, 3, 12)
        if name in TITLE_FIELDS:
            return lambda rng, depth: phrase(rng, TITLE_WORDS, 2, 6)
        if name == "name":
            if example and re.fullmatch(r"[A-Z]\w+ [A-Z]\w+", example):
                return lambda rng, depth: person_name(rng)
            return lambda rng, depth: phrase(rng, LABEL_WORDS, 1, 3)
        if example is not None:
            return self._varied_example(example)
        return lambda rng, depth: pick(rng, WORDS)

    @staticmethod
    def _varied_example(example: str) -> Generator:
        """Keep the example's shape but re-roll its ids and numbers, so records differ."""
        pieces = EXAMPLE_RUNS.split(example)  # odd positions are the runs to re-roll
        if len(pieces) == 1:
            return lambda rng, depth: example

        def varied(rng: random.Random, depth: int) -> str:
            out = []
            for index, piece in enumerate(pieces):
                if index % 2 == 0:
                    out.append(piece)
                elif piece.isdigit():
                    out.append(digits(rng, len(piece)))
                else:
                    out.append(f"{rng.getrandbits(4 * len(piece)):0{len(piece)}x}")
            return "".join(out)
        return varied
