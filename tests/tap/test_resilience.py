"""Faults and interruptions: each sync still completes with every record."""

from __future__ import annotations

import pytest

from intercom_sandbox import FaultRule

from .conftest import discovered_catalog, select, tap_config
from .test_sync import CORE_STREAMS, assert_matches_ground_truth


@pytest.fixture
def fast_retries(monkeypatch):
    """The tap's backoff, shortened for tests through its environment (see client.py)."""
    monkeypatch.setenv("TAP_INTERCOM_BACKOFF_BASE_SECONDS", "0.02")
    monkeypatch.setenv("TAP_INTERCOM_SCROLL_EXISTS_WAIT_SECONDS", "0.3")


@pytest.mark.parametrize("rules", [
    pytest.param([FaultRule("429", count=25)], id="429-storm"),
    pytest.param([FaultRule("5xx", probability=0.15)], id="5xx-burst"),
    pytest.param([FaultRule("malformed", probability=0.1)], id="malformed-json"),
    pytest.param([FaultRule("drop", probability=0.1)], id="dropped-connections"),
    pytest.param([FaultRule("5xx", count=1, path="/companies/scroll"),
                  FaultRule("5xx", count=1, path="/companies/scroll")], id="mid-scroll-500"),
    pytest.param([FaultRule("vanish", count=3, path="/conversations/search")], id="deleted-conversations"),
])
def test_sync_completes_with_every_record_despite_faults(make_sandbox, sync, fast_retries, rules):
    # A one-second rate-limit window keeps each 429 wait short (Intercom's is ten seconds).
    # A scroll whose answer was lost is restarted once the old one expires (Intercom: a minute).
    sandbox = make_sandbox(contacts=150, companies=130, conversations=60, rate_window_seconds=1, scroll_expiry=1.0)
    sandbox.faults.configure(rules=rules)
    result = sync(sandbox, page_size=30)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sum(sandbox.stats.faults.values()) > 0
    assert_matches_ground_truth(sandbox, result.records, streams=[
        s for s in CORE_STREAMS if not (s == "conversations" and rules[0].kind == "vanish")])
    if rules[0].kind == "vanish":
        assert "deleted after it was listed" in result.stderr


def test_rate_limit_is_respected_without_errors(make_sandbox, sync, fast_retries, tmp_path):
    sandbox = make_sandbox(contacts=60, companies=40, conversations=30, rate_limit=8, rate_window_seconds=1)
    catalog = select(discovered_catalog(tmp_path, tap_config(sandbox)), set(CORE_STREAMS))
    result = sync(sandbox, catalog=catalog, page_size=20)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_matches_ground_truth(sandbox, result.records)
    # Paced by the headers, the tap rarely meets a 429 at all.
    assert sandbox.stats.by_status.get(429, 0) <= 3
    assert sandbox.stats.by_status[200] > 50


def test_scroll_exists_is_waited_out(make_sandbox, sync, fast_retries, monkeypatch, tmp_path):
    # Someone else's scroll is open when the sync starts, and expires while the tap waits.
    sandbox = make_sandbox(scroll_expiry=3.0)
    monkeypatch.setenv("TAP_INTERCOM_SCROLL_EXISTS_WAIT_SECONDS", "1")
    catalog = select(discovered_catalog(tmp_path, tap_config(sandbox)), {"companies"})
    from tests.sandbox.conftest import Client

    Client(sandbox).ok("GET", "/companies/scroll")
    result = sync(sandbox, catalog=catalog, page_size=50)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Another companies scroll is open" in result.stderr
    assert_matches_ground_truth(sandbox, result.records, streams=["companies"])


@pytest.mark.parametrize("kill_after", [1, 37, 150, 420])
def test_killed_sync_resumed_from_its_last_state_loses_nothing(make_sandbox, sync, fast_retries, kill_after):
    # A killed sync can leave its companies scroll open; the resumed one waits it out
    # (a one-second expiry here instead of Intercom's minute).
    sandbox = make_sandbox(contacts=200, conversations=80, scroll_expiry=1.0)
    seen = {"records": 0}

    def killer(message):
        if message["type"] == "RECORD":
            seen["records"] += 1
            if seen["records"] >= kill_after:
                return "kill"
        return None

    killed = sync(sandbox, page_size=25, on_message=killer)
    assert killed.returncode != 0
    resumed = sync(sandbox, state=killed.last_state or {}, page_size=25)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_matches_ground_truth(sandbox, killed.records, resumed.records)
