"""Intercom REST API endpoints served from the sandbox world (2.16's; versions.py narrows them per version).

Each handler takes the parsed request and returns a `Reply`; the HTTP layer
(`server.py`) does authentication, versioning, rate limiting and faults around it.
"""

from __future__ import annotations

import bisect
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from .jsonio import encode, join_array
from .pagination import BadCursor, cursor_pages, decode_cursor, encode_cursor, parse_per_page
from .search import SearchError, SearchModel, parse_search_request
from .versions import DEFAULT_VERSION
from .world import CONVERSATION_CUSTOM, World

if TYPE_CHECKING:
    from .controls import Faults


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    served_ids: list[str] = field(default_factory=list)  # records on a search page (for the vanish fault)
    content_type: str = "application/json; charset=utf-8"
    cut_after: int | None = None  # send only this many body bytes, then close: an interrupted download


def error_reply(status: int, code: str, message: str, field_name: str | None = None) -> Reply:
    body = {"type": "error.list", "request_id": str(uuid.uuid4()),
            "errors": [{"code": code, "message": message, "field": field_name}]}
    return Reply(status, encode(body))


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.reply = error_reply(status, code, message)


def not_found(what: str = "Resource Not Found") -> ApiError:
    return ApiError(404, "not_found", what)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any = None  # parsed JSON for POST
    headers: Any = field(default_factory=dict)  # the HTTP headers (a case-insensitive mapping from the server)
    base_url: str = ""  # the sandbox's own http://host:port, for absolute URLs such as download_url
    faults: Faults | None = None  # for the faults a handler applies itself (job_fail, download_cut)
    fired: list[str] = field(default_factory=list)  # those that fired, for the stats
    version: str = DEFAULT_VERSION  # the Intercom-Version asked for (versions.py)

    def fault(self, kind: str) -> bool:
        """Whether this request suffers the handler-applied fault `kind` (a counted rule is used up)."""
        if self.faults is None or not self.faults.pick(self.method, self.path, (kind,)):
            return False
        self.fired.append(kind)
        return True


def envelope(parts: dict[str, Any], list_key: str, items: list[bytes]) -> bytes:
    """A JSON object whose `list_key` holds already encoded records."""
    head = encode(parts)[:-1]
    glue = b"," if len(head) > 1 else b""
    return head + glue + b'"' + list_key.encode() + b'":' + join_array(items) + b"}"


@dataclass
class CachedSearch:
    version: int
    keys: list[tuple]  # ascending (sort key, record index)


class Scroll:
    """The one open companies scroll of the app."""

    def __init__(self, param: str, now: float) -> None:
        self.param = param
        self.position = 0  # next record index to serve
        self.page = 0
        self.last_used = now


class IntercomApi:
    def __init__(self, world: World, *, scroll_page_size: int = 50, scroll_expiry: float = 60.0) -> None:
        self.world = world
        self.scroll_page_size = scroll_page_size
        self.scroll_expiry = scroll_expiry
        self.scroll: Scroll | None = None
        self._scroll_lock = threading.Lock()
        self._search_cache: dict[tuple, CachedSearch] = {}
        self._search_lock = threading.Lock()
        self.search_models = {
            "contacts": self._search_model("contact", "contact", 50, contacts=True),
            "conversations": self._search_model("conversation", "conversation_list_item", 20),
        }
        self.routes: list[tuple[str, re.Pattern, Callable[..., Reply]]] = [
            ("GET", re.compile(p), h) for p, h in [
                (r"/me", self.me),
                (r"/admins", self.admins),
                (r"/admins/(?P<admin_id>[^/]+)", self.admin),
                (r"/teams", self.teams),
                (r"/tags", self.tags),
                (r"/segments", self.segments),
                (r"/data_attributes", self.data_attributes),
                (r"/conversations/attributes", self.conversation_attributes),
                (r"/companies/scroll", self.companies_scroll),
                (r"/companies/(?P<company_id>[^/]+)/segments", self.company_segments),
                (r"/companies/(?P<company_id>[^/]+)", self.company),
                (r"/contacts", self.list_contacts),
                (r"/contacts/(?P<contact_id>[^/]+)", self.contact),
                (r"/conversations", self.list_conversations),
                (r"/conversations/(?P<conversation_id>[^/]+)", self.conversation),
            ]
        ] + [
            ("POST", re.compile(p), h) for p, h in [
                (r"/contacts/search", self.search_contacts),
                (r"/conversations/search", self.search_conversations),
            ]
        ]
        # Domain endpoints first: their fixed paths (/conversations/deleted) beat the core {id} patterns.
        self.routes = [(method, re.compile(pattern), handler) for domain in world.domains
                       for method, pattern, handler in domain.routes(self)] + self.routes

    # Routing ------------------------------------------------------------------------------

    def route(self, method: str, path: str) -> tuple[str, Callable[..., Reply], dict[str, str]] | None:
        """(route pattern, handler, path parameters) for a request, or None."""
        for route_method, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                return pattern.pattern, handler, match.groupdict()
        return None

    def path_exists(self, path: str) -> bool:
        return any(pattern.fullmatch(path) for _, pattern, _ in self.routes)

    def handle(self, handler: Callable[..., Reply], request: Request, params: dict[str, str]) -> Reply:
        try:
            return handler(request, **params)
        except ApiError as exc:
            return exc.reply
        except SearchError as exc:
            return error_reply(exc.status, exc.code, exc.message)
        except (BadCursor, ValueError) as exc:
            return error_reply(400, "parameter_invalid", str(exc))

    # Small lists ------------------------------------------------------------------------------

    def _json(self, obj: dict) -> Reply:
        return Reply(200, encode(obj))

    def _table_list(self, kind: str, envelope_fields: dict, list_key: str) -> Reply:
        table = self.world.table(kind)
        return Reply(200, envelope(envelope_fields, list_key, [table.encoded(i) for i in table.live()]))

    def me(self, request: Request) -> Reply:
        admin = self.world.table("admins").record(0)
        rng = self.world.rng("me", 0)
        me = self.world.build("admin_with_app", rng, {
            "type": "admin", "id": admin["id"], "name": admin["name"], "email": admin["email"],
            "email_verified": True, "team_ids": admin["team_ids"], "avatar": admin["avatar"],
        })
        me["app"].update({"id_code": "ecahpwf5", "name": "Sandbox Workspace", "timezone": self.world.timezone_name,
                          "region": "US"})
        return self._json(me)

    def admins(self, request: Request) -> Reply:
        return self._table_list("admins", {"type": "admin.list"}, "admins")

    def admin(self, request: Request, admin_id: str) -> Reply:
        return self._detail("admins", admin_id)

    def teams(self, request: Request) -> Reply:
        return self._table_list("teams", {"type": "team.list"}, "teams")

    def tags(self, request: Request) -> Reply:
        return self._table_list("tags", {"type": "list"}, "data")

    def segments(self, request: Request) -> Reply:
        table = self.world.table("segments")
        with_count = request.query.get("include_count") == "true"
        items = [table.encoded(i) if with_count else encode(without(table.record(i), "count")) for i in table.live()]
        return Reply(200, envelope({"type": "segment.list"}, "segments", items))

    def data_attributes(self, request: Request) -> Reply:
        model = request.query.get("model")
        if model == "conversation":
            if request.version == "2.16":  # the one version here with GET /conversations/attributes
                raise ApiError(422, "parameter_invalid",
                               "Conversation data attributes moved to GET /conversations/attributes in version 2.16")
            return self._json({"type": "list", "data": self.world.conversation_data_attributes(
                include_archived=request.query.get("include_archived") == "true")})
        models = [model] if model else ["contact", "company"]
        if any(m not in self.world.data_attributes for m in models):
            raise ApiError(400, "parameter_invalid", f"model must be contact or company, got {model!r}")
        records = [a for m in models for a in self.world.data_attributes[m]]
        if request.query.get("include_archived") != "true":
            records = [a for a in records if not a.get("archived")]
        return self._json({"type": "list", "data": records})

    def conversation_attributes(self, request: Request) -> Reply:
        return self._json({"type": "list", "data": self.world.conversation_attributes})

    def _detail(self, kind: str, record_id: str) -> Reply:
        table = self.world.table(kind)
        i = table.find(record_id)
        if i is None:
            raise not_found()
        return Reply(200, table.encoded(i))

    def company(self, request: Request, company_id: str) -> Reply:
        return self._detail("companies", company_id)

    def contact(self, request: Request, contact_id: str) -> Reply:
        return self._detail("contacts", contact_id)

    def company_segments(self, request: Request, company_id: str) -> Reply:
        i = self.world.table("companies").find(company_id)
        if i is None:
            raise not_found("Company Not Found")
        segments = self.world.table("segments")
        items = [segments.encoded(s) for s in self.world.company_segment_indexes(i)]
        return Reply(200, envelope({"type": "list"}, "data", items))

    def conversation(self, request: Request, conversation_id: str) -> Reply:
        i = self.world.table("conversations").find(conversation_id)
        if i is None:
            raise not_found("Conversation Not Found")
        return self._json(self.world.conversation_detail(i))

    # Page-number lists -------------------------------------------------------------------------

    def page_number_list(self, request: Request, items: list[bytes], *, list_key: str = "data",
                         envelope_type: str = "list", default: int = 50, maximum: int = 150,
                         style: str = "cursor_pages") -> Reply:
        """One page of `items` (already encoded records) for `page` and `per_page`.

        `style` follows the endpoint's schema: "cursor_pages" (a `pages` object without `next`),
        "pages_link" (`pages.next` is the next page's URL, or null on the last page) or "top_level"
        (page, per_page and total_pages beside `data`, as content snippets answer).
        """
        per_page = parse_per_page(request.query.get("per_page"), default, maximum)
        raw_page = request.query.get("page") or "1"
        if not raw_page.isdigit() or int(raw_page) < 1:
            raise ValueError(f"page must be a positive integer, got {raw_page!r}")
        page = int(raw_page)
        total = len(items)
        total_pages = max(1, -(-total // per_page))
        chosen = items[(page - 1) * per_page: page * per_page]
        if style == "top_level":
            parts: dict[str, Any] = {"type": envelope_type, "page": page, "per_page": per_page,
                                     "total_pages": total_pages, "total_count": total}
        else:
            pages: dict[str, Any] = {"type": "pages", "page": page, "per_page": per_page, "total_pages": total_pages}
            if style == "pages_link":
                query = {**request.query, "page": str(page + 1), "per_page": str(per_page)}
                pages["next"] = f"{request.path}?{urlencode(query)}" if page < total_pages else None
            parts = {"type": envelope_type, "total_count": total, "pages": pages}
        return Reply(200, envelope(parts, list_key, chosen))

    # Cursor lists ----------------------------------------------------------------------------

    def _cursor_list(self, request: Request, kind: str, list_key: str, envelope_type: str, default: int) -> Reply:
        table = self.world.table(kind)
        per_page = parse_per_page(request.query.get("per_page"), default)
        after = request.query.get("starting_after")
        start = decode_cursor(after)[0] + 1 if after else 0
        page_indexes: list[int] = []
        i = start
        while i < len(table) and len(page_indexes) <= per_page:
            if table.alive[i]:
                page_indexes.append(i)
            i += 1
        more = len(page_indexes) > per_page
        page_indexes = page_indexes[:per_page]
        total = table.live_count()
        before = sum(1 for j in range(start) if table.alive[j]) if start else 0
        next_cursor = encode_cursor([page_indexes[-1]]) if more else None
        parts = {"type": envelope_type, "total_count": total,
                 "pages": cursor_pages(before // per_page + 1, per_page, total, next_cursor)}
        return Reply(200, envelope(parts, list_key, [table.encoded(j) for j in page_indexes]))

    def list_contacts(self, request: Request) -> Reply:
        return self._cursor_list(request, "contacts", "data", "list", 50)

    def list_conversations(self, request: Request) -> Reply:
        return self._cursor_list(request, "conversations", "conversations", "conversation.list", 20)

    # Search ----------------------------------------------------------------------------------

    def _search_model(self, name: str, schema_name: str, per_page: int, contacts: bool = False) -> SearchModel:
        field_types = searchable_fields(self.world.spec["components"]["schemas"], schema_name)
        if name == "contact":
            for attribute in self.world.data_attributes["contact"]:
                if attribute["custom"]:
                    field_types[attribute["full_name"]] = attribute["data_type"]
        elif name == "conversation":  # tickets (domains/tickets.py) have no custom_attributes
            for attr_name, kind in CONVERSATION_CUSTOM:
                field_types[f"custom_attributes.{attr_name}"] = SEARCH_TYPES.get(kind, kind)
        if not contacts:
            field_types["id"] = "ordered_string"  # clients page conversations by `id > last id`
        multi = {"tag_id", "segment_id", "company_id"} if contacts else {"contact_ids", "tag_ids", "teammate_ids"}
        for f in multi:
            field_types[f] = "string"
        return SearchModel(
            name=name, field_types=field_types, default_per_page=per_page, day_grain_dates=contacts,
            inclusive_ranges=not contacts, timezone=self.world.timezone, tag_field_restricted=contacts,
            word_match_fields=frozenset() if contacts else frozenset({"source.body"}),
            multi_valued_fields=frozenset(multi),
        )

    def _accessor(self, kind: str, i: int) -> Callable[[str], Any]:
        table = self.world.table(kind)
        columns = {"created_at": table.created_at, "updated_at": table.updated_at}

        def get(path: str) -> Any:
            if path in columns:
                return columns[path][i]
            if path == "id":
                return table.ids[i]
            record = table.record(i)
            special = MULTI_VALUED.get(path)
            if special:
                return special(self.world, record, i)
            if path.startswith(CUSTOM):  # the rest is one name, dots and all ("Refund.Amount")
                return (record.get("custom_attributes") or {}).get(path[len(CUSTOM):])
            value: Any = record
            for key in path.split("."):
                if not isinstance(value, dict):
                    return None
                value = value.get(key)
            return value

        return get

    def _search_keys(self, kind: str, request_body: Any, search) -> list[tuple]:
        """Every matching record as (sort key, index), ascending; cached until the table changes."""
        table = self.world.table(kind)
        now = self.world.clock.now()
        pending = any(t > now for t in table.searchable_from.values())
        cache_key = (kind, json.dumps(request_body.get("query"), sort_keys=True), search.sort_field)
        with self._search_lock:
            cached = self._search_cache.get(cache_key)
            if cached and cached.version == table.version and not pending:
                return cached.keys
        sort_field = search.sort_field or "id"
        keys = []
        for i in table.live():
            if pending and table.searchable_from.get(i, 0) > now:
                continue  # newly created contacts are not searchable yet
            get = self._accessor(kind, i)
            if search.predicate(get):
                value = get(sort_field)
                keys.append((value is not None, value if value is not None else 0, i))
        keys.sort()
        if pending:
            return keys  # visibility changes with time alone: not cacheable
        with self._search_lock:
            if len(self._search_cache) > 64:
                self._search_cache.clear()
            self._search_cache[cache_key] = CachedSearch(table.version, keys)
        return keys

    def _search(self, request: Request, kind: str, list_key: str, envelope_type: str,
                encoded: Callable[[int], bytes] | None = None) -> Reply:
        """One page of a search; `encoded(i)` gives a record as served (default: the table's cached bytes)."""
        if not isinstance(request.body, dict):
            raise ApiError(400, "parameter_invalid", "The request body must be a JSON object with a query")
        search = parse_search_request(request.body, self.search_models[kind])
        keys = self._search_keys(kind, request.body, search)
        total, per_page = len(keys), search.per_page
        if search.starting_after:
            position = tuple(decode_cursor(search.starting_after))
            if search.descending:
                end = bisect.bisect_left(keys, position)
            else:
                start = bisect.bisect_right(keys, position)
        else:
            end, start = total, 0
        if search.descending:
            chosen = keys[max(0, end - per_page):end][::-1]
            done_before, more = total - end, end - per_page > 0
        else:
            chosen = keys[start:start + per_page]
            done_before, more = start, start + per_page < total
        table = self.world.table(kind)
        encoded = encoded or table.encoded
        next_cursor = encode_cursor(list(chosen[-1])) if more and chosen else None
        parts = {"type": envelope_type, "total_count": total,
                 "pages": cursor_pages(done_before // per_page + 1, per_page, total, next_cursor)}
        return Reply(200, envelope(parts, list_key, [encoded(k[2]) for k in chosen]),
                     served_ids=[table.ids[k[2]] for k in chosen])

    def search_contacts(self, request: Request) -> Reply:
        return self._search(request, "contacts", "data", "list")

    def search_conversations(self, request: Request) -> Reply:
        return self._search(request, "conversations", "conversations", "conversation.list")

    # Companies scroll -----------------------------------------------------------------------

    def companies_scroll(self, request: Request) -> Reply:
        param = request.query.get("scroll_param")
        now = time.monotonic()
        table = self.world.table("companies")
        with self._scroll_lock:
            scroll = self.scroll
            if scroll and now - scroll.last_used > self.scroll_expiry:
                scroll = self.scroll = None  # expired after a minute unused
            if not param:
                if scroll:
                    raise ApiError(400, "scroll_exists", "scroll already exists for this workspace")
                scroll = self.scroll = Scroll(uuid.uuid4().hex, now)
            elif scroll is None or scroll.param != param:
                raise ApiError(404, "not_found", "scroll parameter not found or expired")
            scroll.last_used = now
            page_indexes: list[int] = []
            i = scroll.position
            while i < len(table) and len(page_indexes) < self.scroll_page_size:
                if table.alive[i]:
                    page_indexes.append(i)
                i += 1
            scroll.position = i
            scroll.page += 1
            if not page_indexes:
                self.scroll = None  # the end: an empty page, and the scroll parameter expires
            total = table.live_count()
            parts = {"type": "list", "total_count": total, "scroll_param": scroll.param,
                     "pages": cursor_pages(scroll.page, self.scroll_page_size, total, None)}
            return Reply(200, envelope(parts, "data", [table.encoded(j) for j in page_indexes]))

    def abort_scroll(self) -> None:
        """A network failure mid-scroll: the scroll is gone and must be restarted."""
        with self._scroll_lock:
            self.scroll = None


def without(record: dict, key: str) -> dict:
    return {k: v for k, v in record.items() if k != key}


MULTI_VALUED: dict[str, Callable[[World, dict, int], list]] = {
    # every tag / company of the contact, not only the 10 its record embeds
    "tag_id": lambda w, r, i: [w.tables["tags"].ids[g] for g in w.contact_tag_indexes(i)],
    "company_id": lambda w, r, i: [w.tables["companies"].ids[c] for c in w.contact_company_indexes(i)],
    "segment_id": lambda w, r, i: [],
    "contact_ids": lambda w, r, i: [c["id"] for c in (r.get("contacts") or {}).get("contacts") or []],
    "tag_ids": lambda w, r, i: [t["id"] for t in (r.get("tags") or {}).get("tags") or []],
    "teammate_ids": lambda w, r, i: [t["id"] for t in (r.get("teammates") or {}).get("teammates") or []],
}

CUSTOM = "custom_attributes."
# Search types of the attribute data types that have other names.
SEARCH_TYPES = {"decimal": "float", "datetime": "date", "list": "string"}
SCALAR_TYPES = {"string": "string", "integer": "integer", "number": "float", "boolean": "boolean"}


def searchable_fields(schemas: dict, schema_name: str, depth: int = 2) -> dict[str, str]:
    """Dotted field paths of an object with their search type; unix timestamps are dates."""
    fields: dict[str, str] = {}

    def resolve(schema: dict) -> dict:
        while "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def walk(schema: dict, prefix: str, level: int) -> None:
        for name, prop in (resolve(schema).get("properties") or {}).items():
            prop = resolve(prop)
            path = prefix + name
            kind = prop.get("type")
            if kind == "integer" and prop.get("format") in ("date-time", "timestamp"):
                fields[path] = "date"
            elif kind in SCALAR_TYPES:
                fields[path] = SCALAR_TYPES[kind]
            elif kind == "object" and level < depth:
                walk(prop, path + ".", level + 1)

    walk(schemas[schema_name], "", 0)
    return fields
