"""Side by side: this tap, this tap one request at a time, and singer-io's tap-intercom 2.2.5,
each syncing the same workload from a sandbox with Intercom's latency and rate limit.

    .venv/bin/python benchmarks/sync_benchmark.py [--scale standard] [--latency-ms 120] [--jitter-ms 30]
        [--rate-limit 1667] [--runs tap,tap-serial,singer-io] [--max-concurrency N]

The workload is the 11 streams singer-io exports (admins, teams, tags, segments, contact and
company attributes, contacts, companies, company_segments, conversations, conversation_parts),
full sync. singer-io runs in its own virtualenv (benchmarks/.singer-io-venv, made on first use
from PyPI) through a small wrapper that points its client at the sandbox; it sends
Intercom-Version 2.12, which the wrapper sets to the sandbox's 2.16; its 2.12 schemas reject
some 2.16 records (an admin's avatar is now a string), which the wrapper then emits untransformed.
Each run gets a fresh sandbox.

For each run: wall time, requests, records, records/s, 429s, CPU seconds and peak RSS of the
tap process, and the floor: the fewest requests the workload needs divided by the allowed rate,
with the run's ratio to it. Prints a markdown table; writes benchmarks/results/sync-<scale>-<latency>ms-<runs>.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from intercom_sandbox.scale import SCALES

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SINGER_IO_VENV = ROOT / "benchmarks" / ".singer-io-venv"
TOKEN = "bench-token"
STREAMS = ["admins", "teams", "tags", "segments", "contact_attributes", "company_attributes", "contacts",
           "companies", "company_segments", "conversations", "conversation_parts"]
SCROLL_PAGE = 50  # the sandbox's scroll page (Intercom does not document its own)
SEARCH_PAGE = 150

# singer-io hard-codes https://api.intercom.io and Intercom-Version 2.12; point both at the sandbox.
SINGER_IO_WRAPPER = """
import os, sys
import tap_intercom.client as client
client.API_VERSION = "2.16"
original_init = client.IntercomClient.__init__
def init(self, *args, **kwargs):
    original_init(self, *args, **kwargs)
    self.base_url = os.environ["SANDBOX_URL"]
client.IntercomClient.__init__ = init
# Its schemas describe 2.12 objects and forbid unlisted properties, so a 2.16 record (an admin's
# avatar is now a URL string) fails its transformer: emit such a record as it came instead.
from singer.transform import SchemaMismatch, Transformer
strict = Transformer.transform
def lenient(self, data, schema, metadata=None):
    try:
        return strict(self, data, schema, metadata)
    except SchemaMismatch:
        return data
Transformer.transform = lenient
from tap_intercom import main
sys.exit(main())
"""


def start_sandbox(args) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "intercom_sandbox", "--scale", args.scale, "--token", TOKEN, "--port", "0",
               "--latency-ms", str(args.latency_ms), "--jitter-ms", str(args.jitter_ms),
               "--rate-limit", str(args.rate_limit)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = process.stdout.readline().split(" ", 1)[1].strip()
    return process, url


def control(url: str, action: str, body: dict | None = None) -> dict:
    data = json.dumps(body or {}).encode() if body is not None else None
    request = urllib.request.Request(f"{url}/_sandbox/{action}", data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def floor_requests(scale: str) -> int:
    """The fewest requests the workload needs: full search pages, full scroll pages (and the
    empty one that ends the scroll), one detail per conversation and per company, one per list."""
    counts = SCALES[scale]
    return (math.ceil(counts.contacts / SEARCH_PAGE) + math.ceil(counts.conversations / SEARCH_PAGE)
            + counts.conversations + math.ceil(counts.companies / SCROLL_PAGE) + 1 + counts.companies + 6)


def select(catalog: dict, key: str = "tap_stream_id") -> dict:
    for entry in catalog["streams"]:
        chosen = entry[key] in STREAMS
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = chosen
    return catalog


def singer_io_python() -> Path:
    python = SINGER_IO_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(SINGER_IO_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "tap-intercom==2.2.5"], check=True)
    return python


def command_for(run: str, url: str, folder: Path, args) -> tuple[list[str], dict]:
    env = {**os.environ, "SANDBOX_URL": url}
    config = {"access_token": TOKEN, "start_date": "2000-01-01T00:00:00Z", "user_agent": "benchmark"}
    if run == "singer-io":
        python = singer_io_python()
        wrapper = folder / "singer_io_wrapper.py"
        wrapper.write_text(SINGER_IO_WRAPPER)
        (folder / "config.json").write_text(json.dumps(config))
        discovered = subprocess.run([str(python), str(wrapper), "--config", str(folder / "config.json"),
                                     "--discover"], capture_output=True, text=True, env=env, check=True)
        (folder / "catalog.json").write_text(json.dumps(select(json.loads(discovered.stdout))))
        return [str(python), str(wrapper), "--config", str(folder / "config.json"),
                "--catalog", str(folder / "catalog.json")], env
    config.update({"api_url": url, "max_concurrency": 1 if run == "tap-serial" else args.max_concurrency})
    config = {k: v for k, v in config.items() if v is not None}
    (folder / "config.json").write_text(json.dumps(config))
    tap = str(ROOT / ".venv" / "bin" / "tap-intercom")
    discovered = subprocess.run([tap, "--config", str(folder / "config.json"), "--discover"], capture_output=True,
                                text=True, env=env, check=True)
    (folder / "catalog.json").write_text(json.dumps(select(json.loads(discovered.stdout))))
    return [tap, "--config", str(folder / "config.json"), "--catalog", str(folder / "catalog.json")], env


class PeakMemory:
    """The process's peak resident memory (VmHWM), sampled until it exits.

    Not ru_maxrss: Linux carries the forking parent's peak into the child's, so the
    benchmark's own memory would count as the tap's."""

    def __init__(self, pid: int) -> None:
        self.status, self.peak_kb, self.done = Path(f"/proc/{pid}/status"), 0, threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self.done.wait(0.05):
            try:
                line = next(l for l in self.status.read_text().splitlines() if l.startswith("VmHWM:"))
            except (OSError, StopIteration):  # exited (or a zombie without memory)
                return
            self.peak_kb = max(self.peak_kb, int(line.split()[1]))

    def stop(self) -> int:
        """Peak in MB; call once stdout is closed (the process is exiting, its memory at its peak)."""
        self.thread.join()
        return round(self.peak_kb / 1024)


def measure(run: str, args) -> dict:
    sandbox, url = start_sandbox(args)
    try:
        floor = floor_requests(args.scale)
        with tempfile.TemporaryDirectory() as tmp:
            command, env = command_for(run, url, Path(tmp), args)
            control(url, "stats/reset", {})
            started = time.monotonic()
            with open(Path(tmp) / "stderr.log", "w") as stderr:
                process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, env=env)
                peak = PeakMemory(process.pid)
                records = sum(1 for line in process.stdout if line.startswith(b'{"type":"RECORD"')
                              or line.startswith(b'{"type": "RECORD"'))
                peak_rss_mb = peak.stop()
                _, status, usage = os.wait4(process.pid, 0)
            wall = time.monotonic() - started
            if status != 0:
                tail = (Path(tmp) / "stderr.log").read_text()[-2000:]
                raise SystemExit(f"{run} failed ({status}):\n{tail}")
        stats = control(url, "stats")
    finally:
        sandbox.terminate()
        sandbox.wait()
    floor_seconds = floor / (args.rate_limit / 10)
    return {"run": run, "wall_seconds": round(wall, 1), "requests": stats["requests"], "records": records,
            "records_per_second": round(records / wall, 1), "rate_limited_429": stats["by_status"].get("429", 0),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1), "peak_rss_mb": peak_rss_mb,
            "floor_requests": floor, "floor_seconds": round(floor_seconds, 1),
            "ratio_to_floor": round(wall / floor_seconds, 2)}


def table(results: list[dict]) -> str:
    head = ("| run | wall s | requests | records | records/s | 429s | CPU s | peak RSS MB | floor s | × floor |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    rows = [f"| {r['run']} | {r['wall_seconds']} | {r['requests']} | {r['records']} | {r['records_per_second']} | "
            f"{r['rate_limited_429']} | {r['cpu_seconds']} | {r['peak_rss_mb']} | {r['floor_seconds']} | "
            f"{r['ratio_to_floor']} |" for r in results]
    return "\n".join([head, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="standard", choices=sorted(SCALES))
    parser.add_argument("--latency-ms", type=int, default=120)
    parser.add_argument("--jitter-ms", type=int, default=30)
    parser.add_argument("--rate-limit", type=int, default=1667, help="requests per 10-second window")
    parser.add_argument("--runs", default="tap,tap-serial,singer-io")
    parser.add_argument("--max-concurrency", type=int, help="for the `tap` run (default: the tap's own)")
    args = parser.parse_args()
    results = []
    for run in args.runs.split(","):
        print(f"running {run} …", file=sys.stderr, flush=True)
        results.append(measure(run, args))
        print(table(results[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"scale {args.scale}, latency {args.latency_ms}±{args.jitter_ms} ms, "
          f"rate limit {args.rate_limit} per 10 s, {machine}\n")
    print(table(results))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"sync-{args.scale}-{args.latency_ms}ms-{args.runs.replace(',', '+')}.json"
    out.write_text(json.dumps({"scale": args.scale, "latency_ms": args.latency_ms, "jitter_ms": args.jitter_ms,
                               "rate_limit": args.rate_limit, "machine": machine, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
