"""The data and the control API: the 500-part cap, changes during a sync, ground truth."""

from __future__ import annotations

import requests

from intercom_sandbox import Sandbox, SandboxConfig, SCALES

from .conftest import walk_search

EVERYTHING = {"field": "updated_at", "operator": ">", "value": 0}


def test_same_seed_same_world_other_seed_other_world():
    a = Sandbox(SandboxConfig(seed=7, scale=SCALES["small"].with_counts(contacts=30)))
    b = Sandbox(SandboxConfig(seed=7, scale=SCALES["small"].with_counts(contacts=30)))
    c = Sandbox(SandboxConfig(seed=8, scale=SCALES["small"].with_counts(contacts=30)))
    try:
        assert a.world.ground_truth("contacts") == b.world.ground_truth("contacts")
        assert a.world.ground_truth("contacts") != c.world.ground_truth("contacts")
    finally:
        for s in (a, b, c):
            s.httpd.server_close()


def test_long_conversation_returns_the_500_most_recent_parts(intercom_sandbox, client):
    world = intercom_sandbox.world
    c = max(range(len(world.part_counts)), key=world.part_counts.__getitem__)
    total = world.part_count(c)
    assert total > 500
    detail = client.ok("GET", f"/conversations/{world.tables['conversations'].ids[c]}")
    parts = detail["conversation_parts"]
    assert parts["total_count"] == total
    assert len(parts["conversation_parts"]) == 500
    assert parts["conversation_parts"][-1]["id"] == world.part_id(c, total - 1)
    assert parts["conversation_parts"][0]["id"] == world.part_id(c, total - 500)


def test_relations_are_consistent(intercom_sandbox):
    world = intercom_sandbox.world
    company_ids = {c["id"] for c in world.ground_truth("companies")}
    contact_ids = {c["id"] for c in world.ground_truth("contacts")}
    admin_ids = {a["id"] for a in world.ground_truth("admins")}
    for contact in world.ground_truth("contacts"):
        assert {c["id"] for c in contact["companies"]["data"]} <= company_ids
    for conversation in world.ground_truth("conversations"):
        assert {c["id"] for c in conversation["contacts"]["contacts"]} <= contact_ids
    for cid, parts in world.all_parts():
        for part in parts:
            assert part["author"]["type"] != "admin" or part["author"]["id"] in admin_ids


def test_custom_attributes_have_every_type(intercom_sandbox):
    values = [v for c in intercom_sandbox.world.ground_truth("contacts") for v in c["custom_attributes"].values()]
    kinds = {type(v).__name__ for v in values}
    assert {"str", "int", "float", "bool", "NoneType"} <= kinds


def test_updates_during_a_walk_move_the_record_and_show_in_ground_truth(intercom_sandbox, client):
    world = intercom_sandbox.world
    first = client.ok("POST", "/contacts/search", {"query": EVERYTHING, "pagination": {"per_page": 10},
                                                    "sort": {"field": "updated_at", "order": "ascending"}})
    oldest = first["data"][0]["id"]
    changed = world.update("contacts", oldest, {"name": "Renamed Person"})
    assert changed["updated_at"] >= first["data"][-1]["updated_at"]
    rest, _ = walk_search(client, "/contacts/search", EVERYTHING, "data", 150,
                          {"field": "updated_at", "order": "ascending"})
    assert rest[-1]["id"] == oldest and rest[-1]["name"] == "Renamed Person"
    truth = {c["id"]: c for c in world.ground_truth("contacts")}
    assert truth[oldest]["name"] == "Renamed Person"


def test_create_delete_and_new_parts(intercom_sandbox, client):
    world = intercom_sandbox.world
    created = world.create("contacts", {"name": "Brand New"})
    assert client.ok("GET", f"/contacts/{created['id']}")["name"] == "Brand New"
    victim = world.ground_truth("conversations")[3]["id"]
    world.delete("conversations", victim)
    assert client.get(f"/conversations/{victim}").status_code == 404
    assert victim not in {c["id"] for c in world.ground_truth("conversations")}
    old = world.ground_truth("conversations")[0]
    before = client.ok("GET", f"/conversations/{old['id']}")["conversation_parts"]["total_count"]
    updated = world.add_parts(old["id"], 2)
    after = client.ok("GET", f"/conversations/{old['id']}")["conversation_parts"]
    assert after["total_count"] == before + 2
    assert updated["updated_at"] > old["updated_at"]
    assert after["conversation_parts"][-1]["created_at"] == updated["updated_at"]


def test_new_contacts_are_invisible_to_search_for_the_delay(make_sandbox):
    from .conftest import Client

    sandbox = make_sandbox(search_delay=3600)
    client = Client(sandbox)
    created = sandbox.world.create("contacts", {"name": "Not Yet"})
    found, _ = walk_search(client, "/contacts/search", EVERYTHING, "data", 150)
    assert created["id"] not in {c["id"] for c in found}
    assert client.ok("GET", f"/contacts/{created['id']}")["name"] == "Not Yet"
    sandbox.world.clock.offset = 3601
    found, _ = walk_search(client, "/contacts/search", EVERYTHING, "data", 150)
    assert created["id"] in {c["id"] for c in found}


def test_control_endpoints_over_http(intercom_sandbox):
    url = intercom_sandbox.url + "/_sandbox"
    contact = intercom_sandbox.world.ground_truth("contacts")[0]
    changed = requests.post(f"{url}/update", json={"kind": "contacts", "id": contact["id"],
                                                   "fields": {"name": "Via HTTP"}, "at": 1_800_000_000}).json()
    assert changed["name"] == "Via HTTP" and changed["updated_at"] == 1_800_000_000
    truth = requests.get(f"{url}/ground_truth/contacts").json()
    assert {c["id"]: c["name"] for c in truth}[contact["id"]] == "Via HTTP"
    requests.post(f"{url}/faults", json={"rules": [{"kind": "5xx", "count": 1}]})
    assert requests.get(intercom_sandbox.url + "/tags",
                        headers={"Authorization": "Bearer sandbox-token"}).status_code >= 500
    stats = requests.get(f"{url}/stats").json()
    assert stats["faults"] == {"5xx": 1}
    assert requests.post(f"{url}/update", json={"kind": "nope", "id": "1"}).status_code == 400
