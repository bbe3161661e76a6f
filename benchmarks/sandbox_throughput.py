"""How fast the sandbox starts and how many 150-record pages it serves per second.

The sandbox runs as its own process pinned to one core (when `taskset` exists); the
load comes from client threads in this process on the other core, reading raw bytes
over keep-alive connections so that the client is not what is measured.

    .venv/bin/python benchmarks/sandbox_throughput.py [--scale standard] [--seconds 10] [--threads 4]

Prints a markdown table and writes benchmarks/results/sandbox_throughput.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

TOKEN = "bench-token"
RESULTS = Path(__file__).resolve().parent / "results"


def start_sandbox(scale: str, cpu: str | None) -> tuple[subprocess.Popen, str, float]:
    command = [sys.executable, "-m", "intercom_sandbox", "--scale", scale, "--token", TOKEN]
    if cpu and shutil.which("taskset"):
        command = ["taskset", "-c", cpu, *command]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    url = process.stdout.readline().split(" ", 1)[1].strip()
    host, port = url.removeprefix("http://").split(":")
    while True:  # ready = the first authenticated answer
        try:
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            connection.request("GET", "/admins", headers={"Authorization": f"Bearer {TOKEN}"})
            if connection.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.05)
    return process, url, time.monotonic() - started


CURSOR = re.compile(rb'"starting_after":"([^"]+)"')


def next_request(path: str, body: bytes | None, answer: bytes) -> tuple[str, bytes | None]:
    """The request for the page after `answer` (the first page again after the last): every
    request reads a different page, as a sync does. The cursor sits in the envelope's head."""
    found = CURSOR.search(answer[:600])
    base = path.split("&starting_after=")[0]
    if body is not None:
        query = json.loads(body)
        query["pagination"].pop("starting_after", None)
        if found:
            query["pagination"]["starting_after"] = found.group(1).decode()
        return base, json.dumps(query).encode()
    return (f"{base}&starting_after={found.group(1).decode()}" if found else base), None


def hammer(url: str, path: str, body: bytes | None, seconds: float, threads: int) -> tuple[int, int]:
    host, port = url.removeprefix("http://").split(":")
    deadline = time.monotonic() + seconds
    counts = [0] * threads
    sizes = [0] * threads

    def worker(n: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {"Authorization": f"Bearer {TOKEN}", "Intercom-Version": "2.16",
                   "Content-Type": "application/json"}
        page_path, page_body = path, body
        while time.monotonic() < deadline:
            connection.request("POST" if body else "GET", page_path, body=page_body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            if response.status != 200:
                raise RuntimeError(f"{response.status}: {data[:200]!r}")
            counts[n] += 1
            sizes[n] = max(sizes[n], len(data))
            page_path, page_body = next_request(path, body, data)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sum(counts), max(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="standard")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    process, url, ready = start_sandbox(args.scale, "0" if cores > 1 else None)
    if cores > 1 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {1})  # keep the load generator off the sandbox's core
    search = json.dumps({"query": {"field": "updated_at", "operator": ">", "value": 0},
                         "pagination": {"per_page": 150},
                         "sort": {"field": "updated_at", "order": "ascending"}}).encode()
    workloads = [
        ("POST /contacts/search, 150 per page", "/contacts/search", search),
        ("GET /contacts, 150 per page", "/contacts?per_page=150", None),
        ("POST /conversations/search, 150 per page", "/conversations/search", search),
    ]
    rows = []
    try:
        for name, path, body in workloads:
            hammer(url, path, body, 3.0, args.threads)  # warm the record cache
            requests_done, size = hammer(url, path, body, args.seconds, args.threads)
            rows.append({"workload": name, "requests_per_second": round(requests_done / args.seconds, 1),
                         "bytes_per_answer": size})
    finally:
        process.terminate()
        process.wait(timeout=10)
    result = {"scale": args.scale, "ready_seconds": round(ready, 2), "sandbox_cores": 1 if cores > 1 else cores,
              "machine": f"{platform.machine()}, {cores} cores, Python {platform.python_version()}", "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sandbox_throughput.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"sandbox `{args.scale}` ready (first answer) after {ready:.2f} s; {result['machine']}\n")
    print("| workload | requests/s | bytes per answer |\n|---|---:|---:|")
    for row in rows:
        print(f"| {row['workload']} | {row['requests_per_second']} | {row['bytes_per_answer']:,} |")


if __name__ == "__main__":
    main()
