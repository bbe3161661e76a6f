"""Full and incremental syncs against the sandbox: every record of the ground truth arrives."""

from __future__ import annotations

import pytest

CORE_STREAMS = ["admins", "teams", "tags", "segments", "company_attributes", "contact_attributes",
                "conversation_attributes", "companies", "company_segments", "contacts", "conversations",
                "conversation_parts"]


def key(stream: str, record: dict) -> tuple:
    if stream == "company_segments":
        return record["company_id"], record["id"]
    if stream == "conversation_parts":
        return record["conversation_id"], record["id"]
    return (str(record["id"]),)


def latest(records_by_stream: list[dict[str, list[dict]]], stream: str) -> dict[tuple, dict]:
    """The union of several syncs' records of a stream, later syncs winning."""
    merged: dict[tuple, dict] = {}
    for records in records_by_stream:
        for record in records.get(stream, []):
            merged[key(stream, record)] = record
    return merged


def assert_matches_ground_truth(sandbox, *record_sets, streams=CORE_STREAMS):
    for stream in streams:
        truth = {key(stream, r): r for r in sandbox.world.ground_truth(stream)}
        got = latest(list(record_sets), stream)
        assert set(got) == set(truth), f"{stream}: missing {len(set(truth) - set(got))}, extra {len(set(got) - set(truth))}"
        if stream in ("contacts", "conversations", "companies"):
            for k, record in truth.items():
                assert got[k]["updated_at"] == iso(record["updated_at"]), (stream, k)


def iso(unix: int) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix))


def test_full_sync_returns_the_ground_truth_of_every_stream(make_sandbox, sync):
    sandbox = make_sandbox()
    result = sync(sandbox, page_size=50)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_matches_ground_truth(sandbox, result.records)
    contact = result.records["contacts"][0]
    assert isinstance(contact["id"], str)
    assert contact["created_at"].endswith("Z") and "T" in contact["created_at"]
    assert all(isinstance(p["conversation_id"], str) for p in result.records["conversation_parts"])
    assert "truncated" in result.stderr  # the long conversation is reported
    assert sandbox.config.token not in result.stderr
    assert sandbox.config.token not in str(result.messages)


def test_incremental_state_and_second_sync_with_changes(make_sandbox, sync):
    sandbox = make_sandbox()
    world = sandbox.world
    first = sync(sandbox, page_size=40)
    assert first.returncode == 0, first.stderr[-3000:]
    bookmarks = first.last_state["bookmarks"]
    assert set(bookmarks) >= {"contacts", "conversations"}
    # State stays small: no partition per conversation.
    assert "partitions" not in bookmarks.get("conversation_parts", {})
    assert len(str(first.last_state)) < 2000

    contacts = world.ground_truth("contacts")
    conversations = world.ground_truth("conversations")
    # Changes between syncs: same-day contact updates, new parts on an old conversation, new records.
    now = world.clock.now()
    world.update("contacts", contacts[0]["id"], {"name": "Changed Today"}, at=now)
    world.update("contacts", contacts[1]["id"], {"name": "Same Second"}, at=now)
    oldest = min(conversations, key=lambda c: c["updated_at"])
    world.add_parts(oldest["id"], 3, at=now)
    world.create("contacts", {"name": "Newcomer"}, at=now)
    world.create("conversations", at=now)

    second = sync(sandbox, state=first.last_state, page_size=40)
    assert second.returncode == 0, second.stderr[-3000:]
    changed = {c["id"] for c in second.records["contacts"]}
    assert {contacts[0]["id"], contacts[1]["id"]} <= changed
    assert len(second.records["contacts"]) < len(contacts) / 2  # incremental, not a full re-read
    assert oldest["id"] in {c["id"] for c in second.records["conversations"]}
    parts_of_oldest = [p for p in second.records["conversation_parts"] if p["conversation_id"] == oldest["id"]]
    assert len(parts_of_oldest) == world.part_count(world.tables["conversations"].find(oldest["id"]))
    assert_matches_ground_truth(sandbox, first.records, second.records)


def test_records_updated_during_the_sync_are_taken_by_the_next_one(make_sandbox, sync):
    sandbox = make_sandbox()
    world = sandbox.world
    contacts = sorted(world.ground_truth("contacts"), key=lambda c: (c["updated_at"], c["id"]))
    conversations = sorted(world.ground_truth("conversations"), key=lambda c: (c["updated_at"], c["id"]))
    touched = {"done": False}

    def change_while_paging(message):
        # After the first page of contacts, update a contact on a later page and one already read.
        if not touched["done"] and message.get("stream") == "contacts" and message["type"] == "RECORD":
            touched["done"] = True
            world.update("contacts", contacts[-1]["id"], {"name": "Moved During Sync"})
            world.update("contacts", contacts[0]["id"], {"name": "Read Then Changed"})
            world.update("conversations", conversations[len(conversations) // 2]["id"], {"title": "Changed"})
        return None

    first = sync(sandbox, page_size=25, on_message=change_while_paging)
    assert first.returncode == 0, first.stderr[-3000:]
    second = sync(sandbox, state=first.last_state, page_size=25)
    assert second.returncode == 0, second.stderr[-3000:]
    assert_matches_ground_truth(sandbox, first.records, second.records)
    names = {c["id"]: c["name"] for c in second.records["contacts"]}
    assert names[contacts[-1]["id"]] == "Moved During Sync"
    assert names[contacts[0]["id"]] == "Read Then Changed"


def test_equal_timestamps_across_page_boundaries(make_sandbox, sync):
    sandbox = make_sandbox(contacts=120)
    world = sandbox.world
    # Forty contacts share one second: with 7 per page the second spans six pages.
    stamp = 1_700_000_000
    for contact in world.ground_truth("contacts")[:40]:
        world.update("contacts", contact["id"], at=stamp)
    result = sync(sandbox, page_size=7)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_matches_ground_truth(sandbox, result.records, streams=["contacts"])
    # Stop exactly inside the shared second, resume, and still get all forty.
    state = {"bookmarks": {"contacts": {"replication_key": "updated_at",
                                        "replication_key_value": "2023-11-14T22:13:20Z"}}}
    resumed = sync(sandbox, state=state, page_size=7)
    shared = [c for c in resumed.records["contacts"] if c["updated_at"] == "2023-11-14T22:13:20Z"]
    assert len({c["id"] for c in shared}) == 40


@pytest.mark.parametrize("timezone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_same_day_contact_updates_across_timezones(make_sandbox, sync, timezone):
    sandbox = make_sandbox(timezone=timezone, contacts=60, conversations=10)
    world = sandbox.world
    first = sync(sandbox, page_size=50)
    assert first.returncode == 0, first.stderr[-3000:]
    bookmark = first.last_state["bookmarks"]["contacts"]["replication_key_value"]
    # An update one second after the bookmark, on the same calendar day.
    import datetime as dt

    at = int(dt.datetime.fromisoformat(bookmark.replace("Z", "+00:00")).timestamp()) + 1
    target = world.ground_truth("contacts")[5]["id"]
    world.update("contacts", target, {"name": "One Second Later"}, at=at)
    second = sync(sandbox, state=first.last_state, page_size=50)
    assert target in {c["id"] for c in second.records["contacts"]}
