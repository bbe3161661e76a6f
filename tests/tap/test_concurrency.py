"""Child requests run concurrently (max_concurrency) without changing what is emitted."""

from __future__ import annotations

import pytest

from .conftest import discovered_catalog, select, tap_config
from .test_sync import CORE_STREAMS, assert_matches_ground_truth

CHILDREN = set(CORE_STREAMS) | {"tickets", "ticket_parts", "contact_notes", "conversation_handling_events"}


@pytest.mark.parametrize("concurrency", [1, 8])
def test_children_are_fetched_concurrently_and_records_stay_in_order(make_sandbox, sync, tmp_path, concurrency):
    sandbox = make_sandbox(contacts=120, companies=60, conversations=80)
    sandbox.faults.configure(latency_ms=15)  # requests take long enough to overlap
    catalog = select(discovered_catalog(tmp_path, tap_config(sandbox)), CHILDREN)
    result = sync(sandbox, catalog=catalog, max_concurrency=concurrency)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_matches_ground_truth(sandbox, result.records, streams=CORE_STREAMS)
    in_flight = sandbox.stats.snapshot()["max_in_flight"]
    if concurrency == 1:
        assert in_flight <= 2  # the parent's page and one child request
    else:
        assert in_flight >= 4
    # a parent's children come right before the parent itself, as the SDK syncs them
    order = [(m["stream"], m["record"]) for m in result.messages if m["type"] == "RECORD"]
    for position, (stream, record) in enumerate(order):
        if stream == "conversation_parts":
            following = next(r for s, r in order[position:] if s == "conversations")
            assert following["id"] == record["conversation_id"]


@pytest.mark.parametrize("timezone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_a_long_window_is_searched_in_slices_and_loses_nothing(make_sandbox, sync, tmp_path, monkeypatch, timezone):
    # Slicing starts from 3,000 records by default; the small sandbox lowers the bar.
    monkeypatch.setenv("TAP_INTERCOM_SLICE_MIN_RECORDS", "50")
    sandbox = make_sandbox(contacts=300, conversations=120, timezone=timezone)
    sandbox.faults.configure(latency_ms=15)  # requests take long enough to overlap
    world = sandbox.world
    # Slice edges fall between records sharing a second and inside contacts' calendar days.
    for contact in world.ground_truth("contacts")[:30]:
        world.update("contacts", contact["id"], at=1_700_000_000)
    searched = ["contacts", "conversations", "tickets", "ticket_parts"]
    catalog = select(discovered_catalog(tmp_path, tap_config(sandbox)), set(searched))
    first = sync(sandbox, catalog=catalog, page_size=20, max_concurrency=16)
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stderr.count("searching 16 time slices side by side") == 3
    assert_matches_ground_truth(sandbox, first.records, streams=["contacts", "conversations", "tickets", "ticket_parts"])
    for stream in ("contacts", "conversations", "tickets"):
        ids = [r["id"] for r in first.records[stream]]
        assert len(ids) == len(set(ids)), f"{stream}: a record came from two slices"
        # Out of order, so the bookmark is committed once, at the newest record.
        assert first.last_state["bookmarks"][stream]["replication_key_value"] == max(
            r["updated_at"] for r in first.records[stream])
    assert sandbox.stats.snapshot()["max_in_flight"] >= 3

    changed = world.ground_truth("contacts")[100]["id"]
    world.update("contacts", changed, {"name": "After The Backfill"}, at=world.clock.now())
    second = sync(sandbox, state=first.last_state, catalog=catalog, page_size=20, max_concurrency=16)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "time slices" not in second.stderr  # a small window is walked in order
    assert {c["id"]: c["name"] for c in second.records["contacts"]}[changed] == "After The Backfill"
    assert_matches_ground_truth(sandbox, first.records, second.records, streams=["contacts", "conversations"])


def test_a_search_whose_children_cost_a_request_each_is_not_sliced(make_sandbox, sync, tmp_path, monkeypatch):
    monkeypatch.setenv("TAP_INTERCOM_SLICE_MIN_RECORDS", "50")
    sandbox = make_sandbox(contacts=20, conversations=120)
    catalog = select(discovered_catalog(tmp_path, tap_config(sandbox)), {"conversations", "conversation_parts"})
    result = sync(sandbox, catalog=catalog, page_size=20)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "time slices" not in result.stderr  # the parts' requests already fill the budget
    assert_matches_ground_truth(sandbox, result.records, streams=["conversations", "conversation_parts"])
