"""Intercom's two asynchronous exports: content data (message receipts) and reporting datasets.

A client creates a job, polls it until it finishes (`job_seconds` of wall time after it was
created), then downloads its file: a gzipped CSV, served only with `Accept: application/octet-stream`,
repeatable until the download expires two days after the job finished.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import hashlib
import io
import math
import random
import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

from ..api import ApiError, Reply, Request, not_found
from ..jsonio import encode
from ..world import SEED_END, SEED_START, WORKSPACE_ID
from . import Domain

DAY = 86_400
DOWNLOAD_SECONDS = 2 * DAY  # a finished job's file stays downloadable this long
OCTET = "application/octet-stream"
CONTENT, REPORTING = "content", "reporting"
ACTIVE = ("pending", "in_progress")
DONE = ("completed", "complete")  # content jobs say "completed", reporting jobs "complete"
REPORTING_PENDING_LIMIT = 5
RECEIPT_CAP = 250_000  # keeps the large scale's receipt index small

# Intercom's documented content export columns, in order ("first_dismisall" is their spelling).
CONTENT_COLUMNS = [
    "user_id", "user_external_id", "company_id", "email", "name", "ruleset_id", "content_id", "content_type",
    "content_title", "ruleset_version_id", "receipt_id", "received_at", "series_id", "series_title", "node_id",
    "first_reply", "first_completion", "first_series_completion", "first_series_disengagement",
    "first_series_exit", "first_goal_success", "first_open", "first_click", "first_dismisall",
    "first_unsubscribe", "first_hard_bounce",
]
# Outbound content of the workspace: (content type, title, series title or None). The titles carry
# what breaks naive CSV handling: commas, quotes, line breaks, non-ASCII text.
CONTENTS = [
    ("Email", 'Welcome aboard, "friend" 👋', None),
    ("Email", "Your invoice, receipt & next steps", None),
    ("Post", "Réduction d'été\n-20 % ce week-end", None),
    ("Chat", "新機能のお知らせ", None),
    ("Custom Bot", "Qualify leads, then route", "Onboarding, week 1"),
    ("Survey", 'NPS: "How likely are you to recommend us?"', None),
    ("Tour", "Dashboard tour (v2)", "Onboarding, week 1"),
    ("Banner", "Scheduled maintenance\r\nSunday 02:00 UTC", None),
    ("Email", "Trial ends in 3 days", "Trial nurture"),
    ("Push", "Новое сообщение", None),
    ("SMS", "Code: 4821", None),
    ("Carousel", "Tipps & Tricks für Größe L", "Trial nurture"),
]
ENGAGEMENTS = {
    "Email": ("first_open", "first_click", "first_reply", "first_unsubscribe", "first_hard_bounce"),
    "Post": ("first_open", "first_reply", "first_dismisall"),
    "Chat": ("first_open", "first_reply", "first_dismisall"),
    "Custom Bot": ("first_reply", "first_completion"),
    "Survey": ("first_completion", "first_dismisall"),
    "Tour": ("first_completion", "first_dismisall"),
    "Banner": ("first_click", "first_dismisall"),
    "Push": ("first_open",),
    "SMS": ("first_click", "first_reply"),
    "Carousel": ("first_completion", "first_dismisall"),
}
SERIES_ENDINGS = ("first_series_completion", "first_series_disengagement", "first_series_exit")
CHANNELS = ("chat", "email", "phone", "whatsapp", "sms", "facebook")
AWAY_REASONS = ("", "On a break 🍵", "In a meeting", "Off for the day, back tomorrow", "Training: \"Fin\" rollout")


def iso(unix: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix))


def csv_gzip(header: list[str], rows: list[list[str]]) -> bytes:
    """RFC 4180 CSV (CRLF line ends, quoted where needed), gzipped with a fixed mtime so it is reproducible."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return gzip.compress(text.getvalue().encode(), mtime=0)


@dataclass
class Dataset:
    """A reporting dataset: its attributes (id, name) and every row, ascending by its time attribute."""

    id: str
    name: str
    description: str
    attributes: list[tuple[str, str]]
    time_attribute: str
    rows: Callable[[], list[tuple[int, dict[str, str]]]]  # (time attribute as unix seconds, row)

    def attribute_id(self, given: str) -> str | None:
        """The simple id of a requested attribute (simple or "<dataset>.<id>"), None when unknown."""
        simple = given.removeprefix(self.id + ".")
        return simple if simple in dict(self.attributes) else None


@dataclass
class ExportJob:
    identifier: str
    kind: str  # CONTENT or REPORTING
    started: float  # time.monotonic() at creation: jobs finish after wall time, whatever the world clock says
    seconds: float  # how long it runs
    expires_at: int  # world clock seconds after which the file is gone
    fails: bool  # the job_fail fault hit it
    first: int  # rows whose time lies in [first, last], unix seconds
    last: int
    has_rows: bool = True
    dataset: Dataset | None = None
    attribute_ids: list[str] = field(default_factory=list)
    canceled: bool = False
    file: bytes | None = None  # built at the first download, so every download is identical


class ExportsDomain(Domain):
    job_seconds = 0.5  # set from SandboxConfig.export_job_seconds by the server

    def __init__(self, world) -> None:
        super().__init__(world)
        self.jobs: dict[str, ExportJob] = {}
        self._lock = threading.Lock()
        self._receipt_times: array | None = None
        self.datasets = {d.id: d for d in (self._conversation_dataset(), self._admin_status_dataset())}

    # Content receipts ---------------------------------------------------------------------

    def receipt_times(self) -> array:
        """received_at of every receipt, ascending; built at first use so only export users pay for it."""
        with self._lock:
            if self._receipt_times is None:
                rng = random.Random(f"{self.world.seed}:content_receipts")
                count = min(RECEIPT_CAP, self.world.scale.contacts * 7)  # ~40 in 30 days at small
                # A third of the receipts come from email blasts: many users, one second.
                blasts = [rng.randrange(SEED_START, SEED_END) for _ in range(max(5, count // 40))]
                times = [rng.choice(blasts) if rng.random() < 0.33 else rng.randrange(SEED_START, SEED_END)
                         for _ in range(count)]
                self._receipt_times = array("q", sorted(times))
            return self._receipt_times

    def content_row(self, i: int, received: int) -> dict[str, str]:
        rng = self.world.rng("content_receipt", i)
        world = self.world
        k = rng.randrange(world.scale.contacts)  # seeded contacts only: receipts are history
        contact = world.tables["contacts"].record(k)
        company = world.contact_companies[2 * k]
        n = rng.randrange(len(CONTENTS))
        content_type, title, series = CONTENTS[n]
        row = dict.fromkeys(CONTENT_COLUMNS, "")
        row.update({
            "user_id": contact.get("external_id") or "", "user_external_id": contact["id"],
            "company_id": world.tables["companies"].record(company)["company_id"] if company >= 0 else "-1",
            "email": contact.get("email") or "", "name": contact.get("name") or "",
            "ruleset_id": str(4_100_000 + n), "content_id": str(8_200_000 + 3 * n + rng.randrange(2)),  # A/B
            "content_type": content_type, "content_title": title,
            "ruleset_version_id": str(9_300_000 + 10 * n + rng.randrange(3)), "receipt_id": str(50_000_000 + i),
            "received_at": str(received), "series_id": str(600 + n) if series else "-1",
            "series_title": series or "", "node_id": str(77_000 + 10 * n + rng.randrange(4)) if series else "",
        })
        engagements = list(ENGAGEMENTS[content_type]) + ["first_goal_success"]
        if series:
            engagements.append(rng.choice(SERIES_ENDINGS))
        # Moments are unix seconds, as Intercom's `data_export_csv` model types them.
        for column in engagements:
            if rng.random() < 0.35:
                row[column] = str(min(SEED_END, received + int(rng.expovariate(1 / 7200))))
        return row

    def content_rows_between(self, first: int, last: int) -> list[dict[str, str]]:
        """Every receipt with first <= received_at <= last (unix seconds), ascending."""
        times = self.receipt_times()
        start, end = bisect.bisect_left(times, first), bisect.bisect_right(times, last)
        return [self.content_row(i, times[i]) for i in range(start, end)]

    # Reporting datasets -------------------------------------------------------------------

    def _conversation_dataset(self) -> Dataset:
        def rows() -> list[tuple[int, dict[str, str]]]:
            table = self.world.tables["conversations"]
            result = []
            for i in sorted(table.live(), key=lambda i: (table.created_at[i], i)):
                record, rng = table.record(i), self.world.rng("reporting_conversation", i)
                started = table.created_at[i]
                replied = rng.random() < 0.8
                closed = record.get("state") == "closed"
                result.append((started, {
                    "conversation_id": table.ids[i], "conversation_started_at": iso(started),
                    "conversation_state": record.get("state") or "", "channel": rng.choice(CHANNELS),
                    "admin_assignee_id": str(record.get("admin_assignee_id") or ""),
                    "team_assignee_id": str(record.get("team_assignee_id") or ""),
                    "first_response_time": str(int(rng.expovariate(1 / 1800))) if replied else "",
                    "conversation_last_closed_at": iso(max(started, table.updated_at[i])) if closed else "",
                    "conversation_tags": ", ".join(t["name"] for t in (record.get("tags") or {}).get("tags", [])),
                }))
            return result

        return Dataset("conversation", "Conversation", "Conversation-level details: status, channel, assignee.", [
            ("conversation_id", "Conversation ID"), ("conversation_started_at", "Conversation started at"),
            ("conversation_state", "Conversation state"), ("channel", "Channel"),
            ("admin_assignee_id", "Teammate assigned"), ("team_assignee_id", "Team assigned"),
            ("first_response_time", "First response time (seconds)"),
            ("conversation_last_closed_at", "Last closed at"), ("conversation_tags", "Conversation tags"),
        ], "conversation_started_at", rows)

    def _admin_status_dataset(self) -> Dataset:
        admins = self.world.tables["admins"]
        count = max(300, 25 * len(admins))
        rng = random.Random(f"{self.world.seed}:admin_status_changes")
        starts = sorted(rng.randrange(SEED_START, SEED_END) for _ in range(count))

        def rows() -> list[tuple[int, dict[str, str]]]:
            result = []
            for i, started in enumerate(starts):
                rng = self.world.rng("admin_status_change", i)
                admin = admins.record(rng.randrange(len(admins)))
                away = rng.random() < 0.5
                duration = int(rng.expovariate(1 / 5400))
                result.append((started, {
                    "admin_id": admin["id"], "admin_name": admin.get("name") or "",
                    "status": "away" if away else "active",
                    "away_status_reason": rng.choice(AWAY_REASONS) if away else "",
                    "reassign_conversations": str(away and rng.random() < 0.5).lower(),
                    "status_started_at": iso(started), "status_ended_at": iso(started + duration),
                    "status_duration_seconds": str(duration),
                }))
            return result

        return Dataset("admin_status_change", "Teammate status changes",
                       "Every change of a teammate's away status, with its reason.", [
                           ("admin_id", "Teammate ID"), ("admin_name", "Teammate name"), ("status", "Status"),
                           ("away_status_reason", "Away reason"), ("reassign_conversations", "Reassign replies"),
                           ("status_started_at", "Status started at"), ("status_ended_at", "Status ended at"),
                           ("status_duration_seconds", "Status duration (seconds)"),
                       ], "status_started_at", rows)

    # Domain protocol ------------------------------------------------------------------------

    def ground_truth(self, stream: str) -> list[dict] | None:
        if stream == "content_data_export":
            return self.content_rows_between(SEED_START, SEED_END)
        dataset_id = stream.removeprefix("reporting_data_export:")
        if dataset_id != stream and dataset_id in self.datasets:
            return [row for _, row in self.datasets[dataset_id].rows()]
        return None

    def routes(self, api) -> list:
        job = r"(?P<job_identifier>[^/]+)"
        return [
            ("POST", r"/export/content/data", self.create_content_export),
            ("GET", rf"/export/content/data/{job}", self.show_content_export),
            ("POST", rf"/export/cancel/{job}", self.cancel_content_export),
            ("GET", rf"/download/content/data/{job}", self.download_content_export),
            ("GET", r"/export/reporting_data/get_datasets", self.list_datasets),  # before the {job} pattern
            ("POST", r"/export/reporting_data/enqueue", self.enqueue_reporting_export),
            ("GET", rf"/export/reporting_data/{job}", self.show_reporting_export),
            ("GET", rf"/download/reporting_data/{job}", self.download_reporting_export),
        ]

    # Jobs ------------------------------------------------------------------------------------

    def status(self, job: ExportJob) -> str:
        if job.canceled:
            return "canceled"
        elapsed = time.monotonic() - job.started
        if elapsed < job.seconds / 2:
            return "pending"
        if elapsed < job.seconds:
            return "in_progress" if job.kind == CONTENT else "pending"
        if job.fails:
            return "failed"
        if job.kind == REPORTING:
            return "complete"
        return "completed" if job.has_rows else "no_data"

    def _new_job(self, kind: str, request: Request, first: int, last: int, **details) -> ExportJob:
        """Register a job (call with the lock held); its identifier looks random but follows the seed."""
        digest = hashlib.sha256(f"{self.world.seed}:{kind}:{len(self.jobs)}".encode()).digest()
        identifier = "".join("0123456789abcdefghijklmnopqrstuvwxyz"[b % 36] for b in digest[:16])
        finished = self.world.clock.now() + math.ceil(self.job_seconds)
        job = ExportJob(identifier, kind, time.monotonic(), self.job_seconds, finished + DOWNLOAD_SECONDS,
                        request.fault("job_fail"), first, last, **details)
        self.jobs[identifier] = job
        return job

    def _job(self, kind: str, identifier: str) -> ExportJob:
        job = self.jobs.get(identifier)
        if job is None or job.kind != kind:
            raise not_found(f"Export job not found for identifier: {identifier}")
        return job

    def _job_reply(self, job: ExportJob, request: Request, status: str | None = None) -> Reply:
        status = status or self.status(job)
        done = status in DONE
        path = f"/download/content/data/{job.identifier}" if job.kind == CONTENT else \
            f"/download/reporting_data/{job.identifier}?app_id={WORKSPACE_ID}"
        return Reply(200, encode({"job_identifier": job.identifier, "status": status,
                                  "download_url": request.base_url + path if done else "",
                                  "download_expires_at": str(job.expires_at) if done else ""}))

    def _download(self, request: Request, job: ExportJob, build: Callable[[], bytes]) -> Reply:
        if OCTET not in (request.headers.get("Accept") or ""):
            raise ApiError(406, "not_acceptable", f"Export downloads need the header Accept: {OCTET}")
        if self.status(job) not in DONE or self.world.clock.now() > job.expires_at:
            raise not_found("The requested resource does not exist.")
        if job.file is None:
            job.file = build()
        reply = Reply(200, job.file, content_type=OCTET)
        if request.fault("download_cut"):
            reply.cut_after = len(job.file) // 2
        return reply

    # Content data export ----------------------------------------------------------------------

    def create_content_export(self, request: Request) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        after, before = (unix_parameter(body, name, "parameter_not_found", "parameter_invalid")
                         for name in ("created_at_after", "created_at_before"))
        # Whole UTC days, both ends included: 2018-06-01..2018-06-30 means up to 06-30 23:59:59.
        first, last = after // DAY * DAY, (before // DAY + 1) * DAY - 1
        if first > last:
            raise ApiError(400, "parameter_invalid", "created_at_before must not be before created_at_after")
        times = self.receipt_times()
        with self._lock:
            if any(j.kind == CONTENT and self.status(j) in ACTIVE for j in self.jobs.values()):
                raise ApiError(429, "rate_limit_exceeded", "Exceeded rate limit of 1 pending message data export jobs")
            job = self._new_job(CONTENT, request, first, last,
                                has_rows=bisect.bisect_right(times, last) > bisect.bisect_left(times, first))
        return self._job_reply(job, request, "pending")

    def show_content_export(self, request: Request, job_identifier: str) -> Reply:
        return self._job_reply(self._job(CONTENT, job_identifier), request)

    def cancel_content_export(self, request: Request, job_identifier: str) -> Reply:
        job = self._job(CONTENT, job_identifier)
        with self._lock:
            if self.status(job) in ACTIVE:  # a finished job keeps its status (and its file)
                job.canceled = True
        return self._job_reply(job, request)

    def download_content_export(self, request: Request, job_identifier: str) -> Reply:
        job = self._job(CONTENT, job_identifier)
        return self._download(request, job, lambda: csv_gzip(CONTENT_COLUMNS, [
            list(row.values()) for row in self.content_rows_between(job.first, job.last)]))

    # Reporting data export ----------------------------------------------------------------------

    def list_datasets(self, request: Request) -> Reply:
        return Reply(200, encode({"type": "list", "data": [
            {"id": d.id, "name": d.name, "description": d.description,
             "default_time_attribute_id": d.time_attribute,
             "attributes": [{"id": a, "name": name, "qualified_id": f"{d.id}.{a}"} for a, name in d.attributes]}
            for d in self.datasets.values()]}))

    def enqueue_reporting_export(self, request: Request) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        dataset_id = body.get("dataset_id")
        if not dataset_id:
            raise ApiError(400, "bad_request", "'dataset_id' is a required parameter")
        dataset = self.datasets.get(dataset_id)
        if dataset is None:
            raise ApiError(400, "bad_request", f"{dataset_id} is not a valid dataset_id")
        attribute_ids = body.get("attribute_ids")
        if attribute_ids is None:
            raise ApiError(400, "bad_request", "'attribute_ids' is a required parameter")
        if not isinstance(attribute_ids, list):
            raise ApiError(400, "bad_request", "'attribute_ids' not an array must be of type Array")
        if not attribute_ids:
            raise ApiError(400, "bad_request", "attribute_ids must contain at least one attribute_id")
        unknown = [str(a) for a in attribute_ids if not isinstance(a, str) or dataset.attribute_id(a) is None]
        if unknown:
            raise ApiError(400, "bad_request", f"attribute_ids invalid for {dataset.id} dataset: {', '.join(unknown)}")
        start, end = (unix_parameter(body, name, "bad_request", "bad_request") for name in ("start_time", "end_time"))
        if start > end:
            raise ApiError(400, "bad_request", "end_time must not be before start_time")
        with self._lock:
            pending = sum(j.kind == REPORTING and self.status(j) == "pending" for j in self.jobs.values())
            if pending >= REPORTING_PENDING_LIMIT:
                raise ApiError(429, "rate_limit_exceeded", f"Exceeded rate limit of {REPORTING_PENDING_LIMIT} "
                                                           "pending reporting dataset export jobs")
            job = self._new_job(REPORTING, request, start, end, dataset=dataset, attribute_ids=list(attribute_ids))
        return self._job_reply(job, request, "pending")

    def _reporting_job(self, request: Request, job_identifier: str, needed: tuple[str, ...]) -> ExportJob:
        for name in needed:
            if not request.query.get(name):
                raise ApiError(400, "bad_request", f"'{name}' is a required parameter")
        if request.query["app_id"] != WORKSPACE_ID:  # another workspace's jobs are invisible
            raise not_found(f"Export job not found for identifier: {job_identifier}")
        return self._job(REPORTING, job_identifier)

    def show_reporting_export(self, request: Request, job_identifier: str) -> Reply:
        return self._job_reply(self._reporting_job(request, job_identifier, ("app_id", "client_id")), request)

    def download_reporting_export(self, request: Request, job_identifier: str) -> Reply:
        job = self._reporting_job(request, job_identifier, ("app_id",))
        dataset = job.dataset
        assert dataset is not None
        columns = [dataset.attribute_id(a) for a in job.attribute_ids]
        return self._download(request, job, lambda: csv_gzip(job.attribute_ids, [
            [row[c] for c in columns] for at, row in dataset.rows() if job.first <= at <= job.last]))


def unix_parameter(body: dict, name: str, missing_code: str, invalid_code: str) -> int:
    value = body.get(name)
    if value is None:
        raise ApiError(400, missing_code, f"'{name}' is a required parameter")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ApiError(400, invalid_code, f"'{name}' must be a unix timestamp (integer seconds)")
    return value
