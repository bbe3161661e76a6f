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
