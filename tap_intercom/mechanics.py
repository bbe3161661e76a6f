"""The ways Intercom hands out its data, each written once.

- `IntercomStream`: a plain list in one answer (admins, tags, …), and the base of the rest.
- `PageNumberStream`: `page`/`per_page` lists (articles, calls, …).
- `SearchStream`: POST /…/search, incremental on `updated_at`, cursor in the body.
- `ScrollStream`: the companies scroll, restarted when Intercom breaks it.
- `DetailChildStream`: one GET (or one paged list) per parent record (conversation parts, notes …).
- `EmbeddedChildStream`: a list the parent record carries (contact tags, ticket parts), fetched
  separately only when the parent's copy is truncated.
- `exports.ExportJobStream`: the asynchronous export jobs.

Streams (in `streams/`) are short declarations on top of these.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from singer_sdk import RESTStream, metrics
from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.catalog import REPLICATION_FULL_TABLE
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.pagination import BaseAPIPaginator, PageNumberPaginator, SinglePagePaginator
from singer_sdk.schema.source import SchemaDirectory, StreamSchema

from . import attributes
from .client import IntercomHttp
from .errors import (ForbiddenError, NotFoundError, PageFailedError, RequestError, ServerError, TransientError,
                     UnexpectedAnswerError)
from .progress import Progress
from .records import compile_transform
from .slices import walk_side_by_side
from .widening import Path as SchemaPath
from .widening import kind_of, types_of, widen_at


def schema_directory() -> Path:
    """`tap_intercom/schemas` inside a wheel, the repository's `schemas/` in a checkout."""
    packaged = Path(__file__).parent / "schemas"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "schemas"


SCHEMAS = SchemaDirectory(schema_directory())
DAY = 86_400


DEFAULT_MAX_CONCURRENCY = 32  # the setting's default: what reaches the rate limit at Intercom's latency
DEFAULT_API_VERSION = "2.16"
API_VERSIONS = ("2.11", "2.14", "2.15", "2.16")  # the versions the tap has been shown to read


def max_concurrency(config: dict) -> int:
    return int(config.get("max_concurrency") or DEFAULT_MAX_CONCURRENCY)


def listed(body: dict, keys: tuple[str, ...], endpoint: str) -> list:
    """The records of a list answer, under the first of `keys` it has. The descriptions and
    their own examples sometimes name a list differently (GET /contacts/{id}/companies: schema
    `companies`, example `data`), so a stream may give both; an answer with neither is an error,
    never zero records in silence."""
    for key in keys:
        if key in body:
            return body[key] or []
    raise UnexpectedAnswerError(f"{endpoint} answered without its list ({' or '.join(map(repr, keys))}); "
                                f"it has {', '.join(map(repr, body)) or 'nothing'}")


def version_tuple(version: str) -> tuple[int, ...]:
    return attributes.version_tuple(version)


def for_api_version(tap: Any, streams: list) -> list:
    """The streams whose endpoint the configured `api_version` has; a note for each left out."""
    version = str(tap.config.get("api_version") or DEFAULT_API_VERSION)
    kept = []
    for stream in streams:
        if version_tuple(version) >= version_tuple(stream.since):
            kept.append(stream)
        else:
            tap.logger.info("Stream '%s' left out: its endpoint (%s) arrived in Intercom API %s; api_version is %s",
                            stream.name, stream.path, stream.since, version)
    return kept


def custom_attribute_definitions(tap: Any, model: str) -> dict[str, str]:
    """name → data type of a model's custom attributes, read once per tap (see attributes.py)."""
    cache = tap.__dict__.setdefault("_intercom_attribute_definitions", {})
    if model not in cache:
        cache[model] = attributes.definitions(shared_http(tap), model, str(tap.config.get("api_version") or
                                                                          DEFAULT_API_VERSION), tap.logger)
    return cache[model]


class WorkspaceSchema(StreamSchema):
    """A stream's schema file, its custom attributes typed from the workspace's definitions.

    With an input catalog the catalog's schema is the stream's (no definitions are read); the
    SDK itself still reads `schema` during a sync (replication key checks)."""

    def get_stream_schema(self, stream, stream_class):
        schema = stream.__dict__.get("_workspace_schema")
        if schema is None:
            catalog = stream._tap.input_catalog
            entry = catalog.get_stream(stream.name) if catalog is not None else None
            if entry is not None:
                schema = entry.schema.to_dict()
            else:
                schema = super().get_stream_schema(stream, stream_class)
                if stream.custom_attributes:
                    field, model = stream.custom_attributes
                    schema = attributes.typed(schema, field, custom_attribute_definitions(stream._tap, model))
            stream.__dict__["_workspace_schema"] = schema
        return schema


def next_cursor(body: dict) -> str | None:
    """`pages.next.starting_after` of a search or cursor-paged answer, None on the last page."""
    following = (body.get("pages") or {}).get("next") or {}
    return following.get("starting_after") if isinstance(following, dict) else None


def worker_pool(tap: Any) -> ThreadPoolExecutor:
    """The tap's one pool of request workers (`max_concurrency`), made on first use."""
    pool = getattr(tap, "_intercom_pool", None)
    if pool is None:
        pool = ThreadPoolExecutor(max_workers=max_concurrency(tap.config),
                                  thread_name_prefix="intercom")
        tap._intercom_pool = pool
    return pool


def shared_http(tap: Any) -> IntercomHttp:
    """The tap's one HTTP policy (and so one rate-limit budget), made on first use."""
    http = getattr(tap, "_intercom_http", None)
    if http is None:
        http = IntercomHttp(dict(tap.config), tap.logger)
        tap._intercom_http = http
    return http


class IntercomStream(RESTStream):
    """A list that comes whole in one answer under `records_key` (a key, or keys to try in turn)."""

    schema = WorkspaceSchema(SCHEMAS)
    primary_keys: ClassVar[tuple[str, ...]] = ("id",)
    records_key: ClassVar[str | tuple[str, ...]] = "data"
    since = "2.11"  # the first Intercom API version with this stream's endpoint
    custom_attributes: ClassVar[tuple[str, str] | None] = None  # (field, model) typed at discovery
    permission = "the scope this endpoint needs"  # named in the warning when Intercom answers 403
    max_page_size = 150  # the endpoint's largest page: fewer requests
    child_key: ClassVar[str | None] = None  # e.g. "contact_id": the context this stream gives its children

    @property
    def page_size(self) -> int:
        return min(self.max_page_size, int(self.config.get("page_size") or self.max_page_size))

    def get_child_context(self, record: dict, context: dict | None) -> dict:
        key = self.child_key
        return super().get_child_context(record, context) if key is None else {key: record["id"]}

    # ACTIVATE_VERSION: a stream that reads its whole collection on every sync tells the target,
    # once every record is out, which version is complete, so rows deleted in Intercom can go.
    # Only then: announced before the records (as the SDK does), a target would drop the old
    # rows first and show a half-loaded table if the sync failed. Incremental streams and the
    # children of incremental parents read part of their collection and never send it.
    @property
    def reads_whole_collection(self) -> bool:
        if self.replication_method != REPLICATION_FULL_TABLE:
            return False
        if self.parent_stream_type is None:
            return True
        parent = next(s for s in self._tap.streams.values() if self in s.child_streams)
        return parent.reads_whole_collection

    @property
    def emit_activate_version_messages(self) -> bool:
        # Children are versioned by their parent's sync, not once per parent record.
        return (self.parent_stream_type is None and self.reads_whole_collection
                and self.config.get("emit_activate_version_messages", True))

    _activation_due = False

    def _write_activate_version_message(self, full_table_version: int) -> None:
        if self._activation_due:
            super()._write_activate_version_message(full_table_version)

    def sync(self, context: dict | None = None) -> None:
        versioned_children = [c for c in self.child_streams if c.selected and c.reads_whole_collection
                              and self.config.get("emit_activate_version_messages", True)]
        for child in versioned_children:
            child._stream_version = self._initialized_at // 1000  # the version their records carry
        super().sync(context)  # sets this stream's own version when it is versioned
        if self.parent_stream_type is None:
            self.progress.finish()
        for child in self.child_streams:
            if isinstance(child, DetailChildStream):
                child.finish_metrics()
        finished = [self] if self.selected and self.emit_activate_version_messages else []
        for stream in finished + versioned_children:
            stream._activation_due = True
            stream._write_activate_version_message(stream._stream_version)
            stream._activation_due = False

    @cached_property
    def http(self) -> IntercomHttp:
        return shared_http(self._tap).for_stream(self.name)  # its requests counted for this stream

    @property
    def url_base(self) -> str:
        return self.http.base_url

    @property
    def requests_session(self):
        return self.http.session

    def request_decorator(self, func):
        return func  # retries and rate limits live in the HTTP policy, not in the SDK's backoff

    def _request(self, prepared_request, context):
        return self.http.send(prepared_request)

    def get_new_paginator(self):
        return SinglePagePaginator()

    @property
    def list_keys(self) -> tuple[str, ...]:
        return (self.records_key,) if isinstance(self.records_key, str) else tuple(self.records_key)

    def records_in(self, body: dict) -> list:
        return listed(body, self.list_keys, f"{getattr(self, 'http_method', 'GET')} {self.path}")

    def parse_response(self, response) -> Iterable[dict]:
        yield from self.records_in(response.intercom_json)

    # Records are conformed by `records.compile_transform` in post_process, in one compiled pass;
    # the SDK's generic walk over every value would cost more than the rest of the sync.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    @cached_property
    def conform(self):
        return compile_transform(self.effective_schema, self._on_drift)

    @cached_property
    def _drifts(self) -> list[tuple[SchemaPath, Any]]:
        return []

    def _on_drift(self, path: SchemaPath, value: Any) -> None:
        self._drifts.append((path, value))

    def shape(self, record: dict) -> dict:
        """The record conformed to the schema, which first widens if the record carries what it
        does not take (nothing is dropped; see records.py)."""
        record = self.conform(record)
        if self._drifts:
            self.widen_schema()
            record = self.conform(record)  # converts what the new properties need (ids, moments)
            self._drifts.clear()
        return record

    def widen_schema(self) -> None:
        """Take every drift seen into the schema, announce it once each, and send the new
        SCHEMA before the record that needed it."""
        schema = before = self.effective_schema
        for path, value in self._drifts:
            widened = widen_at(schema, path, value)
            if widened is not schema:
                self._announce_drift(schema, path, value)
                schema = widened
        self._drifts.clear()
        if schema is before:
            return
        self._input_schema = schema  # the SDK's effective schema, for the rest of the sync
        if self._tap.mapper is not None:
            self._tap.mapper.register_raw_stream_schema(self.name, schema, self.primary_keys)
        self._stream_maps = None
        self.__dict__.pop("conform", None)
        if self._schema_written:
            super()._write_schema_message()

    def _announce_drift(self, schema: dict, path: SchemaPath, value: Any) -> None:
        node: dict | None = schema
        for step in path:
            node = (node or {}).get("items") if step == "[]" else (node or {}).get("properties", {}).get(step)
        where = ".".join(path).replace(".[]", "[]")
        if node is None:
            self.logger.warning("Stream '%s': Intercom sent property '%s' (%s), which the schema lacks; "
                                "added to the schema", self.name, where, kind_of(value))
        else:
            declared = "|".join(sorted(types_of(node) - {"null"})) or "any"
            self.logger.warning("Stream '%s': property '%s' arrived as %s, which the schema (%s) does not take; "
                                "the schema now takes both", self.name, where, kind_of(value), declared)

    @cached_property
    def _deselects_properties(self) -> bool:
        return not all(self.mask.values())

    records_written = 0  # for the run summary (the SDK's counter is logged, not kept)

    @cached_property
    def progress(self) -> Progress:
        """Records done of the total Intercom announced; a child's records are told in its parent's line."""
        return Progress(self.name, self.logger,
                        children=lambda: {c.name: c.records_written for c in self.child_streams if c.selected})

    def _generate_record_messages(self, record: dict):
        # As the SDK's, minus its walk over every record for deselected properties when the
        # catalog deselects none (the usual case), and minus type conformance (done above).
        self.records_written += 1
        if self.parent_stream_type is None:
            self.progress.advance()
        if self._deselects_properties:
            pop_deselected_record_properties(record, self.schema, self.mask)
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(stream=stream_map.stream_alias, record=mapped, version=self._stream_version,
                                    time_extracted=utc_now())

    _schema_written = False

    def _write_schema_message(self) -> None:
        # The SDK writes SCHEMA on every sync() call, for a child once per parent record.
        if not self._schema_written:
            self._schema_written = True
            super()._write_schema_message()

    def post_process(self, row: dict, context: dict | None = None) -> dict | None:
        if not self.keeps(row):
            return None
        # Embedded children take their lists from the raw record: conform drops what the
        # parent's schema does not declare.
        for child in self.child_streams:
            if isinstance(child, EmbeddedChildStream) and child.selected:
                child.embedded[row["id"]] = child.embedded_list(row)
            if isinstance(child, DetailChildStream) and child.moved_from_parent:
                row.pop(child.moved_from_parent, None)  # its items are the child's records
        return self.shape(row)

    forbidden = False  # set after a 403: the rest of the stream (every other parent) is skipped too

    def keeps(self, row: dict) -> bool:
        """Whether post_process will keep this raw record (children are fetched only for those)."""
        return True

    def get_records(self, context: dict | None) -> Iterable[dict]:
        if self.forbidden:
            return
        try:
            records = super().get_records(context)
            fetchers = [c for c in self.child_streams if c.selected and isinstance(c, DetailChildStream)]
            yield from self.prefetching(records, fetchers) if fetchers else records
        except ForbiddenError as exc:
            self.forbidden = True
            self.logger.warning("Skipping stream '%s': the access token lacks the '%s' permission (%s)",
                                self.name, self.permission, exc)


    def prefetching(self, records: Iterable[dict], fetchers: list[DetailChildStream]) -> Iterator[dict]:
        """The records, in order, while the children's requests of the next ones already run.

        The SDK syncs a parent's children before it writes the parent, one parent at a time;
        here the children of up to `2 × max_concurrency` parents ahead are fetched by the shared
        worker pool, so the requests overlap but records and STATE come out exactly as before.
        Memory holds that window of parents, not the stream.
        """
        pool = worker_pool(self._tap)
        ahead: deque[dict] = deque()
        for record in records:
            if self.keeps(record):
                for child in fetchers:
                    child.prefetch(record, pool)
            ahead.append(record)
            if len(ahead) > 2 * pool._max_workers:
                yield ahead.popleft()
        yield from ahead


class PageNumbers(PageNumberPaginator):
    """Pages 1, 2, … until `total_pages` (in `pages` or at the top level) or an empty page."""

    def __init__(self, list_keys: tuple[str, ...]) -> None:
        super().__init__(1)
        self.list_keys = list_keys

    def has_more(self, response) -> bool:
        body = response.intercom_json
        pages = body.get("pages") if isinstance(body.get("pages"), dict) else body
        page, total = pages.get("page"), pages.get("total_pages")
        if not next((body[key] for key in self.list_keys if key in body), None):
            return False
        return isinstance(page, int) and isinstance(total, int) and page < total


class StartingAfterCursor(BaseAPIPaginator):
    """`pages.next.starting_after` (searches, macros …), read from the body already parsed."""

    def get_next(self, response) -> str | None:
        return next_cursor(response.intercom_json)


class PageNumberStream(IntercomStream):
    """`page`/`per_page` lists. Intercom adds items at the front of most of them, which only
    repeats a record across a page boundary (the primary key dedupes it), never skips one."""

    extra_params: ClassVar[dict[str, str]] = {}

    def get_new_paginator(self):
        return PageNumbers(self.list_keys)

    def get_url_params(self, context, next_page_token):
        return {"page": next_page_token or 1, "per_page": self.page_size, **self.extra_params}

    def parse_response(self, response) -> Iterable[dict]:
        body = response.intercom_json
        if self.parent_stream_type is None and self.progress.total is None:
            pages = body.get("pages") if isinstance(body.get("pages"), dict) else body
            total, page_count = body.get("total_count"), pages.get("total_pages")
            if isinstance(total, int):
                self.progress.expect(total)
            elif isinstance(page_count, int):
                self.progress.expect(page_count * self.page_size)  # at most; the last page may be short
        yield from self.records_in(body)


class WindowedStream(IntercomStream):
    """Incremental on `updated_at` within a window frozen when the sync starts.

    The window runs from the bookmark (less `lookback_window_days`), or `start_date`, to
    the moment the sync started (or `end_date`). Records outside it are dropped here, so
    the bookmark never passes the frozen upper bound and a record updated during the
    sync is taken by the next one. The lower bound is inclusive: records sharing the
    bookmark's second are read again (delivery is at-least-once).
    """

    replication_key = "updated_at"

    def get_replication_key_signpost(self, context: dict | None = None) -> dt.datetime:
        now = super().get_replication_key_signpost(context)
        end = self.config.get("end_date")
        return min(now, parse_datetime(end)) if end else now

    @cached_property
    def window(self) -> tuple[int, int]:
        """[first, last] unix second this sync keeps."""
        start = self.get_starting_timestamp(self.context)
        first = int(start.timestamp()) if start else 0
        if first and self.stream_state.get("replication_key_value"):
            first -= int(self.config.get("lookback_window_days") or 0) * DAY
        return max(0, first), int(self.get_replication_key_signpost(self.context).timestamp())

    def keeps(self, row: dict) -> bool:
        first, last = self.window
        updated = row.get("updated_at")
        return not isinstance(updated, int) or first <= updated <= last


class SearchStream(WindowedStream):
    """POST /…/search for the window, ascending `updated_at`; the API's cursor walks a keyset,
    so nothing is lost at page boundaries.

    A window holding many records (a first sync, a backfill) is cut into time slices searched
    side by side (`slices.py`): each cursor is sequential, so one walk would leave the rate limit
    mostly unused (unless a child already costs a request per record). Records then arrive out
    of order, so the SDK keeps the bookmark as a progress marker and commits it when the stream
    ends (an interrupted backfill starts over; nothing is lost). Nightly windows are small and
    walked in order, resumable record by record.
    """

    # Contacts match dates by calendar day in the workspace's timezone: query whole days
    # around the window and keep the exact window on this side.
    day_grain_dates = False
    slice_min_records = int(os.environ.get("TAP_INTERCOM_SLICE_MIN_RECORDS", "3000"))
    _sliced = False

    @property
    def is_sorted(self) -> bool:
        return not self._sliced

    # A large search page (150 conversations, each with its company) is the answer that times
    # out or comes back 502/504 in real workspaces: after two failures the page is asked for
    # at half the size (down to 10), and the size grows back once pages succeed again. The
    # cursor is a keyset position, so a smaller page skips nothing and repeats nothing.
    SHRINK_AFTER_FAILURES = 2
    SMALLEST_PAGE = 10
    GROW_AFTER_SUCCESSES = 3
    _shrunk_page: int | None = None
    _successes = 0

    def search_page(self, first: int, last: int, cursor: str | None) -> dict:
        while True:
            size = self._shrunk_page or self.page_size
            can_shrink = size > self.SMALLEST_PAGE
            try:
                page = self.http.post(self.path, self.search_body(first, last, cursor, size),
                                      tries=self.SHRINK_AFTER_FAILURES if can_shrink else None)
            except PageFailedError as exc:
                smaller = max(self.SMALLEST_PAGE, size // 2)
                self._shrunk_page, self._successes = smaller, 0
                self.logger.warning("Stream '%s': a page of %d failed (%s); asking for %d per page",
                                    self.name, size, exc, smaller)
                continue
            if self._shrunk_page is not None:
                self._successes += 1
                if self._successes >= self.GROW_AFTER_SUCCESSES:
                    larger = min(self.page_size, self._shrunk_page * 2)
                    self._shrunk_page, self._successes = (None if larger >= self.page_size else larger), 0
                    self.logger.info("Stream '%s': pages succeed again; asking for %d per page", self.name, larger)
            return page

    def search_body(self, first: int, last: int, cursor: str | None, size: int) -> dict:
        """The query for records updated in [first, last] (exact seconds)."""
        if self.day_grain_dates:
            # `>` X matches from the day after X; `<` Y matches before Y's day.
            lower, upper = max(0, first - 2 * DAY), last + 2 * DAY
        else:
            lower, upper = first, last  # here `>` and `<` include the bound
        pagination: dict[str, Any] = {"per_page": size}
        if cursor:
            pagination["starting_after"] = cursor
        return {
            "query": {"operator": "AND", "value": [
                {"field": "updated_at", "operator": ">", "value": lower},
                {"field": "updated_at", "operator": "<", "value": upper},
            ]},
            "pagination": pagination,
            "sort": {"field": "updated_at", "order": "ascending"},
        }

    def search_pages(self, first: int, last: int) -> Iterator[dict]:
        """The answers of one cursor walk over [first, last]."""
        cursor = None
        while True:
            page = self.search_page(first, last, cursor)
            yield page
            cursor = next_cursor(page)
            if not cursor:
                return

    def request_records(self, context: dict | None) -> Iterable[dict]:
        first, last = self.window
        pages = self.search_pages(first, last)
        head = next(pages)
        if isinstance(head.get("total_count"), int) and self.parent_stream_type is None:
            # the whole window's count; time slices, searched side by side, add up to it
            self.progress.expect(head["total_count"])
        slices = self.slices(head, first, last)
        if not slices:
            for page in itertools.chain([head], pages):
                yield from self.records_in(page)
            return
        pages.close()  # its first page only told the size; the slices read everything again
        self._sliced = True
        self.state_manager._is_sorted = False  # the SDK's state manager read is_sorted when it was made
        self.logger.info("Stream '%s': searching %d time slices side by side", self.name, len(slices))
        yield from walk_side_by_side(slices, self.slice_pages, self.slice_walkers)

    @property
    def slice_walkers(self) -> int:
        return min(8, max(1, max_concurrency(self.config) // 4))

    def slices(self, head: dict, first: int, last: int) -> list[tuple[int, int]]:
        """Time slices of the window, or none when one walk is as good: few records (the first
        answer's `total_count`), or no concurrency."""
        total = head.get("total_count")
        if self.slice_walkers < 2 or not isinstance(total, int) or total < self.slice_min_records:
            return []
        if any(c.selected and not isinstance(c, EmbeddedChildStream) and isinstance(c, DetailChildStream)
               for c in self.child_streams):
            # A request per record already fills the budget (conversation parts); slices would
            # only add pages of large records waiting in memory.
            return []
        oldest = (self.records_in(head) or [{}])[0].get("updated_at")
        start = max(first, oldest) if isinstance(oldest, int) else first
        count = 4 * self.slice_walkers  # more slices than walkers: uneven slices still balance
        step = max(1, (last - start + 1) // count)
        bounds = [start + n * step for n in range(count)] + [last + 1]
        return [(lo, hi - 1) for lo, hi in zip(bounds, bounds[1:]) if lo < hi]

    def slice_pages(self, piece: tuple[int, int]) -> Iterator[list[dict]]:
        """The records of one slice, page by page, kept to the slice's exact seconds (the query
        is wider for contacts' day grain; a record belongs to exactly one slice)."""
        first, last = piece
        for page in self.search_pages(first, last):
            yield [r for r in self.records_in(page)
                   if not isinstance(r.get("updated_at"), int) or first <= r["updated_at"] <= last]


class ScrollStream(IntercomStream):
    """GET /companies/scroll: one scroll per app, restarted from scratch when Intercom breaks it.

    The scroll can neither filter nor sort, so every sync reads every company: full table.
    """

    scroll_path = "/companies/scroll"
    max_restarts = 10
    # Seconds between tries while another scroll is open (it expires after 60 s unused).
    scroll_exists_wait = float(os.environ.get("TAP_INTERCOM_SCROLL_EXISTS_WAIT_SECONDS", "15"))
    scroll_exists_tries = 6

    def request_records(self, context: dict | None) -> Iterable[dict]:
        seen: set[str] = set()  # a restarted scroll repeats what was already emitted
        for attempt in range(self.max_restarts + 1):
            try:
                for record in self._scroll():
                    if record.get("id") not in seen:
                        seen.add(record.get("id"))
                        yield record
                return
            except (ServerError, NotFoundError) as exc:
                if attempt == self.max_restarts:
                    raise TransientError(f"the companies scroll broke {attempt + 1} times; last: {exc}") from exc
                self.logger.warning("Restarting the companies scroll: %s", exc)

    def _scroll(self) -> Iterable[dict]:
        page = self._first_page()
        if isinstance(page.get("total_count"), int) and self.progress.total is None:
            self.progress.expect(page["total_count"])  # once: a restarted scroll announces it again
        while records := self.records_in(page):
            yield from records
            page = self.http.get(self.scroll_path, {"scroll_param": page["scroll_param"]},
                                 retry_errors=False)

    def _first_page(self) -> dict:
        for attempt in range(self.scroll_exists_tries):
            try:
                return self.http.get(self.scroll_path, retry_errors=False)
            except RequestError as exc:
                if "scroll_exists" not in exc.codes or attempt == self.scroll_exists_tries - 1:
                    raise
                self.logger.info("Another companies scroll is open; waiting %.0fs for it to expire",
                                 self.scroll_exists_wait)
                time.sleep(self.scroll_exists_wait)
        raise AssertionError("unreachable")


class DetailChildStream(IntercomStream):
    """One GET (or one paged list) per parent record; a parent deleted since it was listed
    (404) is skipped. `paged` children walk `page`/`per_page`."""

    parent_key: ClassVar[str]  # e.g. "conversation_id": the context key, also added to each record
    state_partitioning_keys: ClassVar[list[str]] = []  # state stays small: no partition per parent
    moved_from_parent: ClassVar[str | None] = None  # the parent's field whose items are this stream's records
    paged = False

    def get_new_paginator(self):
        return PageNumbers(self.list_keys) if self.paged else SinglePagePaginator()

    def get_url_params(self, context, next_page_token):
        return {"page": next_page_token or 1, "per_page": self.page_size} if self.paged else {}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.prefetched: dict[str, Future] = {}  # parent id → its records, being fetched by a worker

    def prefetch(self, parent: dict, pool: ThreadPoolExecutor) -> None:
        """Start fetching this child's records for a parent the SDK will reach soon."""
        context = {self.parent_key: parent["id"]}
        if not self.forbidden and self.needs_request(parent):
            self.prefetched[parent["id"]] = pool.submit(lambda: list(self.fetch(context)))

    def needs_request(self, parent: dict) -> bool:
        return True

    def request_records(self, context: dict | None) -> Iterable[dict]:
        assert context is not None
        future = self.prefetched.pop(context[self.parent_key], None)
        yield from future.result() if future is not None else self.fetch(context)

    def fetch(self, context: dict) -> Iterable[dict]:
        try:
            if self.paged:
                yield from super().request_records(context)
            else:
                # One GET: straight to the HTTP policy, without the SDK's request building and
                # pagination, which cost more CPU than the request itself.
                self._request_counter.increment()
                answer = self.http.request("GET", self.get_url(context), params=self.get_url_params(context, None))
                yield from self.parse_response(answer)
        except NotFoundError:
            self.logger.warning("Skipping %s %s: it was deleted after it was listed", self.parent_key,
                                context[self.parent_key])

    def post_process(self, row: dict, context: dict | None = None) -> dict | None:
        row[self.parent_key] = context[self.parent_key] if context else None
        return super().post_process(row, context)

    # The SDK treats each parent's children as a sync of their own: a log line, two metric lines
    # and a STATE each time, thousands per run. Said once here; counts add up across parents.
    _began = False

    def log(self, message: str, *args: Any, level: int = logging.INFO, **kwargs: Any) -> None:
        if message.startswith("Beginning sync"):
            level, self._began = (level if not self._began else logging.DEBUG), True
        super().log(message, *args, level=level, **kwargs)

    @cached_property
    def _record_counter(self) -> AcrossParentsCounter:
        return AcrossParentsCounter(metrics.Metric.RECORD_COUNT, {metrics.Tag.STREAM: self.name})

    @cached_property
    def _request_counter(self) -> AcrossParentsCounter:
        return AcrossParentsCounter(metrics.Metric.HTTP_REQUEST_COUNT,
                                    {metrics.Tag.STREAM: self.name, metrics.Tag.ENDPOINT: self.path})

    def get_record_counter(self, **kwargs: Any) -> metrics.Counter:
        return self._record_counter

    def get_http_request_counter(self) -> metrics.Counter:
        return self._request_counter

    def get_sync_timer(self) -> metrics.Timer:
        return QuietTimer(metrics.Metric.SYNC_DURATION, {metrics.Tag.STREAM: self.name})

    def finish_metrics(self) -> None:
        """The records counted since the last metric line, once the parent stream is done."""
        for counter in (self._record_counter, self._request_counter):
            if counter.value:
                counter.flush()

    def _write_state_message(self) -> None:
        # The SDK writes the whole state after each parent's children; they keep no bookmark of
        # their own, and the parent writes state as its bookmark moves.
        if not self.context:
            super()._write_state_message()


class AcrossParentsCounter(metrics.Counter):
    """One count (records, requests) for a child stream across all its parents, logged at the
    SDK's interval rather than once per parent. Workers add to it without a lock: a metric."""

    def with_context(self, value: Any) -> None:
        pass

    def __enter__(self) -> AcrossParentsCounter:
        return self

    def exit(self) -> None:
        if self._ready_to_log():
            self.flush()

    def flush(self) -> None:
        self._pop()


class QuietTimer(metrics.Timer):
    """A child's per-parent sync timer, not logged (the parent's timer covers the time)."""

    def __exit__(self, *exc: Any) -> None:
        pass


def thread_parts(stream: IntercomStream, detail: dict, field: str) -> list[dict]:
    """The parts in `detail[field][field]` (conversation_parts, ticket_parts). Intercom returns only
    the 500 most recent parts of a thread; a thread with more is logged as truncated."""
    listing = detail.get(field) or {}
    parts = listing.get(field) or []
    total = listing.get("total_count")
    if isinstance(total, int) and total > len(parts):
        stream.logger.warning("%s %s is truncated: Intercom returned %d of its %d parts",
                              detail.get("type", "thread").capitalize(), detail.get("id"), len(parts), total)
    return parts


class EmbeddedChildStream(DetailChildStream):
    """A list the parent record carries (contact.tags, ticket.ticket_parts). Intercom truncates
    it (`has_more`, or fewer items than `total_count`); only then is the child's own endpoint read."""

    embedded_field: ClassVar[str]  # the parent's field, e.g. "tags"
    embedded_items: ClassVar[str] = "data"  # the list inside it

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.embedded: dict[str, list[dict] | None] = {}  # parent id → its complete list (filled by the parent)

    def embedded_list(self, parent: dict) -> list[dict] | None:
        """The parent's copy when it is complete, else None."""
        listing = parent.get(self.embedded_field)
        if not isinstance(listing, dict) or not isinstance(listing.get(self.embedded_items), list):
            return None
        items = listing[self.embedded_items]
        total = listing.get("total_count")
        if listing.get("has_more") or (isinstance(total, int) and total > len(items)):
            return None
        return items

    def needs_request(self, parent: dict) -> bool:
        return self.embedded_list(parent) is None

    def request_records(self, context: dict | None) -> Iterable[dict]:
        assert context is not None
        items = self.embedded.pop(context[self.parent_key], None)
        if items is not None:
            yield from map(dict, items)  # copies: the parent's record, written after, holds these items
        else:
            yield from super().request_records(context)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def parse_datetime(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
