"""Asynchronous export jobs: ask Intercom for a file covering a time window, wait, download, parse.

Each window is one job, run to the end before the next one starts, so the tap never holds
more than one job open (Intercom allows one pending content export and five reporting
exports per workspace). A job that fails is asked for again; a download cut off is fetched
again (the file stays available for two days); a job the tap abandons is cancelled where
Intercom can cancel it. Every record carries the start of its window, which is the
replication key: a sync resumes at the window it had not finished, and reads the last
window again (it may have grown).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

from .errors import RequestError, TransientError
from .mechanics import DAY, IntercomStream, parse_datetime, utc_now

DONE = {"completed", "complete"}  # content exports say "completed", reporting exports "complete"
GAVE_UP = {"failed", "canceled", "cancelled"}
NO_DATA = "no_data"
POLL_CAP_SECONDS = 60.0
JOB_TRIES = 3


def first_poll_seconds() -> float:
    """The first wait between polls of a job (shortened through the environment in tests)."""
    return float(os.environ.get("TAP_INTERCOM_EXPORT_POLL_SECONDS", "5"))


class ExportJobStream(IntercomStream):
    # Opt-in: each window is a job that takes minutes on Intercom's side.
    selected_by_default = False
    replication_key = "export_window_start"
    is_sorted = True
    state_partitioning_keys: list[str] | None = None
    cancel_path: str | None = None  # POST here to cancel a job, where Intercom offers it

    # What a concrete export says -------------------------------------------------------------

    def create_job(self, window: tuple[int, int], context: dict | None) -> dict:
        raise NotImplementedError

    def status_path(self, job_id: str) -> str:
        raise NotImplementedError

    def rows_to_records(self, rows: Iterator[dict], window: tuple[int, int], context: dict | None) -> Iterable[dict]:
        raise NotImplementedError

    # The mechanic ------------------------------------------------------------------------------

    @property
    def window_days(self) -> int:
        return int(self.config.get("export_window_days") or 30)

    def windows(self, context: dict | None) -> Iterator[tuple[int, int]]:
        """Whole UTC days from the bookmark (or start_date) to today: Intercom exports whole days."""
        start = self.get_starting_timestamp(context)
        first = int(start.timestamp()) // DAY * DAY if start else 0
        end = self.config.get("end_date")
        last = (int((parse_datetime(end) if end else utc_now()).timestamp()) // DAY + 1) * DAY - 1
        days = self.window_days
        while first <= last:
            window_end = min(last, first + days * DAY - 1)
            if days > self.window_days:
                # A grown step stops short of the last window: the bookmark (the start of the last
                # window with rows) must be a normal window's, or the next sync reads the whole
                # grown stretch again.
                window_end = max(min(window_end, last - self.window_days * DAY),
                                 min(last, first + self.window_days * DAY - 1))
            window = (first, window_end)
            found = yield window
            # Empty stretches (before the workspace existed) are crossed in growing steps.
            days = self.window_days if found is not False else min(days * 2, 12 * self.window_days)
            first = window[1] + 1

    def request_records(self, context: dict | None) -> Iterable[dict]:
        windows = self.windows(context)
        found: bool | None = None
        while True:
            try:
                window = windows.send(found) if found is not None else next(windows)
            except StopIteration:
                return
            data = self.run_job(window, context)
            found = bool(data)
            if data:
                yield from self.rows_to_records(parse_csv(data), window, context)
            else:
                # No row carries this window's start into the bookmark: move it there directly,
                # so the next sync does not ask again for the empty windows before it.
                self._increment_stream_state({self.replication_key: iso(window[0])}, context=context)

    def run_job(self, window: tuple[int, int], context: dict | None) -> bytes:
        """The export file of one window (b"" when Intercom has no data for it)."""
        for attempt in range(1, JOB_TRIES + 1):
            job = self.create_with_patience(window, context)
            job_id = job["job_identifier"]
            try:
                job = self.wait_for(job)
                status = job.get("status")
                if status in DONE:
                    return self.http.download(self.download_url(job))
                if status == NO_DATA:
                    return b""
                self.logger.warning("Export job %s for %s ended %s (try %d of %d)", job_id, window_text(window),
                                    status, attempt, JOB_TRIES)
            except BaseException:
                self.cancel(job_id)  # abandoned: don't leave it holding Intercom's job slots
                raise
        raise TransientError(f"{self.name}: Intercom's export job for {window_text(window)} failed {JOB_TRIES} times")

    @property
    def job_timeout_seconds(self) -> float:
        return float(self.config.get("export_job_timeout_minutes") or 60) * 60

    def create_with_patience(self, window: tuple[int, int], context: dict | None) -> dict:
        """Create the job; while Intercom's job slots are taken (by another client, or a job a killed
        sync left behind), wait for them to free up."""
        deadline = time.monotonic() + self.job_timeout_seconds
        wait = first_poll_seconds()
        while True:
            try:
                return self.create_job(window, context)
            except RequestError as exc:
                if exc.status != 429 or time.monotonic() > deadline:
                    raise
                self.logger.info("Intercom's export job slots are taken (%s); waiting %.0fs", exc, wait)
                time.sleep(wait)
                wait = min(wait * 1.5, POLL_CAP_SECONDS)

    def wait_for(self, job: dict) -> dict:
        deadline = time.monotonic() + self.job_timeout_seconds
        wait = first_poll_seconds()
        while job.get("status") not in DONE | GAVE_UP | {NO_DATA}:
            if time.monotonic() > deadline:
                raise TransientError(f"{self.name}: export job {job['job_identifier']} did not finish within "
                                     f"{self.job_timeout_seconds / 60:.0f} minutes (export_job_timeout_minutes)")
            time.sleep(wait)
            wait = min(wait * 1.5, POLL_CAP_SECONDS)
            job = self.http.get(self.status_path(job["job_identifier"]))
        return job

    def download_url(self, job: dict) -> str:
        return job["download_url"]

    def cancel(self, job_id: str) -> None:
        if not self.cancel_path:
            return
        try:
            self.http.post(self.cancel_path.format(job_identifier=job_id), {})
            self.logger.info("Cancelled export job %s", job_id)
        except Exception as exc:  # cancelling is a courtesy; the original error matters more
            self.logger.warning("Could not cancel export job %s: %s", job_id, exc)

    def base_record(self, window: tuple[int, int], row_number: int) -> dict[str, Any]:
        return {"export_window_start": iso(window[0]), "export_window_end": iso(window[1]), "row_number": row_number}


def parse_csv(data: bytes) -> Iterator[dict]:
    """Rows of a (usually gzipped) CSV export, as dicts keyed by its header."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))


def iso(unix: int) -> str:
    return dt.datetime.fromtimestamp(unix, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def window_text(window: tuple[int, int]) -> str:
    return f"{iso(window[0])[:10]}..{iso(window[1])[:10]}"
