"""Run the tap as its users do (a subprocess writing Singer messages) against a sandbox."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TAP = [sys.executable, "-m", "tap_intercom"]


@dataclass
class SyncResult:
    returncode: int
    stderr: str
    messages: list[dict] = field(default_factory=list)

    @property
    def records(self) -> dict[str, list[dict]]:
        by_stream: dict[str, list[dict]] = defaultdict(list)
        for message in self.messages:
            if message["type"] == "RECORD":
                by_stream[message["stream"]].append(message["record"])
        return by_stream

    @property
    def states(self) -> list[dict]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def last_state(self) -> dict | None:
        return self.states[-1] if self.states else None

    def schemas(self) -> dict[str, dict]:
        return {m["stream"]: m for m in self.messages if m["type"] == "SCHEMA"}


def tap_config(sandbox, **overrides) -> dict:
    config = {"access_token": sandbox.config.token, "api_url": sandbox.url}
    config.update(overrides)
    return config


def run_tap(tmp_path: Path, config: dict, *, state: dict | None = None, catalog: dict | None = None,
            on_message: Callable[[dict], str | None] | None = None, timeout: float = 600,
            extra_args: tuple[str, ...] = ()) -> SyncResult:
    """Sync; `on_message` sees each message as it arrives and may answer "kill" (SIGKILL the tap)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    args = [*TAP, "--config", str(config_file), *extra_args]
    if state is not None:
        (tmp_path / "state.json").write_text(json.dumps(state))
        args += ["--state", str(tmp_path / "state.json")]
    if catalog is not None:
        (tmp_path / "catalog.json").write_text(json.dumps(catalog))
        args += ["--catalog", str(tmp_path / "catalog.json")]
    stderr_file = (tmp_path / "stderr.log").open("w+")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr_file, env=env)
    result = SyncResult(returncode=0, stderr="")
    try:
        for line in process.stdout:
            message = json.loads(line)
            result.messages.append(message)
            if on_message and on_message(message) == "kill":
                process.send_signal(signal.SIGKILL)
                break
        process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr_file.seek(0)
    result.returncode = process.returncode
    result.stderr = stderr_file.read()
    stderr_file.close()
    return result


@pytest.fixture
def sync(tmp_path):
    """sync(sandbox, state=…, **config_overrides) → SyncResult; each call in its own folder."""
    calls = iter(range(1000))

    def run(sandbox, *, state=None, catalog=None, on_message=None, **overrides) -> SyncResult:
        result = run_tap(tmp_path / f"sync{next(calls)}", tap_config(sandbox, **overrides), state=state,
                         catalog=catalog, on_message=on_message)
        return result

    return run


def discovered_catalog(tmp_path: Path, config: dict) -> dict:
    """The tap's own discovery output: it reads the workspace's custom attribute definitions."""
    (tmp_path / "discover-config.json").write_text(json.dumps(config))
    args = [*TAP, "--discover", "--config", str(tmp_path / "discover-config.json")]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def select(catalog: dict, streams) -> dict:
    """The catalog with exactly `streams` selected ("all" = every stream, opt-in ones too)."""
    for entry in catalog["streams"]:
        chosen = streams == "all" or entry["tap_stream_id"] in streams
        for metadata in entry["metadata"]:
            metadata["metadata"]["selected"] = chosen
    return catalog
