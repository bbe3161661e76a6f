"""Tickets: search windows and cursor walks, embedded vs detail parts, the control API, conformance."""

from __future__ import annotations

from collections import Counter

import requests

from intercom_sandbox.domains.tickets import SEARCH_PART_CAP

from .conftest import walk_search
from .test_conformance import conformance_violations

EVERYTHING = {"field": "updated_at", "operator": ">", "value": 0}
ASCENDING = {"field": "updated_at", "order": "ascending"}


def tickets_domain(sandbox):
    return next(d for d in sandbox.world.domains if type(d).__name__ == "TicketsDomain")


def search_page(client, per_page: int, starting_after: str | None = None) -> dict:
    pagination = {"per_page": per_page, **({"starting_after": starting_after} if starting_after else {})}
    return client.ok("POST", "/tickets/search", {"query": EVERYTHING, "pagination": pagination, "sort": ASCENDING})


def test_small_scale_has_long_and_truncated_tickets(intercom_sandbox):
    domain = tickets_domain(intercom_sandbox)
    counts = [domain.part_count(t) for t in domain.table.live()]
    assert len(counts) == intercom_sandbox.world.scale.tickets
    assert sum(c > SEARCH_PART_CAP for c in counts) >= 3
    assert sum(c > 500 for c in counts) >= 1


def test_range_operators_include_the_bound(intercom_sandbox, client):
    ticket = intercom_sandbox.world.ground_truth("tickets")[11]
    at = ticket["updated_at"]
    window = {"operator": "AND", "value": [{"field": "updated_at", "operator": ">", "value": at},
                                           {"field": "updated_at", "operator": "<", "value": at}]}
    records, _ = walk_search(client, "/tickets/search", window, "tickets", 150)
    assert ticket["id"] in {r["id"] for r in records}
    assert {r["updated_at"] for r in records} == {at}


def test_ascending_walk_serves_every_ticket_once_in_order(intercom_sandbox, client):
    records, pages = walk_search(client, "/tickets/search", EVERYTHING, "tickets", 7, ASCENDING)
    truth = intercom_sandbox.world.ground_truth("tickets")
    assert pages >= 3
    assert Counter(r["id"] for r in records) == Counter(r["id"] for r in truth)
    # ascending updated_at; ties in id order, so a cursor can resume between them
    assert records == sorted(truth, key=lambda r: (r["updated_at"], int(r["id"])))


def test_tickets_updated_mid_walk(intercom_sandbox, client):
    world = intercom_sandbox.world
    first = search_page(client, 10)
    served = first["tickets"][0]["id"]
    later = first["tickets"][-1]["updated_at"]
    unserved = next(r["id"] for r in sorted(world.ground_truth("tickets"), key=lambda r: r["updated_at"])
                    if r["updated_at"] > later)
    now = world.clock.now()
    world.update("tickets", served, at=now)
    world.update("tickets", unserved, at=now + 1)
    records = list(first["tickets"])
    cursor = first["pages"]["next"]["starting_after"]
    while cursor:
        page = search_page(client, 10, cursor)
        records.extend(page["tickets"])
        cursor = (page["pages"].get("next") or {}).get("starting_after")
    seen = Counter(r["id"] for r in records)
    assert seen[served] == 2  # before its update, and again at the end with its new updated_at
    assert seen[unserved] == 1  # moved ahead of the cursor: served once, at its new place
    assert set(seen) == {r["id"] for r in world.ground_truth("tickets")}
    assert all(n == 1 for i, n in seen.items() if i != served)
    assert [r["id"] for r in records[-2:]] == [served, unserved]
    assert records[-1]["updated_at"] == now + 1


def test_search_embeds_25_parts_and_detail_500(intercom_sandbox, client):
    domain = tickets_domain(intercom_sandbox)
    by_count = sorted(domain.table.live(), key=domain.part_count)
    short, medium, longest = by_count[0], by_count[-2], by_count[-1]
    assert domain.part_count(medium) > SEARCH_PART_CAP and domain.part_count(longest) > 500
    found, _ = walk_search(client, "/tickets/search", EVERYTHING, "tickets", 150)
    embedded = {r["id"]: r["ticket_parts"] for r in found}
    for t, detail_len in ((short, domain.part_count(short)), (medium, domain.part_count(medium)), (longest, 500)):
        ticket_id, total = domain.table.ids[t], domain.part_count(t)
        detail = client.ok("GET", f"/tickets/{ticket_id}")
        parts = detail["ticket_parts"]
        assert parts["type"] == "ticket_part.list" and parts["total_count"] == total
        assert len(parts["ticket_parts"]) == detail_len
        in_search = embedded[ticket_id]
        assert in_search["total_count"] == total
        assert len(in_search["ticket_parts"]) == min(total, SEARCH_PART_CAP)
        # both hold the most recent parts, oldest first
        assert in_search["ticket_parts"] == parts["ticket_parts"][-len(in_search["ticket_parts"]):]
        assert all(detail["created_at"] <= p["created_at"] <= detail["updated_at"] for p in parts["ticket_parts"])
        if total > 1:  # the seeded parts run from the ticket's creation to its last update
            assert parts["ticket_parts"][-1]["created_at"] == detail["updated_at"]


def test_ticket_parts_ground_truth_is_what_detail_returns(intercom_sandbox, client):
    world = intercom_sandbox.world
    served = []
    for ticket in world.ground_truth("tickets"):
        parts = client.ok("GET", f"/tickets/{ticket['id']}")["ticket_parts"]["ticket_parts"]
        served.extend(dict(p, ticket_id=ticket["id"]) for p in parts)
    assert served == world.ground_truth("ticket_parts")
    assert len({p["id"] for p in served}) == len(served)


def test_control_adds_parts_creates_and_deletes(intercom_sandbox, client):
    world = intercom_sandbox.world
    old = min(world.ground_truth("tickets"), key=lambda r: r["updated_at"])
    at = world.clock.now()
    answer = requests.post(f"{intercom_sandbox.url}/_sandbox/ticket_add_parts",
                           json={"ticket_id": old["id"], "count": 3, "at": at})
    assert answer.status_code == 200 and answer.json()["updated_at"] == at
    parts = client.ok("GET", f"/tickets/{old['id']}")["ticket_parts"]
    assert parts["total_count"] == old["ticket_parts"]["total_count"] + 3
    assert [p["created_at"] for p in parts["ticket_parts"][-3:]] == [at] * 3
    assert requests.post(f"{intercom_sandbox.url}/_sandbox/ticket_add_parts",
                         json={"ticket_id": "nope"}).status_code == 400

    created = world.create("tickets", {"ticket_attributes": {"_default_title_": "Brand new"}})
    found, _ = walk_search(client, "/tickets/search", EVERYTHING, "tickets", 150)
    assert {r["id"]: r for r in found}[created["id"]]["ticket_attributes"]["_default_title_"] == "Brand new"
    assert created["ticket_parts"]["total_count"] == 1

    world.delete("tickets", created["id"])
    assert client.get(f"/tickets/{created['id']}").status_code == 404
    assert created["id"] not in {r["id"] for r in world.ground_truth("tickets")}
    assert created["id"] not in {p["ticket_id"] for p in world.ground_truth("ticket_parts")}
    found, _ = walk_search(client, "/tickets/search", EVERYTHING, "tickets", 150)
    assert created["id"] not in {r["id"] for r in found}


def test_ticket_endpoints_conform_to_the_2_16_schemas(intercom_sandbox, spec_dict):  # noqa: F811
    domain = tickets_domain(intercom_sandbox)
    by_count = sorted(domain.table.live(), key=domain.part_count)
    search = {"query": EVERYTHING, "pagination": {"per_page": 50}, "sort": ASCENDING}
    calls = [("POST", "/tickets/search", search, {})] + [
        ("GET", f"/tickets/{domain.table.ids[t]}", None, {}) for t in (by_count[0], by_count[-2], by_count[-1])]
    assert conformance_violations(intercom_sandbox, spec_dict, calls) == []
