"""`tap-intercom-airbyte`: the tap spoken as an Airbyte source (spec, check, discover, read).

A translation, not a second connector: the Singer tap syncs, and its messages are rewritten on
the way out. RECORD → RECORD (with emitted_at), STATE → one STREAM state per configured stream,
log lines → LOG; stream statuses are sent around each top-level stream's sync (its children sync
inside it), and a failure becomes a TRACE error whose failure type says who must act.

State: a stream's Airbyte state is the part of the Singer bookmarks it resumes from, its own and
its ancestors' (`{"bookmarks": {"conversation_parts": {…}, "conversations": {…}}}`): a child of
an incremental parent is read incrementally through that parent, even when the parent itself is
not selected. On the way back, a bookmark shared by several streams is taken from the one that
checkpointed earliest, and dropped when any stream depending on it is read in full refresh (or
has none), so nothing is skipped.
"""

from __future__ import annotations

import argparse
import copy
import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from singer_sdk.contrib.msgspec import encoder
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.singerlib import RecordMessage, StateMessage

from .cli import check_config, load_json_file
from .errors import AuthError, ConfigError, ForbiddenError, IntercomError, TransientError
from .run import StreamsFailed, family
from .mechanics import parse_datetime, shared_http
from .tap import TapIntercom
from .writer import GATHER_BYTES, SingerWriter

try:
    from airbyte_protocol import models as ab
except ImportError:  # the extra is not installed; main() says so
    ab = None

PROG = "tap-intercom-airbyte"
DOCUMENTATION_URL = "https://developers.intercom.com/docs/references/rest-api/api.intercom.io"
LOG_LEVELS = {logging.DEBUG: "DEBUG", logging.INFO: "INFO", logging.WARNING: "WARN", logging.ERROR: "ERROR",
              logging.CRITICAL: "FATAL"}


class SourceError(Exception):
    """A failure reported as a TRACE error (read) or a FAILED status (check)."""

    def __init__(self, message: str, failure_type: str) -> None:
        super().__init__(message)
        self.failure_type = failure_type


def now_ms() -> int:
    return int(time.time() * 1000)


# --- output -----------------------------------------------------------------------------------


class AirbyteOutput(SingerWriter):
    """stdout, one AirbyteMessage per line: the Singer tap's messages translated as they are written.

    Records are encoded straight to JSON (millions of them; a pydantic model each would cost
    more than the sync), every other message through the protocol models. Worker threads log,
    so writes are serialised.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.RLock()
        self._running: set[str] = set()
        self.streams: set[str] = set()  # the configured streams: only theirs are sent
        self.states: StateTranslator | None = None

    def emit(self, message: Any) -> None:
        """A protocol-model message, after every record gathered so far."""
        with self._lock:
            self._gathered += encoder.encode(message.model_dump(mode="json", exclude_none=True)) + b"\n"
            self.flush()

    def write_message(self, message) -> None:
        with self._lock:
            if isinstance(message, RecordMessage):
                if message.stream not in self.streams:
                    return  # a parent read only for its children
                if message.stream not in self._running:
                    self._running.add(message.stream)
                    self.emit(stream_status(message.stream, "RUNNING"))
                self._gathered += encoder.encode({"type": "RECORD", "record": {
                    "stream": message.stream, "data": message.record, "emitted_at": now_ms()}}) + b"\n"
                if len(self._gathered) >= GATHER_BYTES:
                    self.flush()
            elif isinstance(message, StateMessage) and self.states is not None:
                self.emit_states(message.value)
            # SCHEMA, ACTIVATE_VERSION and BATCH have no Airbyte counterpart: the catalog carries
            # the schemas, and a full refresh replaces the table.

    def emit_states(self, singer_state: dict) -> None:
        with self._lock:
            for stream, blob in self.states.changed(singer_state):
                self.emit(ab.AirbyteMessage(type=ab.Type.STATE, state=ab.AirbyteStateMessage(
                    type=ab.AirbyteStateType.STREAM, stream=ab.AirbyteStreamState(
                        stream_descriptor=ab.StreamDescriptor(name=stream),
                        stream_state=ab.AirbyteStateBlob(**blob)))))

    def status(self, stream: str, status: str) -> None:
        self.emit(stream_status(stream, status))

    def log(self, level: str, text: str) -> None:
        self.emit(ab.AirbyteMessage(type=ab.Type.LOG, log=ab.AirbyteLogMessage(level=level, message=text)))

    def error(self, exc: BaseException) -> None:
        failure_type, message = classify(exc)
        self.emit(ab.AirbyteMessage(type=ab.Type.TRACE, trace=ab.AirbyteTraceMessage(
            type=ab.TraceType.ERROR, emitted_at=float(now_ms()), error=ab.AirbyteErrorTraceMessage(
                message=message, internal_message=type(exc).__name__, failure_type=failure_type,
                stack_trace="".join(traceback.format_exception(exc))))))


def stream_status(stream: str, status: str) -> Any:
    return ab.AirbyteMessage(type=ab.Type.TRACE, trace=ab.AirbyteTraceMessage(
        type=ab.TraceType.STREAM_STATUS, emitted_at=float(now_ms()),
        stream_status=ab.AirbyteStreamStatusTraceMessage(
            stream_descriptor=ab.StreamDescriptor(name=stream), status=status)))


class LogsToAirbyte(logging.Handler):
    """The tap's log lines as LOG messages on stdout (Airbyte reads stdout only)."""

    def __init__(self, output: AirbyteOutput) -> None:
        super().__init__()
        self.output = output
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.output.log(LOG_LEVELS.get(record.levelno, "INFO"), self.format(record))
        except Exception:  # noqa: BLE001 - a log line must never break the sync
            self.handleError(record)


def classify(exc: BaseException) -> tuple[str, str]:
    """(failure type, one-line message): config errors are the user's to fix, the rest are not."""
    if isinstance(exc, SourceError):
        return exc.failure_type, str(exc)
    if isinstance(exc, StreamsFailed):  # transient when every failed stream's cause was
        kinds = {classify(cause)[0] for cause in exc.errors.values()}
        return (kinds.pop() if len(kinds) == 1 else "system_error"), str(exc)
    if isinstance(exc, (ConfigError, AuthError, ForbiddenError)):
        return "config_error", str(exc)
    if isinstance(exc, TransientError):
        return "transient_error", str(exc)
    if isinstance(exc, IntercomError):
        return "system_error", str(exc)
    return "system_error", f"{type(exc).__name__}: {exc}".splitlines()[0]


# --- the tap ------------------------------------------------------------------------------------


def read_config(path: str) -> dict:
    config = load_json_file(path, "config")
    if not isinstance(config, dict):
        raise ConfigError(f"the config file {path} must hold a JSON object")
    check_config(config)
    return config


def make_tap(config: dict, **options: Any) -> TapIntercom:
    try:
        return TapIntercom(config=config, parse_env_config=False, validate_config=True, **options)
    except ConfigValidationError as exc:
        raise ConfigError("invalid config: " + "; ".join(exc.errors or [str(exc)])) from None


def lineage(tap: TapIntercom, name: str) -> list[str]:
    """The stream and its ancestors, child first."""
    by_class = {type(stream): stream.name for stream in tap.streams.values()}
    names = [name]
    parent = tap.streams[name].parent_stream_type
    while parent is not None:
        names.append(by_class[parent])
        parent = tap.streams[names[-1]].parent_stream_type
    return names


def incremental(tap: TapIntercom, name: str) -> bool:
    """Incremental when it or its top-level ancestor keeps a bookmark."""
    return any(tap.streams[n].replication_key for n in lineage(tap, name))


def connection_specification() -> dict:
    spec = copy.deepcopy(TapIntercom.config_jsonschema)
    for name in sdk_builtin_settings():
        spec["properties"].pop(name, None)
    spec.update({"$schema": "http://json-schema.org/draft-07/schema#", "title": "Intercom source spec"})
    for prop in spec["properties"].values():
        types = prop.get("type")
        if isinstance(types, list) and len(types) == 1:
            prop["type"] = types[0]  # Airbyte's form builder wants one type name
        if prop.pop("secret", False):
            prop["airbyte_secret"] = True
    return spec


def sdk_builtin_settings() -> set[str]:
    """The SDK's own settings (stream maps, flattening), which it adds to the tap's class schema
    once a tap is made: their schemas are not valid Draft 7 (Airbyte checks the spec), and
    Airbyte has its own mappers."""
    builtin: dict = {"type": "object", "properties": {}}
    TapIntercom.append_builtin_config(builtin)
    return set(builtin["properties"])


def airbyte_catalog(tap: TapIntercom) -> Any:
    streams = []
    for stream in tap.streams.values():
        resumable = incremental(tap, stream.name)
        entry = {
            "name": stream.name,
            "json_schema": stream.schema,
            "supported_sync_modes": ["full_refresh", "incremental"] if resumable else ["full_refresh"],
            "source_defined_primary_key": [[key] for key in stream.primary_keys or []],
            "is_resumable": resumable,
        }
        if resumable:
            entry["source_defined_cursor"] = True  # children: their parent's cursor
            if stream.replication_key:
                entry["default_cursor_field"] = [stream.replication_key]
        streams.append(ab.AirbyteStream(**entry))
    return ab.AirbyteCatalog(streams=streams)


def singer_catalog(tap: TapIntercom, configured: dict[str, dict]) -> dict:
    """The tap's catalog with the configured streams (and their configured columns) selected."""
    catalog = tap.catalog_dict
    # An ancestor is selected too, though its records are not sent (AirbyteOutput drops them):
    # the SDK advances only a selected stream's bookmark, and without the parent's bookmark a
    # child selected alone would be read in full every time.
    ancestors = {name for stream in configured for name in lineage(tap, stream)}
    for entry in catalog["streams"]:
        chosen = configured.get(entry["tap_stream_id"])
        columns = set((chosen or {}).get("stream", {}).get("json_schema", {}).get("properties") or ())
        for metadata in entry["metadata"]:
            breadcrumb, values = metadata["breadcrumb"], metadata["metadata"]
            if not breadcrumb:
                values["selected"] = entry["tap_stream_id"] in ancestors
            elif chosen is not None and columns and len(breadcrumb) == 2 and values.get("inclusion") != "automatic":
                values["selected"] = breadcrumb[-1] in columns
    return catalog


class StateTranslator:
    """Singer bookmarks ⇄ Airbyte per-stream states (see the module docstring)."""

    def __init__(self, tap: TapIntercom, modes: dict[str, str]) -> None:
        self.lineages = {name: lineage(tap, name) for name in modes}
        self.modes = modes
        self.sent: dict[str, dict] = {}

    def to_singer(self, messages: Iterable[dict]) -> dict:
        saved: dict[str, dict] = {}
        for message in messages:
            if not isinstance(message, dict) or message.get("type", "STREAM") != "STREAM" or not isinstance(
                    message.get("stream"), dict):
                raise SourceError("the state must be a list of per-stream (type STREAM) state messages",
                                  "system_error")
            name = message["stream"].get("stream_descriptor", {}).get("name")
            saved[name] = (message["stream"].get("stream_state") or {}).get("bookmarks") or {}
        needed_by: dict[str, list[str]] = {}
        for stream, names in self.lineages.items():
            for name in names:
                needed_by.setdefault(name, []).append(stream)
        bookmarks = {}
        for name, streams in needed_by.items():
            copies = [saved.get(s, {}).get(name) if self.modes[s] == "incremental" else None for s in streams]
            if all(c is not None for c in copies) and (earliest := earliest_bookmark(copies)) is not None:
                bookmarks[name] = earliest
        return {"bookmarks": bookmarks}

    def changed(self, singer_state: dict) -> Iterable[tuple[str, dict]]:
        bookmarks = singer_state.get("bookmarks") or {}
        for stream, names in self.lineages.items():
            blob = {"bookmarks": {n: bookmarks[n] for n in names if n in bookmarks}}
            if blob["bookmarks"] and blob != self.sent.get(stream):
                self.sent[stream] = copy.deepcopy(blob)
                yield stream, blob


def earliest_bookmark(copies: list[dict]) -> dict | None:
    """The copy that resumes earliest; None (start over) when they differ and can't be compared."""
    if all(c == copies[0] for c in copies):
        return copies[0]
    try:
        return min(copies, key=lambda c: parse_datetime(str(c["replication_key_value"])))
    except (KeyError, TypeError, ValueError):
        return None


def with_statuses(tap: TapIntercom, stream, output: AirbyteOutput) -> Callable:
    """The top-level stream's sync, with STARTED/COMPLETE/INCOMPLETE for it and its configured children."""
    members = [s for s in family(stream) if s.name in output.streams]
    sync = stream.sync

    def sync_with_statuses(*args, **kwargs):
        for member in members:
            output.status(member.name, "STARTED")
        try:
            sync(*args, **kwargs)
            stream.finalize_state_progress_markers()
            output.emit_states(tap.state)  # the final bookmarks before COMPLETE
        except BaseException:
            for member in members:
                output.status(member.name, "INCOMPLETE")
            raise
        for member in members:
            # A stream the token may not read was skipped with a warning: not complete.
            output.status(member.name, "INCOMPLETE" if getattr(member, "forbidden", False) else "COMPLETE")

    return sync_with_statuses


# --- commands -----------------------------------------------------------------------------------


def spec(output: AirbyteOutput, args) -> int:
    output.emit(ab.AirbyteMessage(type=ab.Type.SPEC, spec=ab.ConnectorSpecification(
        documentationUrl=DOCUMENTATION_URL, connectionSpecification=connection_specification(),
        supportsIncremental=True,
        supported_destination_sync_modes=["overwrite", "append", "append_dedup"])))
    return 0


def check(output: AirbyteOutput, args) -> int:
    try:
        tap = make_tap(read_config(args.config), setup_mapper=False)
        me = shared_http(tap).get("/me", retry_errors=False)
        app = (me.get("app") or {}).get("name") or (me.get("app") or {}).get("id_code") or "the workspace"
        status, message = "SUCCEEDED", f"Connected to {app} as {me.get('email') or me.get('name') or me.get('id')}"
    except Exception as exc:  # noqa: BLE001 - every failure is an answer of check
        status, message = "FAILED", classify(exc)[1]
    output.emit(ab.AirbyteMessage(type=ab.Type.CONNECTION_STATUS, connectionStatus=ab.AirbyteConnectionStatus(
        status=status, message=message)))
    return 0 if status == "SUCCEEDED" else 1


def discover(output: AirbyteOutput, args) -> int:
    tap = make_tap(read_config(args.config), setup_mapper=False)
    output.emit(ab.AirbyteMessage(type=ab.Type.CATALOG, catalog=airbyte_catalog(tap)))
    return 0


def read(output: AirbyteOutput, args) -> int:
    config = read_config(args.config)
    configured_catalog = load_json_file(args.catalog, "catalog")
    try:
        configured = {s["stream"]["name"]: s for s in configured_catalog["streams"]}
        modes = {name: s.get("sync_mode", "full_refresh") for name, s in configured.items()}
    except (TypeError, KeyError) as exc:
        raise SourceError(f"the catalog file {args.catalog} is not a configured catalog (missing {exc})",
                          "system_error") from None
    saved_states = load_json_file(args.state, "state") if args.state else []
    if isinstance(saved_states, dict):  # a single legacy blob or one message
        saved_states = [saved_states] if "stream" in saved_states else []
    discovery = make_tap(config, setup_mapper=False)
    unknown = sorted(set(configured) - set(discovery.streams))
    if unknown:
        raise ConfigError(f"the configured catalog names streams this source does not have: {', '.join(unknown)}")
    translator = StateTranslator(discovery, modes)
    tap = make_tap(config, catalog=singer_catalog(discovery, configured),
                   state=translator.to_singer(saved_states), message_writer=output)
    output.states, output.streams = translator, set(configured)
    for stream in tap.streams.values():
        if stream.parent_stream_type is None:
            stream.sync = with_statuses(tap, stream, output)
    tap.sync_all()
    return 0


COMMANDS = {"spec": spec, "check": check, "discover": discover, "read": read}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description="Intercom as an Airbyte source.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("spec", help="the connection specification")
    for name in ("check", "discover", "read"):
        command = commands.add_parser(name)
        command.add_argument("--config", required=True, help="connection config (JSON file)")
        if name == "read":
            command.add_argument("--catalog", required=True, help="configured catalog (JSON file)")
            command.add_argument("--state", help="per-stream state messages (JSON file)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    if ab is None:
        print(f"{PROG}: error: the Airbyte protocol models are missing: pip install 'tap-intercom[airbyte]'",
              file=sys.stderr)
        return 1
    sys.setswitchinterval(0.05)  # as in tap-intercom: request workers wait on the network
    output = AirbyteOutput()
    root = logging.getLogger()
    root.handlers[:] = [LogsToAirbyte(output)]
    root.setLevel(logging.INFO)
    try:
        return COMMANDS[args.command](output, args)
    except Exception as exc:  # noqa: BLE001 - reported as a TRACE error, one line for the user
        output.error(exc)
        print(f"{PROG}: error: {classify(exc)[1]}", file=sys.stderr)
        return 1
    finally:
        output.flush()


if __name__ == "__main__":
    sys.exit(main())
