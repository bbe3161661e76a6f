"""Nightly operations: a broken stream does not take the others down, progress lines with an
ETA, a run summary, a share of the rate budget, and search pages asked for smaller when they
keep failing."""

from __future__ import annotations

import re

import pytest

from intercom_sandbox.controls import FaultRule

from ..airbyte.conftest import configured_catalog, run_source
from .conftest import discovered_catalog, run_tap, select, tap_config
from .test_every_stream import full_config, key_of, stream_keys, truth_keys

# one endpoint the workspace lacks (404 forever), one that answers 5xx to every try
BROKEN = [FaultRule("404", probability=1.0, path="/admins/activity_logs"),
          FaultRule("5xx", probability=1.0, path="/tickets/search")]
FAILED = {"activity_logs", "tickets"}


@pytest.fixture
def quick_retries(monkeypatch):
    monkeypatch.setenv("TAP_INTERCOM_BACKOFF_BASE_SECONDS", "0.01")
    monkeypatch.setenv("TAP_INTERCOM_EXPORT_POLL_SECONDS", "0.05")


def test_failed_streams_end_alone_and_the_run_fails_naming_them(tmp_path, make_sandbox, quick_retries):
    sandbox = make_sandbox(export_job_seconds=0.05)
    config = full_config(sandbox)
    catalog = select(discovered_catalog(tmp_path, config), "all")
    keys = stream_keys(catalog)
    sandbox.faults.configure(rules=BROKEN)
    result = run_tap(tmp_path / "first", config, catalog=catalog)

    assert result.returncode != 0
    records = result.records
    for stream in sorted(set(keys) - FAILED - {"ticket_parts", "reporting_data_export"}):
        got = {key_of(r, keys[stream]) for r in records.get(stream, [])}
        assert got == truth_keys(sandbox, stream, keys[stream]), stream
    assert not records.get("tickets") and not records.get("ticket_parts")
    lines = result.stderr.strip().splitlines()
    tail = "\n".join(lines[-3:])
    assert "FAILED stream 'activity_logs'" in tail and "404" in tail
    assert "FAILED stream 'tickets'" in tail and "giving up" in tail
    assert lines[-1].startswith("tap-intercom: error: 2 stream(s) failed")
    summary = {m.group(1): m.group(2).strip() for m in
               re.finditer(r"\|\s+ {2}(\w+)\s+(complete|failed|not synced \(parent failed\)|skipped for permission)",
                           result.stderr)}
    assert summary["tickets"] == "failed" and summary["activity_logs"] == "failed"
    assert summary["ticket_parts"] == "not synced (parent failed)"
    assert summary["contacts"] == "complete" and summary["conversation_parts"] == "complete"

    # the next night, the endpoints are back: every stream resumes from the saved state
    sandbox.faults.configure(clear=True)
    second = run_tap(tmp_path / "second", config, catalog=catalog, state=result.last_state)
    assert second.returncode == 0, second.stderr[-2000:]
    for stream in ("tickets", "activity_logs", "ticket_parts"):
        got = {key_of(r, keys[stream]) for r in second.records[stream]}
        assert got == truth_keys(sandbox, stream, keys[stream]), stream
    # incremental streams that completed start from their bookmark: nothing before it again
    bookmark = result.last_state["bookmarks"]["contacts"]["replication_key_value"]
    assert all(r["updated_at"] >= bookmark for r in second.records.get("contacts", []))


def test_fail_fast_stops_at_the_first_failure(tmp_path, make_sandbox, quick_retries):
    sandbox = make_sandbox()
    config = tap_config(sandbox, fail_fast=True)
    catalog = select(discovered_catalog(tmp_path, config), {"activity_logs", "admins", "contacts", "teams"})
    sandbox.faults.configure(rules=BROKEN)
    result = run_tap(tmp_path / "sync", config, catalog=catalog)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("tap-intercom: error:") and "404" in lines[-1]
    # streams run in name order: activity_logs first, so nothing after it
    assert not result.records.get("contacts") and not result.records.get("teams")


def test_a_revoked_token_still_stops_at_once(tmp_path, make_sandbox):
    sandbox = make_sandbox()
    config = tap_config(sandbox)
    catalog = select(discovered_catalog(tmp_path, config), {"admins", "contacts", "teams"})
    sandbox.stats.reset()
    result = run_tap(tmp_path / "sync", {**config, "access_token": "revoked"}, catalog=catalog)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == \
        "tap-intercom: error: Intercom answered 401: access token invalid or revoked"
    assert sandbox.stats.snapshot()["by_status"] == {"401": 1}  # the first request, and nothing after it


def test_the_airbyte_read_marks_exactly_the_failed_streams_incomplete(tmp_path, make_sandbox, quick_retries):
    sandbox = make_sandbox()
    config = tap_config(sandbox)
    discovered = run_source(tmp_path / "discover", "discover", config)
    catalog = configured_catalog(discovered.of_type("CATALOG")[0]["catalog"])
    sandbox.faults.configure(rules=BROKEN)
    run = run_source(tmp_path / "read", "read", config, catalog=catalog)
    assert run.returncode != 0
    final = dict(run.statuses())  # each stream's last status
    incomplete = {name for name, status in final.items() if status == "INCOMPLETE"}
    assert incomplete == FAILED | {"ticket_parts"}  # a failed parent's child is not complete either
    assert all(status == "COMPLETE" for name, status in final.items() if name not in incomplete)
    (error,) = run.errors()
    assert "activity_logs" in error["message"] and "tickets" in error["message"]
    assert run.records["contacts"] and run.records["conversation_parts"]


def test_progress_of_a_sliced_backfill(tmp_path, make_sandbox, monkeypatch):
    monkeypatch.setenv("TAP_INTERCOM_SLICE_MIN_RECORDS", "500")
    monkeypatch.setenv("TAP_INTERCOM_PROGRESS_SECONDS", "0.05")
    sandbox = make_sandbox(contacts=3000)
    sandbox.faults.configure(latency_ms=3)  # a backfill that takes long enough to report on
    config = tap_config(sandbox, page_size=50, max_concurrency=16)
    catalog = select(discovered_catalog(tmp_path, config), {"contacts"})
    result = run_tap(tmp_path / "sync", config, catalog=catalog)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "searching" in result.stderr and "time slices" in result.stderr
    pattern = re.compile(r"contacts: ([\d,]+) of ([\d,]+) \((\d+)%\), [\d,]+/s, (ETA \d+ \w+|done in \d+ \w+)")
    lines = [m.groups() for m in pattern.finditer(result.stderr)]
    assert len(lines) >= 3, result.stderr[-3000:]
    done = [int(d.replace(",", "")) for d, *_ in lines]
    assert done == sorted(done) and len(set(done)) == len(done)  # increasing
    total = len(sandbox.world.ground_truth("contacts"))
    assert all(int(t.replace(",", "")) == total for _, t, _, _ in lines)
    assert lines[-1][2] == "100" and lines[-1][3].startswith("done in") and done[-1] == total


def test_a_share_of_the_rate_budget(tmp_path, make_sandbox):
    # 100 requests per 2-second window, half of it for this sync: 50 at most in any window
    sandbox = make_sandbox(conversations=220, rate_limit=100, rate_window_seconds=2)
    config = tap_config(sandbox, rate_limit_share=0.5)
    catalog = select(discovered_catalog(tmp_path, config), {"conversations", "conversation_parts"})
    sandbox.stats.reset()
    result = run_tap(tmp_path / "sync", config, catalog=catalog)
    assert result.returncode == 0, result.stderr[-2000:]
    stats = sandbox.stats.snapshot()
    windows = stats["by_window"]
    assert sum(windows.values()) >= 220 and len(windows) >= 4  # long enough to span several windows
    assert max(windows.values()) <= 50 + 3, windows
    assert "429" not in stats["by_status"]


def test_a_search_page_that_keeps_failing_is_asked_for_smaller(tmp_path, make_sandbox, quick_retries):
    sandbox = make_sandbox(conversations=400)
    config = tap_config(sandbox)
    catalog = select(discovered_catalog(tmp_path, config), {"conversations"})
    # every conversation search page of 150 fails; smaller ones are answered
    sandbox.faults.configure(rules=[FaultRule("5xx", probability=1.0, path="/conversations/search",
                                              min_per_page=150)])
    result = run_tap(tmp_path / "sync", config, catalog=catalog)
    assert result.returncode == 0, result.stderr[-2000:]
    ids = [r["id"] for r in result.records["conversations"]]
    assert len(ids) == len(set(ids))  # nothing read twice
    assert set(ids) == {c["id"] for c in sandbox.world.ground_truth("conversations")}  # nothing skipped
    assert "a page of 150 failed" in result.stderr and "asking for 75 per page" in result.stderr
    assert sandbox.stats.snapshot()["faults"]["5xx"] >= 2
