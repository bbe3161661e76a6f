"""Rate limiting, injected faults and request statistics of the sandbox."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

WINDOW_SECONDS = 10
UNLIMITED = 1_000_000  # reported as the limit when rate limiting is off


class RateLimiter:
    """Intercom's limit: a fixed number of requests per 10-second window of the wall clock."""

    def __init__(self, limit: int = 0, clock=time.time, window_seconds: int = WINDOW_SECONDS) -> None:
        self.limit = limit  # requests per window; 0 = off
        self.window_seconds = window_seconds  # Intercom's is 10; tests shorten it to keep storms brief
        self._clock = clock
        self._window = -1
        self._used = 0
        self._lock = threading.Lock()

    def take(self) -> tuple[bool, dict[str, str]]:
        """Count one request: (allowed, the X-RateLimit-* headers to answer with)."""
        with self._lock:
            window = int(self._clock()) // self.window_seconds
            if window != self._window:
                self._window, self._used = window, 0
            limit = self.limit or UNLIMITED
            allowed = self._used < limit
            if allowed:
                self._used += 1
            headers = {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(max(0, limit - self._used)),
                "X-RateLimit-Reset": str((window + 1) * self.window_seconds),
            }
            return allowed, headers


FAULT_KINDS = ("5xx", "429", "404", "slow", "malformed", "drop", "vanish", "job_fail", "download_cut")


@dataclass
class FaultRule:
    """One kind of fault, for a share of requests or for the next `count` matching ones.

    kinds: 5xx (500/502/503 answers), 429 (a rate-limit answer whatever the budget), 404 (Intercom's
    not_found: an endpoint the workspace does not have, e.g. a feature not on its plan), slow
    (the answer waits `slow_ms`), malformed (a 200 whose JSON body is cut short), drop (the
    connection is closed without an answer), vanish (a conversation on a search page is
    deleted right after the page is served, so its detail fetch finds a 404), job_fail (an export
    job created by a matching request ends with status failed), download_cut (a matching export
    download promises its full length, sends part of the body and closes the connection).
    """

    kind: str
    probability: float = 0.0
    count: int | None = None
    path: str = ""  # only requests whose path starts with this
    method: str = ""  # only this HTTP method, when set
    min_per_page: int = 0  # only requests asking for pages this large (query or search body), when set

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(FAULT_KINDS)}")

    @classmethod
    def parse(cls, text: str) -> FaultRule:
        """`KIND:0.05` (a share), `KIND:x3` (the next three) with optional `@/path/prefix`."""
        spec, _, path = text.partition("@")
        kind, _, amount = spec.partition(":")
        if amount.startswith("x"):
            return cls(kind, count=int(amount[1:]), path=path)
        return cls(kind, probability=float(amount or 1), path=path)


@dataclass
class Faults:
    latency_ms: int = 0
    jitter_ms: int = 0
    slow_ms: int = 5_000
    rules: list[FaultRule] = field(default_factory=list)
    seed: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(f"faults:{self.seed}")
        self._lock = threading.Lock()

    def delay_seconds(self) -> float:
        if not self.latency_ms and not self.jitter_ms:
            return 0.0
        with self._lock:
            jitter = self._rng.uniform(-self.jitter_ms, self.jitter_ms) if self.jitter_ms else 0.0
        return max(0.0, self.latency_ms + jitter) / 1000

    def pick(self, method: str, path: str, kinds: tuple[str, ...] = FAULT_KINDS,
             per_page: Callable[[], int] = lambda: 0) -> str | None:
        """The fault this request suffers, if any (counted rules are used up as they fire);
        `per_page()` gives the page size asked for, read only for a rule that needs it."""
        with self._lock:
            for rule in self.rules:
                if rule.kind not in kinds or not path.startswith(rule.path):
                    continue
                if rule.method and rule.method != method:
                    continue
                if rule.min_per_page and per_page() < rule.min_per_page:
                    continue
                if rule.count is not None:
                    if rule.count > 0:
                        rule.count -= 1
                        return rule.kind
                elif rule.probability and self._rng.random() < rule.probability:
                    return rule.kind
        return None

    def configure(self, *, latency_ms: int | None = None, jitter_ms: int | None = None,
                  slow_ms: int | None = None, rules: list[dict | FaultRule] | None = None,
                  clear: bool = False) -> None:
        with self._lock:
            if clear:
                self.rules = []
            for name, value in (("latency_ms", latency_ms), ("jitter_ms", jitter_ms), ("slow_ms", slow_ms)):
                if value is not None:
                    setattr(self, name, int(value))
            for rule in rules or []:
                self.rules.append(rule if isinstance(rule, FaultRule) else FaultRule(**rule))

    def describe(self) -> dict:
        return {"latency_ms": self.latency_ms, "jitter_ms": self.jitter_ms, "slow_ms": self.slow_ms,
                "rules": [asdict(r) for r in self.rules]}


class Stats:
    """What the sandbox was asked and what it answered, for tests and the benchmark."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self.by_route: Counter[str] = Counter()
            self.by_status: Counter[int] = Counter()
            self.faults: Counter[str] = Counter()
            self.by_window: Counter[int] = Counter()  # API requests per rate-limit window (its start, unix s)
            self.in_flight = 0
            self.max_in_flight = 0  # most API requests being answered at once (the client's concurrency)

    def started(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def finished(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def count_window(self, start: int) -> None:
        with self._lock:
            self.by_window[start] += 1

    def record(self, route: str, status: int, fault: str | None = None) -> None:
        with self._lock:
            self.requests += 1
            self.by_route[route] += 1
            self.by_status[status] += 1
            if fault:
                self.faults[fault] += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {"requests": self.requests, "by_route": dict(self.by_route),
                    "by_window": {str(k): v for k, v in sorted(self.by_window.items())},
                    "by_status": {str(k): v for k, v in self.by_status.items()}, "faults": dict(self.faults),
                    "max_in_flight": self.max_in_flight}
