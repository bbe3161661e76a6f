"""The asynchronous exports: content data (message receipts) and reporting datasets."""

from __future__ import annotations

import calendar
import csv
import gzip
import io
import time

import pytest
import requests

from intercom_sandbox import FaultRule
from intercom_sandbox.cli import build_parser
from intercom_sandbox.domains.exports import CONTENT_COLUMNS, ExportsDomain
from intercom_sandbox.world import SEED_END, SEED_START, WORKSPACE_ID

from .conftest import Client
from .test_conformance import conformance_violations

DAY = 86_400
OCTET = {"Accept": "application/octet-stream"}
REPORTING_QUERY = {"app_id": WORKSPACE_ID, "client_id": "sandbox-client"}
WINDOW_START = SEED_START + 700 * DAY + 13 * 3600  # 13:00 UTC on some day of the seed years


def exports(sandbox) -> ExportsDomain:
    return next(d for d in sandbox.world.domains if isinstance(d, ExportsDomain))


def content_job(client: Client, after: int = WINDOW_START, before: int = WINDOW_START + 29 * DAY) -> dict:
    return client.ok("POST", "/export/content/data", {"created_at_after": after, "created_at_before": before})


def reporting_job(client: Client, dataset: str = "conversation", attributes: list | None = None,
                  start: int = SEED_START, end: int = SEED_END) -> dict:
    body = {"dataset_id": dataset, "attribute_ids": attributes or ["conversation_id"], "start_time": start,
            "end_time": end}
    return client.ok("POST", "/export/reporting_data/enqueue", body)


def poll(client: Client, path: str, **params) -> tuple[dict, list[str]]:
    """The finished job, and every status seen on the way."""
    seen = []
    for _ in range(200):
        job = client.ok("GET", path, **params)
        seen.append(job["status"])
        if job["status"] not in ("pending", "in_progress"):
            return job, seen
        time.sleep(0.03)
    raise AssertionError(f"{path} never finished: {seen[-3:]}")


def download(client: Client, url: str) -> requests.Response:
    return client.session.get(url, headers=OCTET, timeout=30)


def parse(body: bytes) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(gzip.decompress(body).decode("utf-8"), newline=""))
    return list(reader.fieldnames or []), list(reader)


# Content data export ---------------------------------------------------------------------------


def test_content_export_lifecycle_covers_whole_days(make_sandbox):
    sandbox = make_sandbox(export_job_seconds=0.3)
    client = Client(sandbox)
    created = content_job(client)
    assert created == {"job_identifier": created["job_identifier"], "status": "pending", "download_url": "",
                       "download_expires_at": ""}
    job, seen = poll(client, f"/export/content/data/{created['job_identifier']}")
    assert seen[-1] == "completed" and "in_progress" in seen
    assert job["download_url"] == f"{sandbox.url}/download/content/data/{created['job_identifier']}"
    assert int(job["download_expires_at"]) - sandbox.world.clock.now() in range(2 * DAY - 5, 2 * DAY + 5)

    response = download(client, job["download_url"])
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/octet-stream"
    header, rows = parse(response.content)
    assert header == CONTENT_COLUMNS
    # Inclusive by whole UTC days: from 00:00:00 of the first day to 23:59:59 of the last.
    first, last = WINDOW_START // DAY * DAY, (WINDOW_START + 29 * DAY) // DAY * DAY + DAY - 1
    truth = [r for r in sandbox.world.ground_truth("content_data_export")
             if first <= int(r["received_at"]) <= last]
    assert rows == truth == exports(sandbox).content_rows_between(first, last)
    assert 10 <= len(rows) < 100
    assert len({r["receipt_id"] for r in rows}) == len(rows)
    assert download(client, job["download_url"]).content == response.content  # repeatable


def test_content_rows_are_hard_csv(intercom_sandbox):
    rows = intercom_sandbox.world.ground_truth("content_data_export")
    titles = {r["content_title"] for r in rows}
    assert any("\n" in t for t in titles) and any('"' in t for t in titles) and any("," in t for t in titles)
    assert any(not t.isascii() for t in titles)
    assert len({r["receipt_id"] for r in rows}) == len(rows)
    seconds = [r["received_at"] for r in rows]
    assert len(set(seconds)) < len(seconds)  # email blasts share a second
    # unix seconds, as the `data_export_csv` model types its moments
    assert all(r["received_at"].isdigit() for r in rows)


def test_one_active_content_job_and_cancel_frees_it(make_sandbox):
    client = Client(make_sandbox(export_job_seconds=30))
    first = content_job(client)
    second = client.post("/export/content/data", {"created_at_after": WINDOW_START, "created_at_before": WINDOW_START})
    assert second.status_code == 429
    assert second.json()["errors"][0] == {"code": "rate_limit_exceeded", "field": None,
                                          "message": "Exceeded rate limit of 1 pending message data export jobs"}
    canceled = client.ok("POST", f"/export/cancel/{first['job_identifier']}")
    assert canceled["status"] == "canceled"
    assert client.ok("GET", f"/export/content/data/{first['job_identifier']}")["status"] == "canceled"
    assert content_job(client)["status"] == "pending"


def test_no_data_window(make_sandbox):
    client = Client(make_sandbox(export_job_seconds=0))
    created = content_job(client, SEED_START - 40 * DAY, SEED_START - 10 * DAY)
    job, _ = poll(client, f"/export/content/data/{created['job_identifier']}")
    assert job == {**created, "status": "no_data"}
    assert download(client, f"{client.sandbox.url}/download/content/data/{created['job_identifier']}").status_code \
        == 404


def test_download_needs_the_octet_stream_accept_header(make_sandbox):
    client = Client(make_sandbox(export_job_seconds=0))
    job, _ = poll(client, f"/export/content/data/{content_job(client)['job_identifier']}")
    response = client.session.get(job["download_url"], timeout=30)  # requests sends Accept: */*
    assert response.status_code == 406
    assert response.json()["type"] == "error.list"
    assert "application/octet-stream" in response.json()["errors"][0]["message"]


def test_content_404s_and_bad_requests(make_sandbox):
    sandbox = make_sandbox(export_job_seconds=30)
    client = Client(sandbox)
    assert client.get("/export/content/data/nope").status_code == 404
    assert client.post("/export/cancel/nope", {}).status_code == 404
    assert client.session.get(f"{sandbox.url}/download/content/data/nope", headers=OCTET).status_code == 404
    pending = content_job(client)["job_identifier"]
    assert client.session.get(f"{sandbox.url}/download/content/data/{pending}", headers=OCTET).status_code == 404
    missing = client.post("/export/content/data", {"created_at_after": WINDOW_START})
    assert missing.status_code == 400 and missing.json()["errors"][0]["code"] == "parameter_not_found"


def test_download_expires_after_two_days(make_sandbox):
    sandbox = make_sandbox(export_job_seconds=0)
    client = Client(sandbox)
    job, _ = poll(client, f"/export/content/data/{content_job(client)['job_identifier']}")
    assert download(client, job["download_url"]).status_code == 200
    sandbox.world.clock.offset = 2 * DAY + 10
    assert download(client, job["download_url"]).status_code == 404


# Reporting data export ------------------------------------------------------------------------


def test_datasets_list_their_attributes(intercom_sandbox, client):
    datasets = {d["id"]: d for d in client.ok("GET", "/export/reporting_data/get_datasets")["data"]}
    assert {"conversation", "admin_status_change"} <= set(datasets)
    conversation = datasets["conversation"]
    assert conversation["default_time_attribute_id"] == "conversation_started_at"
    ids = [a["id"] for a in conversation["attributes"]]
    assert {"conversation_id", "conversation_started_at", "conversation_state", "first_response_time"} <= set(ids)
    assert all(a["qualified_id"] == f"conversation.{a['id']}" for a in conversation["attributes"])
    world = intercom_sandbox.world
    assert len(world.ground_truth("reporting_data_export:conversation")) == world.tables["conversations"].live_count()
    assert 200 <= len(world.ground_truth("reporting_data_export:admin_status_change")) <= 1000


@pytest.mark.parametrize("dataset", ["conversation", "admin_status_change"])
def test_reporting_export_lifecycle(make_sandbox, dataset):
    sandbox = make_sandbox(export_job_seconds=0.2)
    client = Client(sandbox)
    described = next(d for d in client.ok("GET", "/export/reporting_data/get_datasets")["data"] if d["id"] == dataset)
    time_attribute = described["default_time_attribute_id"]
    simple = [a["id"] for a in described["attributes"]]
    requested = [f"{dataset}.{simple[0]}"] + simple[1:]  # qualified and simple ids both work
    start, end = SEED_START + 400 * DAY, SEED_START + 900 * DAY
    created = reporting_job(client, dataset, requested, start, end)
    assert created["status"] == "pending" and created["download_url"] == ""
    job, seen = poll(client, f"/export/reporting_data/{created['job_identifier']}", **REPORTING_QUERY)
    assert seen[-1] == "complete"
    header, rows = parse(download(client, job["download_url"]).content)
    assert header == requested
    truth = [r for r in sandbox.world.ground_truth(f"reporting_data_export:{dataset}")
             if start <= iso_to_unix(r[time_attribute]) <= end]
    assert [list(r.values()) for r in rows] == [[r[a] for a in simple] for r in truth]
    assert len(rows) > 10


def test_five_pending_reporting_jobs_at_most(make_sandbox):
    client = Client(make_sandbox(export_job_seconds=30))
    for _ in range(5):
        reporting_job(client)
    sixth = client.post("/export/reporting_data/enqueue", {"dataset_id": "conversation", "attribute_ids": [
        "conversation_id"], "start_time": 0, "end_time": 1})
    assert sixth.status_code == 429
    assert sixth.json()["errors"][0]["message"] == "Exceeded rate limit of 5 pending reporting dataset export jobs"


ENQUEUE_ERRORS = [  # the spec's 400 examples, and the missing time bounds
    ({"attribute_ids": ["conversation_id"]}, "'dataset_id' is a required parameter"),
    ({"dataset_id": "imaginary", "attribute_ids": ["x"]}, "imaginary is not a valid dataset_id"),
    ({"dataset_id": "conversation"}, "'attribute_ids' is a required parameter"),
    ({"dataset_id": "conversation", "attribute_ids": "not an array"},
     "'attribute_ids' not an array must be of type Array"),
    ({"dataset_id": "conversation", "attribute_ids": []}, "attribute_ids must contain at least one attribute_id"),
    ({"dataset_id": "conversation", "attribute_ids": ["conversation_id", "non_existent", "people.conversation_id"]},
     "attribute_ids invalid for conversation dataset: non_existent, people.conversation_id"),
    ({"dataset_id": "conversation", "attribute_ids": ["conversation_id"], "start_time": 5},
     "'end_time' is a required parameter"),
]


def test_enqueue_validation(client):
    for body, message in ENQUEUE_ERRORS:
        response = client.post("/export/reporting_data/enqueue", body)
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["code"] == "bad_request"
        assert response.json()["errors"][0]["message"] == message


def test_reporting_404s_and_required_parameters(intercom_sandbox, client):
    job = reporting_job(client)["job_identifier"]
    assert client.get(f"/export/reporting_data/{job}", app_id=WORKSPACE_ID).status_code == 400  # no client_id
    assert client.get(f"/export/reporting_data/{job}", app_id="other", client_id="c").status_code == 404
    unknown = client.get("/export/reporting_data/job1", **REPORTING_QUERY)
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["message"] == "Export job not found for identifier: job1"
    assert client.session.get(f"{intercom_sandbox.url}/download/reporting_data/job1", params={"app_id": WORKSPACE_ID},
                              headers=OCTET).status_code == 404


# Faults ---------------------------------------------------------------------------------------


def test_job_fail_fault(make_sandbox):
    sandbox = make_sandbox(export_job_seconds=0)
    sandbox.faults.configure(rules=[FaultRule("job_fail", count=1, path="/export/content"),
                                    FaultRule("job_fail", count=1, path="/export/reporting_data")])
    client = Client(sandbox)
    failed, _ = poll(client, f"/export/content/data/{content_job(client)['job_identifier']}")
    assert failed["status"] == "failed" and failed["download_url"] == ""
    assert download(client, f"{sandbox.url}/download/content/data/{failed['job_identifier']}").status_code == 404
    assert poll(client, f"/export/content/data/{content_job(client)['job_identifier']}")[0]["status"] == "completed"
    path = f"/export/reporting_data/{reporting_job(client)['job_identifier']}"
    assert poll(client, path, **REPORTING_QUERY)[0]["status"] == "failed"
    path = f"/export/reporting_data/{reporting_job(client)['job_identifier']}"
    assert poll(client, path, **REPORTING_QUERY)[0]["status"] == "complete"
    assert sandbox.stats.snapshot()["faults"] == {"job_fail": 2}


@pytest.mark.parametrize("kind", ["content", "reporting"])
def test_cut_download_fails_client_side_then_succeeds(make_sandbox, kind):
    sandbox = make_sandbox(export_job_seconds=0)
    sandbox.faults.configure(rules=[FaultRule("download_cut", count=1, path="/download/")])
    client = Client(sandbox)
    if kind == "content":
        job, _ = poll(client, f"/export/content/data/{content_job(client)['job_identifier']}")
    else:
        job, _ = poll(client, f"/export/reporting_data/{reporting_job(client)['job_identifier']}", **REPORTING_QUERY)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):  # IncompleteRead: fewer bytes than promised
        download(client, job["download_url"])
    header, rows = parse(download(client, job["download_url"]).content)
    assert rows
    assert sandbox.stats.snapshot()["faults"] == {"download_cut": 1}


def test_export_faults_and_timing_from_the_command_line():
    assert FaultRule.parse("job_fail:x1") == FaultRule("job_fail", count=1)
    assert FaultRule.parse("download_cut:x2@/download/content") == FaultRule("download_cut", count=2,
                                                                             path="/download/content")
    assert build_parser().parse_args(["--export-job-seconds", "2.5"]).export_job_seconds == 2.5


# Conformance ----------------------------------------------------------------------------------


def test_export_endpoints_conform_to_the_2_16_response_schemas(make_sandbox, spec_dict):  # noqa: F811
    sandbox = make_sandbox(export_job_seconds=0)  # jobs finish at once …
    domain = exports(sandbox)
    create = ("POST", "/export/content/data", {"created_at_after": WINDOW_START, "created_at_before": WINDOW_START}, {})
    enqueue = {"dataset_id": "conversation", "attribute_ids": ["conversation.conversation_id"],
               "start_time": SEED_START, "end_time": SEED_END}
    violations = conformance_violations(sandbox, spec_dict, [
        create, ("GET", "/export/reporting_data/get_datasets", None, {}),
        ("POST", "/export/reporting_data/enqueue", enqueue, {}),
    ])
    content_id, reporting_id = list(domain.jobs)
    violations += conformance_violations(sandbox, spec_dict, [
        ("GET", f"/export/content/data/{content_id}", None, {}),  # completed
        ("POST", f"/export/cancel/{content_id}", None, {}),  # a finished job stays completed
        ("GET", f"/export/reporting_data/{reporting_id}", None, REPORTING_QUERY),  # complete
        ("GET", "/export/reporting_data/job1", None, REPORTING_QUERY),  # 404
    ])
    domain.job_seconds = 30  # … and the next one stays active until canceled
    violations += conformance_violations(sandbox, spec_dict, [create])
    active_id = list(domain.jobs)[-1]
    violations += conformance_violations(sandbox, spec_dict, [
        ("GET", f"/export/content/data/{active_id}", None, {}),  # pending
        ("POST", f"/export/cancel/{active_id}", None, {}),  # canceled
    ])
    assert violations == [], "\n".join(violations)
    assert domain.jobs[active_id].canceled and not domain.jobs[content_id].canceled


def iso_to_unix(text: str) -> int:
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
