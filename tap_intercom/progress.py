"""Progress of a long stream: records done of the total Intercom announced, rate and ETA.

Every search answer carries `total_count`, the companies scroll too, and page-numbered lists
say how many pages there are; a first backfill of millions of contacts would otherwise run
for hours in silence. At most one line per `TAP_INTERCOM_PROGRESS_SECONDS` (default 10):

    contacts: 12,000 of 20,000 (60%), 1,450/s, ETA 6 s
"""

from __future__ import annotations

import logging
import os
import threading
import time


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class Progress:
    """Records done of a stream (parents done, for the children they carry)."""

    def __init__(self, name: str, logger: logging.Logger, *, children=dict) -> None:
        self.name = name
        self.logger = logger
        self.interval = float(os.environ.get("TAP_INTERCOM_PROGRESS_SECONDS", "10"))
        self.total: int | None = None
        self.done = 0
        self.children = children  # () → {child stream: its records}, told in the parent's line
        self._started = time.monotonic()
        self._last_line = self._started
        self._lock = threading.Lock()

    def expect(self, total: int) -> None:
        """Intercom announced `total` records (more when another walk announces its own)."""
        with self._lock:
            self.total = (self.total or 0) + total

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if self.total is not None and now - self._last_line >= self.interval:
            self._last_line = now
            self.logger.info("%s", self.line(now))

    def line(self, now: float, final: bool = False) -> str:
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        total = self.done if final else max(self.total or 0, self.done)
        share = 100 * self.done / total if total else 100
        text = f"{self.name}: {self.done:,} of {total:,} ({share:.0f}%), {rate:,.0f}/s"
        if final:
            text += f", done in {duration(elapsed)}"
        elif rate > 0:
            text += f", ETA {duration((total - self.done) / rate)}"
        children = self.children()
        if children:
            text += " (" + ", ".join(f"{name}: {count:,} records" for name, count in children.items()) + ")"
        return text

    def finish(self) -> None:
        """The last line, at 100%: what was announced may include records outside the window."""
        if self.total is not None:
            self.logger.info("%s", self.line(time.monotonic(), final=True))
