"""Conversations extras: deleted-conversation tombstones and handling (pause/resume) events."""

from __future__ import annotations

from collections import Counter

import pytest

from .test_conformance import conformance_violations
from .test_domain_workspace import assert_exactly_once, ids, walk_pages


@pytest.mark.parametrize("per_page", [None, 7, 60])
@pytest.mark.parametrize("order", [None, "asc", "desc"])
def test_deleted_conversations_walk_every_tombstone_once_in_order(intercom_sandbox, client, per_page, order):
    truth = intercom_sandbox.world.ground_truth("deleted_conversations")
    params = {"order": order} if order else {}
    records, pages = walk_pages(client, "/conversations/deleted", "conversations", per_page, **params)
    assert_exactly_once(records, truth)
    assert pages == -(-len(truth) // (per_page or 20)) and pages >= 3
    keys = [(r["deleted_at"], int(r["id"])) for r in records]
    assert keys == sorted(keys, reverse=order != "asc")  # desc by default


def test_deleted_conversation_next_links_lead_through_every_page(intercom_sandbox, client):
    records, path = [], "/conversations/deleted?per_page=60&order=asc"
    while path:
        body = client.session.get(intercom_sandbox.url + path, timeout=30).json()
        records.extend(body["conversations"])
        path = body["pages"]["next"]
    assert_exactly_once(records, intercom_sandbox.world.ground_truth("deleted_conversations"))


def test_seeded_tombstones_are_not_live_conversations(intercom_sandbox):
    world = intercom_sandbox.world
    tombstones = world.ground_truth("deleted_conversations")
    assert not set(ids(tombstones)) & set(world.tables["conversations"].ids)
    stamps = [t["deleted_at"] for t in tombstones]
    assert max(stamps) - min(stamps) > 3 * 365 * 86_400


def test_a_deleted_conversation_becomes_a_tombstone(intercom_sandbox, client):
    world = intercom_sandbox.world
    gone = world.ground_truth("conversations")[5]["id"]
    at = world.clock.now()
    world.delete("conversations", gone, at=at)
    first = client.ok("GET", "/conversations/deleted")["conversations"][0]
    assert (first["id"], first["deleted_at"]) == (gone, at)  # newest deletion first
    assert gone in ids(world.ground_truth("deleted_conversations"))
    assert client.get(f"/conversations/{gone}/handling_events").status_code == 404
    assert gone not in {e["conversation_id"] for e in world.ground_truth("conversation_handling_events")}


def test_a_deleted_tombstone_vanishes(intercom_sandbox, client):
    world = intercom_sandbox.world
    gone = world.ground_truth("deleted_conversations")[0]["id"]
    world.delete("deleted_conversations", gone)
    records, _ = walk_pages(client, "/conversations/deleted", "conversations", 60)
    assert gone not in ids(records) and gone not in ids(world.ground_truth("deleted_conversations"))


def test_an_unknown_order_is_a_400(client):
    response = client.get("/conversations/deleted", order="sideways")
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "parameter_invalid"
    assert client.get("/conversations/deleted", per_page=61).status_code == 400


def test_handling_events_of_every_conversation_match_the_ground_truth(intercom_sandbox, client):
    world = intercom_sandbox.world
    served = [dict(event, conversation_id=c["id"]) for c in world.ground_truth("conversations")
              for event in client.ok("GET", f"/conversations/{c['id']}/handling_events")["handling_events"]]
    assert served == world.ground_truth("conversation_handling_events")
    counts = {len(client.ok("GET", f"/conversations/{c}/handling_events")["handling_events"])
              for c in world.tables["conversations"].ids[:40]}
    assert 0 in counts and max(counts) >= 4  # 0..6 a conversation
    keys = [(e["conversation_id"], e["timestamp"], e["type"]) for e in served]
    assert len(keys) == len(set(keys))  # the tap's key is unique
    admins = {int(a) for a in ids(world.ground_truth("admins"))}
    assert {e["teammate"]["id"] for e in served} <= admins


def test_handling_events_alternate_pause_and_resume_in_time_order(intercom_sandbox):
    events = intercom_sandbox.world.ground_truth("conversation_handling_events")
    by_conversation: dict[str, list] = {}
    for e in events:
        by_conversation.setdefault(e["conversation_id"], []).append(e)
    for group in by_conversation.values():
        assert [e["type"] for e in group] == ["paused", "resumed"] * (len(group) // 2) + ["paused"] * (len(group) % 2)
        assert [e["timestamp"] for e in group] == sorted(e["timestamp"] for e in group)


def test_handling_events_of_an_unknown_conversation_are_a_404(client):
    response = client.get("/conversations/1/handling_events")
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == "not_found"


def test_conversations_extra_endpoints_conform_to_the_2_16_response_schemas(intercom_sandbox, spec_dict):  # noqa: F811
    world = intercom_sandbox.world
    conversations = world.tables["conversations"].ids
    busiest = Counter(e["conversation_id"] for e in world.ground_truth("conversation_handling_events")).most_common(1)
    world.delete("conversations", conversations[7])  # a tombstone of a conversation deleted now
    calls = [
        ("GET", "/conversations/deleted", None, {}),
        ("GET", "/conversations/deleted", None, {"page": "3", "per_page": "20", "order": "asc"}),
        ("GET", "/conversations/deleted", None, {"page": "3", "per_page": "60"}),  # the last page: next is null
        ("GET", f"/conversations/{busiest[0][0]}/handling_events", None, {}),
        ("GET", f"/conversations/{conversations[0]}/handling_events", None, {}),
        ("GET", "/conversations/1/handling_events", None, {}),  # the 404 error answer
    ]
    violations = conformance_violations(intercom_sandbox, spec_dict, calls)
    assert violations == [], "\n".join(violations)
