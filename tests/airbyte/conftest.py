"""Run `tap-intercom-airbyte` as Airbyte does (a subprocess; config, catalog and state as files) and
check every line it prints against the Airbyte protocol models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from airbyte_protocol.models import AirbyteMessage

SOURCE = [sys.executable, "-m", "tap_intercom.airbyte"]


@dataclass
class AirbyteRun:
    returncode: int
    stderr: str
    messages: list[dict] = field(default_factory=list)

    def of_type(self, kind: str) -> list[dict]:
        return [m for m in self.messages if m["type"] == kind]

    @property
    def records(self) -> dict[str, list[dict]]:
        by_stream: dict[str, list[dict]] = defaultdict(list)
        for message in self.of_type("RECORD"):
            by_stream[message["record"]["stream"]].append(message["record"]["data"])
        return by_stream

    @property
    def states(self) -> list[dict]:
        return [m["state"] for m in self.of_type("STATE")]

    def last_states(self) -> list[dict]:
        """The newest state of each stream: what a platform keeps and passes to the next read."""
        newest = {s["stream"]["stream_descriptor"]["name"]: s for s in self.states}
        return list(newest.values())

    def statuses(self) -> list[tuple[str, str]]:
        return [(t["trace"]["stream_status"]["stream_descriptor"]["name"], t["trace"]["stream_status"]["status"])
                for t in self.of_type("TRACE") if t["trace"]["type"] == "STREAM_STATUS"]

    def errors(self) -> list[dict]:
        return [t["trace"]["error"] for t in self.of_type("TRACE") if t["trace"]["type"] == "ERROR"]


def run_source(tmp_path: Path, command: str, config: dict | str | None = None, *, catalog: dict | None = None,
               state: list | None = None, env: dict | None = None, timeout: float = 600) -> AirbyteRun:
    """`tap-intercom-airbyte <command>`; every stdout line must be a valid AirbyteMessage."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    args = [*SOURCE, command]
    if config is not None:
        path = tmp_path / "config.json"
        path.write_text(config if isinstance(config, str) else json.dumps(config))
        args += ["--config", str(path)]
    if catalog is not None:
        (tmp_path / "catalog.json").write_text(json.dumps(catalog))
        args += ["--catalog", str(tmp_path / "catalog.json")]
    if state is not None:
        (tmp_path / "state.json").write_text(json.dumps(state))
        args += ["--state", str(tmp_path / "state.json")]
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})
    run = AirbyteRun(done.returncode, done.stderr)
    for line in done.stdout.splitlines():
        message = json.loads(line)
        AirbyteMessage.model_validate(message)  # raises on anything the protocol does not allow
        run.messages.append(message)
    return run


def configured_catalog(catalog: dict, modes: dict[str, str] | None = None, *, columns: dict | None = None) -> dict:
    """A configured catalog of the discovered `catalog`: `modes` = {stream: sync mode} (None = all
    streams, incremental where supported); `columns` = {stream: [properties]} to narrow a schema."""
    streams = []
    for stream in catalog["streams"]:
        if modes is None:
            mode = stream["supported_sync_modes"][-1]
        elif stream["name"] in modes:
            mode = modes[stream["name"]]
        else:
            continue
        schema = stream["json_schema"]
        if columns and stream["name"] in columns:
            schema = {**schema, "properties": {k: v for k, v in schema["properties"].items()
                                               if k in columns[stream["name"]]}}
        streams.append({"stream": {**stream, "json_schema": schema}, "sync_mode": mode,
                        "destination_sync_mode": "append_dedup" if mode == "incremental" else "overwrite",
                        "cursor_field": stream.get("default_cursor_field", []),
                        "primary_key": stream["source_defined_primary_key"]})
    return {"streams": streams}
