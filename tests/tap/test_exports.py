"""The export-job streams: windows, slow jobs, failed jobs, interrupted downloads, the job limit,
abandoned jobs, and a second sync that reads only the last window again."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from intercom_sandbox.controls import FaultRule

from .conftest import discovered_catalog, run_tap, select, tap_config

START = "2026-06-01T00:00:00Z"  # five months of exports: five 30-day windows and a bit


@pytest.fixture
def fast_polls(monkeypatch):
    monkeypatch.setenv("TAP_INTERCOM_EXPORT_POLL_SECONDS", "0.05")
    monkeypatch.setenv("TAP_INTERCOM_BACKOFF_BASE_SECONDS", "0.02")


def unix(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def export(tmp_path, sandbox, *, name="sync", state=None, streams=("content_data_export",), **overrides):
    config = tap_config(sandbox, **{"start_date": START, "reporting_datasets": ["conversation"], **overrides})
    catalog = select(discovered_catalog(tmp_path, config), set(streams))
    return run_tap(tmp_path / name, config, catalog=catalog, state=state)


def content_truth(sandbox, since: str = START) -> set[str]:
    domain = next(d for d in sandbox.world.domains if hasattr(d, "content_rows_between"))
    return {row["receipt_id"] for row in domain.content_rows_between(unix(since), sandbox.world.clock.now() + 86_400)}


def receipts(result) -> set[str]:
    return {r["receipt_id"] for r in result.records["content_data_export"]}


def test_content_export_in_windows_then_only_the_last_window_again(tmp_path, make_sandbox, fast_polls):
    sandbox = make_sandbox(export_job_seconds=0.1)
    first = export(tmp_path, sandbox)
    assert first.returncode == 0, first.stderr[-3000:]
    truth = content_truth(sandbox)
    assert truth and receipts(first) == truth
    assert len(first.records["content_data_export"]) == len(truth)  # each row once
    jobs = sandbox.stats.snapshot()["by_route"]["/export/content/data"]
    assert jobs >= 6  # one job per 30-day window
    bookmark = first.last_state["bookmarks"]["content_data_export"]["replication_key_value"]
    last_window = {r["receipt_id"] for r in first.records["content_data_export"]
                   if r["export_window_start"] == bookmark}

    sandbox.stats.reset()
    second = export(tmp_path, sandbox, name="second", state=first.last_state)
    assert second.returncode == 0, second.stderr[-3000:]
    assert sandbox.stats.snapshot()["by_route"]["/export/content/data"] == 1
    assert receipts(second) == last_window


def test_without_a_start_date_grown_windows_stop_short_of_the_last_one(tmp_path, make_sandbox, fast_polls):
    # From 1970 the empty years are crossed in growing steps; a grown step that reached today
    # would make its start the bookmark, and the next sync would export all history again.
    sandbox = make_sandbox(export_job_seconds=0.05)
    first = export(tmp_path, sandbox, start_date=None, export_window_days=365)
    assert first.returncode == 0, first.stderr[-3000:]
    assert receipts(first) == content_truth(sandbox, "1970-01-01T00:00:00Z")
    windows = {(r["export_window_start"], r["export_window_end"]) for r in first.records["content_data_export"]}
    start, end = max(windows)
    assert unix(end) - unix(start) == 365 * 86_400 - 1  # the last window with rows is a normal one
    sandbox.stats.reset()
    second = export(tmp_path, sandbox, name="second", state=first.last_state, start_date=None,
                    export_window_days=365)
    assert sandbox.stats.snapshot()["by_route"]["/export/content/data"] == 1
    assert {r["export_window_start"] for r in second.records["content_data_export"]} == {start}


def test_a_slow_job_is_waited_for(tmp_path, make_sandbox, fast_polls):
    sandbox = make_sandbox(export_job_seconds=1.5)
    result = export(tmp_path, sandbox, start_date="2026-10-01T00:00:00Z")
    assert result.returncode == 0, result.stderr[-3000:]
    assert receipts(result) == content_truth(sandbox, "2026-10-01T00:00:00Z")
    polls = sum(n for route, n in sandbox.stats.snapshot()["by_route"].items()
                if route.startswith("/export/content/data/"))
    assert polls > 3


@pytest.mark.parametrize("fault", ["job_fail", "download_cut"])
def test_a_failed_job_or_a_cut_download_is_retried(tmp_path, make_sandbox, fast_polls, fault):
    sandbox = make_sandbox(export_job_seconds=0.1)
    sandbox.faults.configure(rules=[FaultRule(fault, count=2)])
    result = export(tmp_path, sandbox, streams=("content_data_export", "reporting_data_export"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert sandbox.stats.faults[fault] == 2
    assert receipts(result) == content_truth(sandbox)
    rows = [r for r in sandbox.world.ground_truth("reporting_data_export:conversation")
            if r["conversation_started_at"] >= START]
    assert len(result.records["reporting_data_export"]) == len(rows)


def test_a_job_left_open_by_someone_else_is_waited_out(tmp_path, make_sandbox, fast_polls):
    sandbox = make_sandbox(export_job_seconds=3.0)
    headers = {"Authorization": f"Bearer {sandbox.config.token}"}
    other = requests.post(f"{sandbox.url}/export/content/data", headers=headers,
                          json={"created_at_after": unix(START), "created_at_before": unix(START) + 86_400}, timeout=10)
    assert other.status_code == 200
    result = export(tmp_path, sandbox, start_date="2026-10-01T00:00:00Z")
    assert result.returncode == 0, result.stderr[-3000:]
    assert sandbox.stats.by_status[429] >= 1
    assert receipts(result) == content_truth(sandbox, "2026-10-01T00:00:00Z")


def test_a_job_that_never_finishes_is_cancelled_and_reported(tmp_path, make_sandbox, fast_polls):
    sandbox = make_sandbox(export_job_seconds=600)
    result = export(tmp_path, sandbox, export_job_timeout_minutes=0.02)
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("tap-intercom: error:") and "did not finish" in last_line
    assert sandbox.stats.snapshot()["by_route"].get("/export/cancel/(?P<job_identifier>[^/]+)") == 1
    # the slot is free again: a new job can start at once
    headers = {"Authorization": f"Bearer {sandbox.config.token}"}
    again = requests.post(f"{sandbox.url}/export/content/data", headers=headers,
                          json={"created_at_after": unix(START), "created_at_before": unix(START)}, timeout=10)
    assert again.status_code == 200


def test_an_unknown_reporting_dataset_is_a_one_line_error(tmp_path, make_sandbox, fast_polls):
    sandbox = make_sandbox()
    config = tap_config(sandbox, reporting_datasets=["no_such_dataset"])
    catalog = select(discovered_catalog(tmp_path, config), {"reporting_data_export"})
    result = run_tap(tmp_path / "sync", config, catalog=catalog)
    assert result.returncode == 1
    assert "no_such_dataset" in result.stderr.strip().splitlines()[-1]
