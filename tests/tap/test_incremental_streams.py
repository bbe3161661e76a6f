"""Two syncs with changes in between, for the incremental streams added beside contacts and
conversations: the second sync brings exactly the changes (plus records sharing the bookmark's
second), and nothing changed before the bookmark is read again."""

from __future__ import annotations

from .conftest import discovered_catalog, run_tap, select, tap_config


def two_syncs(tmp_path, sandbox, streams: set[str], change, **config):
    config = tap_config(sandbox, **config)
    catalog = select(discovered_catalog(tmp_path, config), streams)
    first = run_tap(tmp_path / "first", config, catalog=catalog)
    assert first.returncode == 0, first.stderr[-3000:]
    expected = change(sandbox.world)
    second = run_tap(tmp_path / "second", config, catalog=catalog, state=first.last_state)
    assert second.returncode == 0, second.stderr[-3000:]
    return first, second, expected


def ids(records: list[dict], key: str = "id") -> set[str]:
    return {str(r[key]) for r in records}


def at_bookmark(records: list[dict], field: str, value) -> set[str]:
    return {str(r["id"]) for r in records if r[field] == value}


def test_tickets_and_their_parts(tmp_path, make_sandbox):
    sandbox = make_sandbox()

    def change(world):
        now = world.clock.now()
        tickets = sorted(world.ground_truth("tickets"), key=lambda t: t["updated_at"])
        world.update("tickets", tickets[0]["id"], {"ticket_attributes": {"_default_title_": "Changed"}}, at=now)
        world.domain_control("ticket_add_parts", {"ticket_id": tickets[1]["id"], "count": 2, "at": now})
        created = world.create("tickets", at=now)
        return {tickets[0]["id"], tickets[1]["id"], created["id"]}

    first, second, changed = two_syncs(tmp_path, sandbox, {"tickets", "ticket_parts"}, change, page_size=20)
    assert ids(first.records["tickets"]) == ids(sandbox.world.ground_truth("tickets")) - changed | (
        ids(first.records["tickets"]) & changed)
    bookmark = first.last_state["bookmarks"]["tickets"]["replication_key_value"]
    again = at_bookmark(first.records["tickets"], "updated_at", bookmark)
    assert ids(second.records["tickets"]) == changed | again
    # every part of the changed tickets, the two new ones included
    truth = [p for p in sandbox.world.ground_truth("ticket_parts") if p["ticket_id"] in changed | again]
    assert ids(second.records["ticket_parts"]) >= ids(truth)
    assert all(p["ticket_id"] in changed | again for p in second.records["ticket_parts"])


def test_deleted_conversations_bring_new_tombstones_and_stop_at_the_bookmark(tmp_path, make_sandbox):
    sandbox = make_sandbox()

    def change(world):
        victims = [c["id"] for c in world.ground_truth("conversations")[:3]]
        for victim in victims:
            world.delete("conversations", victim, at=world.clock.now())
        return set(victims)

    first, second, deleted = two_syncs(tmp_path, sandbox, {"deleted_conversations"}, change)
    assert ids(first.records["deleted_conversations"]) == ids(
        sandbox.world.ground_truth("deleted_conversations")) - deleted
    bookmark = first.last_state["bookmarks"]["deleted_conversations"]["replication_key_value"]
    again = at_bookmark(first.records["deleted_conversations"], "deleted_at", bookmark)
    assert len(again) >= 1
    assert ids(second.records["deleted_conversations"]) == deleted | again
    # newest first, so the second sync stopped after the first page
    assert len(second.records["deleted_conversations"]) < 60


def test_activity_logs_in_windows(tmp_path, make_sandbox):
    sandbox = make_sandbox()

    def change(world):
        return {world.create("activity_logs", at=world.clock.now())["id"]}

    first, second, created = two_syncs(tmp_path, sandbox, {"activity_logs"}, change, page_size=50)
    truth_before = ids(sandbox.world.ground_truth("activity_logs")) - created
    assert ids(first.records["activity_logs"]) == truth_before
    got = first.records["activity_logs"]
    assert len(got) == len(truth_before)  # no window read twice
    assert [r["created_at"] for r in got] == sorted(r["created_at"] for r in got)
    bookmark = first.last_state["bookmarks"]["activity_logs"]["replication_key_value"]
    assert ids(second.records["activity_logs"]) == created | at_bookmark(got, "created_at", bookmark)


def test_macros_through_updated_since(tmp_path, make_sandbox):
    sandbox = make_sandbox()

    def change(world):
        macro = world.ground_truth("macros")[0]
        world.update("macros", macro["id"], {"name": "Changed macro"}, at=world.clock.now())
        return {str(macro["id"])}

    first, second, changed = two_syncs(tmp_path, sandbox, {"macros"}, change, page_size=20)
    assert ids(first.records["macros"]) == ids(sandbox.world.ground_truth("macros"))
    bookmark = first.last_state["bookmarks"]["macros"]["replication_key_value"]
    assert ids(second.records["macros"]) == changed | at_bookmark(first.records["macros"], "updated_at", bookmark)


def test_contact_links_follow_their_contact(tmp_path, make_sandbox):
    sandbox = make_sandbox()

    def change(world):
        contact = world.ground_truth("contacts")[0]
        world.update("contacts", contact["id"], {"name": "Relinked"}, at=world.clock.now())
        return contact["id"]

    first, second, contact_id = two_syncs(tmp_path, sandbox, {"contacts", "contact_tags", "contact_companies"},
                                          change)
    for stream in ("contact_tags", "contact_companies"):
        truth = {(r["contact_id"], str(r["id"])) for r in sandbox.world.ground_truth(stream)}
        assert {(r["contact_id"], r["id"]) for r in first.records[stream]} == truth, stream
        changed_contacts = {r["contact_id"] for r in second.records[stream]}
        assert changed_contacts <= ids(second.records["contacts"]), stream
    assert contact_id in ids(second.records["contacts"])
