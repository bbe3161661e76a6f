"""One sync run: streams isolated from each other's failures, and a summary at the end.

A stream that fails after its retries (an unexpected 4xx, a 5xx storm, an export job that
failed three times, a malformed answer) is logged and ended; its bookmark stays where it was
last safe (the progress marker of an unfinished, out-of-order backfill is not committed), and
the run goes on with the other streams. At the end the run fails, its last lines naming each
failed stream. A 401 stops at once: nothing else can succeed. `fail_fast: true` stops at the
first failure instead.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass

from singer_sdk import Tap
from singer_sdk import metrics

from .errors import AuthError, IntercomError

COMPLETE, FAILED, FORBIDDEN, NOT_SELECTED, PARENT_FAILED = (
    "complete", "failed", "skipped for permission", "not selected", "not synced (parent failed)")


class RunMetric(str, enum.Enum):
    """The run summary's figures, as SDK metrics (one point per stream and figure)."""

    RECORDS = "stream_record_count"
    REQUESTS = "stream_request_count"
    RETRIES = "stream_retry_count"
    RATE_LIMIT_WAITS = "stream_rate_limit_wait_count"
    DURATION = "stream_sync_duration"


class StreamsFailed(IntercomError):
    """Streams failed while the others synced; the run exits non-zero."""

    def __init__(self, errors: dict[str, BaseException]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} stream(s) failed: "
                         + "; ".join(f"{name} ({one_line(exc)})" for name, exc in errors.items()))


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text if isinstance(exc, IntercomError) and text else f"{type(exc).__name__}: {text}".rstrip(": ")


@dataclass
class StreamReport:
    name: str
    outcome: str
    records: int = 0
    requests: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    seconds: float = 0.0


def family(stream) -> list:
    """The stream and its descendants, parents first."""
    members = [stream]
    for child in stream.child_streams:
        members += family(child)
    return members


class IsolatingTap(Tap):
    """The SDK's Tap, whose sync_all keeps going past a failed stream and sums the run up."""

    def sync_all(self) -> None:
        self._reset_state_progress_markers()
        self._set_compatible_replication_methods()
        if self.state:
            self._state_writer.write_state(self.state)
        reports: dict[str, StreamReport] = {}
        failures: dict[str, BaseException] = {}
        try:
            for stream in self.streams.values():
                if stream.parent_stream_type:
                    continue  # synced by its parent
                if not stream.selected and not stream.has_selected_descendents:
                    self.logger.info("Skipping deselected stream '%s'.", stream.name)
                    continue
                started = time.monotonic()
                try:
                    stream.sync()
                    stream.finalize_state_progress_markers()
                except AuthError:
                    raise  # a revoked token: nothing else can succeed
                except Exception as exc:  # noqa: BLE001 - the stream ends; the run goes on
                    if self.config.get("fail_fast"):
                        raise
                    failures[stream.name] = exc
                    self.logger.error("Stream '%s' failed, going on with the others: %s", stream.name, one_line(exc))
                    # the bookmarks as last safely written; an unfinished backfill's marker is not one
                    self._state_writer.write_state(self.state)
                self._report(stream, time.monotonic() - started, stream.name in failures, reports)
        finally:
            for stream in self.streams.values():
                stream.log_sync_costs()
            self._log_summary(reports)
        if failures:
            for name, exc in failures.items():
                self.logger.error("FAILED stream '%s': %s", name, one_line(exc))
            raise StreamsFailed(failures)

    def _report(self, stream, seconds: float, failed: bool, reports: dict[str, StreamReport]) -> None:
        http = getattr(self, "_intercom_http", None)  # made on the first request
        for member in family(stream):
            if not member.selected:
                continue
            if failed:
                outcome = FAILED if member is stream else PARENT_FAILED
            else:
                outcome = FORBIDDEN if getattr(member, "forbidden", False) else COMPLETE
            counts = http.stats.of(member.name) if http is not None else {}
            reports[member.name] = StreamReport(
                member.name, outcome, getattr(member, "records_written", 0), counts.get("requests", 0),
                counts.get("retries", 0), counts.get("rate_limit_waits", 0),
                seconds if member is stream else 0.0)

    def _log_summary(self, reports: dict[str, StreamReport]) -> None:
        for stream in self.streams.values():
            if stream.name not in reports and not stream.selected:
                reports[stream.name] = StreamReport(stream.name, NOT_SELECTED)
        rows = [reports[s.name] for s in self.streams.values() if s.name in reports]
        metrics_logger = metrics.get_metrics_logger()
        width = max([len(r.name) for r in rows] + [6])
        self.logger.info("Run summary (children's time is in their parent's):")
        self.logger.info("  %-*s %-27s %10s %9s %8s %10s %9s", width, "stream", "outcome", "records",
                         "requests", "retries", "429 waits", "seconds")
        for r in rows:
            if r.outcome == NOT_SELECTED:
                self.logger.info("  %-*s %s", width, r.name, r.outcome)
                continue
            self.logger.info("  %-*s %-27s %10s %9s %8s %10s %9.1f", width, r.name, r.outcome, f"{r.records:,}",
                             f"{r.requests:,}", f"{r.retries:,}", f"{r.rate_limit_waits:,}", r.seconds)
        synced = [r for r in rows if r.outcome != NOT_SELECTED]
        failed = sum(1 for r in synced if r.outcome == FAILED)
        self.logger.info("  %-*s %-27s %10s %9s %8s %10s %9.1f", width, "total",
                         f"{failed} failed" if failed else "no failures", f"{sum(r.records for r in synced):,}",
                         f"{sum(r.requests for r in synced):,}", f"{sum(r.retries for r in synced):,}",
                         f"{sum(r.rate_limit_waits for r in synced):,}", sum(r.seconds for r in synced))
        for r in synced:  # the same figures for whoever reads the SDK's metrics
            tags = {"stream": r.name, "outcome": r.outcome}
            for metric, value in ((RunMetric.RECORDS, r.records), (RunMetric.REQUESTS, r.requests),
                                  (RunMetric.RETRIES, r.retries), (RunMetric.RATE_LIMIT_WAITS, r.rate_limit_waits)):
                metrics.log(metrics_logger, metrics.Point("counter", metric, value, tags))
            metrics.log(metrics_logger, metrics.Point("timer", RunMetric.DURATION, round(r.seconds, 3), tags))
