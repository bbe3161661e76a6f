"""The search DSL over HTTP: contacts' calendar-day grain in the workspace timezone, limits, errors."""

from __future__ import annotations

from .conftest import Client, walk_search

# 2024-03-10 is a Sunday; New York is UTC-4 after 2024-03-10 07:00 UTC (DST starts).
JAN_1_0900_UTC = 1_704_099_600  # 2024-01-01 09:00 UTC = 04:00 in New York
JAN_1_2300_UTC = 1_704_150_000  # 2024-01-01 23:00 UTC = 18:00 in New York
JAN_2_0300_UTC = 1_704_164_400  # 2024-01-02 03:00 UTC = 2024-01-01 22:00 in New York
JAN_2_1200_UTC = 1_704_196_800  # 2024-01-02 12:00 UTC = 07:00 in New York


def pin_contacts(sandbox) -> dict[str, str]:
    """Four contacts at known moments; every other contact far in the past."""
    world = sandbox.world
    contacts = [c["id"] for c in world.ground_truth("contacts")]
    for cid in contacts[4:]:
        world.update("contacts", cid, at=1_600_000_000)
    names = {}
    for cid, (name, at) in zip(contacts, [("a", JAN_1_0900_UTC), ("b", JAN_1_2300_UTC), ("c", JAN_2_0300_UTC),
                                          ("d", JAN_2_1200_UTC)]):
        world.update("contacts", cid, at=at)
        names[cid] = name
    return names


def found(client, query) -> set[str]:
    records, _ = walk_search(client, "/contacts/search", query, "data", 150)
    return {r["id"] for r in records}


def test_contact_dates_match_by_calendar_day_in_the_workspace_timezone(make_sandbox):
    sandbox = make_sandbox(timezone="America/New_York", contacts=30)
    names = pin_contacts(sandbox)
    client = Client(sandbox)

    def named(query):
        return {names[i] for i in found(client, query) if i in names}

    # In New York a, b and c are on Jan 1 and d on Jan 2.
    assert named({"field": "updated_at", "operator": "=", "value": JAN_1_2300_UTC}) == {"a", "b", "c"}
    # `>` X starts at the next day: everything on Jan 1 is out, even what came after 09:00 UTC.
    assert named({"field": "updated_at", "operator": ">", "value": JAN_1_0900_UTC}) == {"d"}
    # `<` X matches before the start of X's day.
    assert named({"field": "updated_at", "operator": "<", "value": JAN_2_1200_UTC}) == {"a", "b", "c"}


def test_same_moments_in_utc_split_the_days_differently(make_sandbox):
    sandbox = make_sandbox(timezone="UTC", contacts=30)
    names = pin_contacts(sandbox)
    client = Client(sandbox)
    got = {names[i] for i in found(client, {"field": "updated_at", "operator": "=", "value": JAN_1_0900_UTC})
           if i in names}
    assert got == {"a", "b"}


def test_unsupported_date_operators_on_contacts_are_errors(client):
    for operator in (">=", "<=", "!="):
        response = client.post("/contacts/search", {"query": {"field": "updated_at", "operator": operator,
                                                              "value": JAN_1_0900_UTC}})
        assert response.status_code == 400, operator
        assert response.json()["type"] == "error.list"


def test_conversations_range_operators_include_the_bound(intercom_sandbox, client):
    conversation = intercom_sandbox.world.ground_truth("conversations")[7]
    at = conversation["updated_at"]
    query = {"operator": "AND", "value": [{"field": "updated_at", "operator": ">", "value": at},
                                          {"field": "updated_at", "operator": "<", "value": at}]}
    records, _ = walk_search(client, "/conversations/search", query, "conversations", 150)
    assert conversation["id"] in {r["id"] for r in records}
    assert {r["updated_at"] for r in records} == {at}


def test_nesting_and_group_limits_over_http(client):
    leaf = {"field": "updated_at", "operator": ">", "value": 0}
    two_levels = {"operator": "AND", "value": [{"operator": "OR", "value": [leaf, leaf]}, leaf]}
    three_levels = {"operator": "AND", "value": [{"operator": "OR", "value": [{"operator": "AND",
                                                                                "value": [leaf]}]}]}
    assert client.post("/conversations/search", {"query": two_levels}).status_code == 200
    assert client.post("/conversations/search", {"query": three_levels}).status_code == 400
    assert client.post("/conversations/search", {"query": {"operator": "OR", "value": [leaf] * 15}}).status_code == 200
    assert client.post("/conversations/search", {"query": {"operator": "OR", "value": [leaf] * 16}}).status_code == 400
    too_big = client.post("/contacts/search", {"query": leaf, "pagination": {"per_page": 151}})
    assert too_big.status_code == 400
    bad_sort = client.post("/contacts/search", {"query": leaf, "sort": {"field": "updated_at", "order": "up"}})
    assert bad_sort.json()["errors"][0]["code"] == "invalid_sort_order"


def test_conversations_page_by_id_as_older_clients_do(intercom_sandbox, client):
    # singer-io walks conversations with `id > last id`, compared as text, bound included as
    # every conversation range is; and it sends dates as floats (1577869200.0).
    ids = sorted(r["id"] for r in intercom_sandbox.world.ground_truth("conversations"))
    pivot = ids[len(ids) // 2]
    query = {"operator": "AND", "value": [{"field": "id", "operator": ">", "value": pivot},
                                          {"field": "updated_at", "operator": ">", "value": 0.0}]}
    records, _ = walk_search(client, "/conversations/search", query, "conversations", 150)
    assert sorted(r["id"] for r in records) == [i for i in ids if i >= pivot]
    fraction = {"query": {"field": "updated_at", "operator": ">", "value": 0.5}}
    assert client.post("/conversations/search", fraction).status_code == 400
    assert client.post("/conversations/search", {"query": {"field": "id", "operator": ">",
                                                           "value": ["a"]}}).status_code == 400
