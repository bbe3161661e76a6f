"""`intercom-sandbox`: run a local Intercom REST API (2.11, 2.14, 2.15, 2.16) until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

from .controls import FAULT_KINDS, FaultRule, Faults
from .scale import SCALES
from .server import Sandbox, SandboxConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="intercom-sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default="sandbox-token", help="the only access token accepted")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    for name in ("contacts", "companies", "conversations", "parts-per-conversation", "tickets", "admins",
                 "teams", "tags", "segments", "long-conversations"):
        parser.add_argument(f"--{name}", type=int, help=f"number of {name.replace('-', ' ')} (overrides --scale)")
    parser.add_argument("--timezone", default="UTC", help="workspace timezone (contacts search day grain)")
    parser.add_argument("--search-delay", type=int, default=0, help="seconds before a new contact is searchable")
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every API answer")
    parser.add_argument("--jitter-ms", type=int, default=0, help="± random part of the latency")
    parser.add_argument("--rate-limit", type=int, default=0, help="requests per 10-second window, 0 = off")
    parser.add_argument("--slow-ms", type=int, default=5000, help="how long a 'slow' fault waits")
    parser.add_argument("--scroll-page-size", type=int, default=50)
    parser.add_argument("--export-job-seconds", type=float, default=0.5,
                        help="wall time an export job takes before it completes")
    parser.add_argument("--fault", action="append", default=[], metavar="KIND:SHARE|KIND:xN[@PATH]",
                        help=f"inject a fault; kinds: {', '.join(FAULT_KINDS)}; e.g. 5xx:0.05, 429:x20@/contacts, "
                             "job_fail:x1, download_cut:x2@/download/content")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    counts = {name: getattr(args, name) for name in
              ("contacts", "companies", "conversations", "parts_per_conversation", "tickets", "admins", "teams",
               "tags", "segments", "long_conversations")}
    try:
        rules = [FaultRule.parse(text) for text in args.fault]
    except ValueError as exc:
        print(f"intercom-sandbox: bad --fault: {exc}", file=sys.stderr)
        return 2
    config = SandboxConfig(token=args.token, seed=args.seed, scale=SCALES[args.scale].with_counts(**counts),
                           timezone=args.timezone, rate_limit=args.rate_limit, search_delay=args.search_delay,
                           scroll_page_size=args.scroll_page_size, export_job_seconds=args.export_job_seconds)
    faults = Faults(latency_ms=args.latency_ms, jitter_ms=args.jitter_ms, slow_ms=args.slow_ms, rules=rules,
                    seed=args.seed)
    started = time.monotonic()
    sandbox = Sandbox(config, host=args.host, port=args.port, faults=faults)
    print(f"URL {sandbox.url}", flush=True)
    print(f"ready in {time.monotonic() - started:.2f}s: {config.scale}", file=sys.stderr, flush=True)

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=sandbox.httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sandbox.serve_forever()
    sandbox.httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
