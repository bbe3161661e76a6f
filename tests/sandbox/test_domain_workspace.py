"""Workspace domain: settings lists, macros, activity logs, calls, ticket types/states, custom objects."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest

from .test_conformance import conformance_violations


def ids(records):
    return [r["id"] for r in records]


def assert_exactly_once(records, truth):
    counts = Counter(ids(records))
    assert [i for i, n in counts.items() if n > 1] == []
    assert set(counts) == set(ids(truth))


def walk_pages(client, path, key, per_page=None, **params):
    """Every record of a page-number list (pages 1..total_pages) and the number of pages read."""
    records, page = [], 1
    while True:
        query = {**params, "page": page, **({"per_page": per_page} if per_page else {})}
        body = client.ok("GET", path, **query)
        records.extend(body[key])
        total_pages = (body.get("pages") or body).get("total_pages", 1)  # whole lists have no pages
        if page >= total_pages:
            return records, page
        page += 1


def walk_macros(client, per_page, **params):
    records, pages, query = [], 0, {"per_page": per_page, **params}
    while True:
        body = client.ok("GET", "/macros", **query)
        pages += 1
        records.extend(body["data"])
        nxt = body["pages"].get("next")
        if not nxt:
            return records, pages
        query = {"per_page": per_page, **params, "starting_after": nxt["starting_after"]}


def unix(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


# Whole lists ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "stream"), [
    ("/away_status_reasons", "away_status_reasons"), ("/office_hours_schedules", "office_hours_schedules"),
    ("/brands", "brands"), ("/emails", "email_settings"), ("/ticket_types", "ticket_types"),
    ("/ticket_states", "ticket_states"),
])
def test_whole_lists_answer_the_ground_truth(intercom_sandbox, client, path, stream):
    truth = intercom_sandbox.world.ground_truth(stream)
    assert len(truth) >= 3
    assert client.ok("GET", path)["data"] == truth


def test_settings_relations(intercom_sandbox, client):
    world = intercom_sandbox.world
    brands = world.ground_truth("brands")
    assert [b["id"] for b in brands if b["is_default"]] == ["ecahpwf5"]  # the default brand is the workspace
    assert {e["brand_id"] for e in world.ground_truth("email_settings")} <= set(ids(brands))
    assert {b["help_center_id"] for b in brands} <= set(ids(world.ground_truth("help_centers")))
    assert any(r["deleted"] for r in world.ground_truth("away_status_reasons"))  # deleted ones are listed too


def test_ticket_type_attributes_are_embedded_in_their_types(intercom_sandbox, client):
    types = client.ok("GET", "/ticket_types")["data"]
    embedded = [a for t in types for a in t["ticket_type_attributes"]["data"]]
    assert embedded == intercom_sandbox.world.ground_truth("ticket_type_attributes")
    for ticket_type in types:
        attributes = ticket_type["ticket_type_attributes"]["data"]
        assert {a["ticket_type_id"] for a in attributes} == {int(ticket_type["id"])}
        assert {"_default_title_", "_default_description_"} <= {a["name"] for a in attributes}
    states = set(ids(client.ok("GET", "/ticket_states")["data"]))
    assert {s["id"] for t in types for s in t["ticket_states"]["data"]} <= states


def test_a_created_ticket_type_gets_the_default_attributes(intercom_sandbox, client):
    created = intercom_sandbox.world.create("ticket_types", {"name": "Security review"})
    served = {t["id"]: t for t in client.ok("GET", "/ticket_types")["data"]}[created["id"]]
    names = [a["name"] for a in served["ticket_type_attributes"]["data"]]
    assert served["name"] == "Security review" and names == ["_default_title_", "_default_description_"]


# Macros --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("per_page", [7, 50, 150])
def test_macros_cursor_walks_every_macro_once_in_updated_order(intercom_sandbox, client, per_page):
    truth = intercom_sandbox.world.ground_truth("macros")
    records, pages = walk_macros(client, per_page)
    assert_exactly_once(records, truth)
    assert pages == -(-len(truth) // per_page) and pages >= 3
    keys = [(unix(m["updated_at"]), m["id"]) for m in records]
    assert keys == sorted(keys)


def test_macros_share_updated_at_seconds_across_page_boundaries(intercom_sandbox):
    stamps = Counter(m["updated_at"] for m in intercom_sandbox.world.ground_truth("macros"))
    assert max(stamps.values()) >= 3  # the per_page=7 walk above crosses such ties


def test_macros_updated_since_is_strictly_after(intercom_sandbox, client):
    truth = intercom_sandbox.world.ground_truth("macros")
    since = sorted(unix(m["updated_at"]) for m in truth)[len(truth) // 2]
    records, _ = walk_macros(client, 50, updated_since=since)
    assert_exactly_once(records, [m for m in truth if unix(m["updated_at"]) > since])
    assert records and all(unix(m["updated_at"]) > since for m in records)


def test_macros_updated_during_a_walk_come_back_at_the_end(intercom_sandbox, client):
    world = intercom_sandbox.world
    first = client.ok("GET", "/macros", per_page=50)
    moved = first["data"][0]["id"]
    world.update("macros", moved, {"name": "Renamed"})
    rest, _ = walk_macros(client, 50, starting_after=first["pages"]["next"]["starting_after"])
    assert rest[-1]["id"] == moved and rest[-1]["name"] == "Renamed"


def test_macros_bad_cursor_is_a_400(client):
    assert client.get("/macros", starting_after="bm90LWEtY3Vyc29y").status_code == 400


# Activity logs -------------------------------------------------------------------------------------


def test_activity_logs_walk_newest_first(intercom_sandbox, client):
    truth = intercom_sandbox.world.ground_truth("activity_logs")
    assert len(truth) >= 300
    records, pages = walk_pages(client, "/admins/activity_logs", "activity_logs", created_at_after=0)
    assert_exactly_once(records, truth)
    assert pages >= 3  # at the default page size (20)
    keys = [r["created_at"] for r in records]
    assert keys == sorted(keys, reverse=True)
    assert {r["performed_by"]["id"] for r in records} <= set(ids(intercom_sandbox.world.ground_truth("admins")))


def search_logs(client, body, per_page):
    records, page = [], 1
    while True:
        answer = client.ok("POST", "/admins/activity_logs/search", {**body, "page": page, "per_page": per_page})
        records.extend(answer["activity_logs"])
        if page >= answer["pages"]["total_pages"]:
            return records, page
        page += 1


def test_activity_logs_search_walks_every_log_once(intercom_sandbox, client):
    truth = intercom_sandbox.world.ground_truth("activity_logs")
    records, pages = search_logs(client, {"created_at_after": 0}, 150)
    assert_exactly_once(records, truth)
    assert pages >= 3


def test_activity_log_windows_are_inclusive(intercom_sandbox, client):
    truth = intercom_sandbox.world.ground_truth("activity_logs")
    shared, count = Counter(r["created_at"] for r in truth).most_common(1)[0]
    assert count >= 2  # several logs in one second
    for query in ({"created_at_after": shared, "created_at_before": shared},):
        records, _ = search_logs(client, query, 250)
        assert_exactly_once(records, [r for r in truth if r["created_at"] == shared])
        got, _ = walk_pages(client, "/admins/activity_logs", "activity_logs", **query)
        assert sorted(ids(got)) == sorted(ids(records))
    stamps = sorted(r["created_at"] for r in truth)
    low, high = stamps[50], stamps[200]
    records, _ = search_logs(client, {"created_at_after": low, "created_at_before": high}, 40)
    assert_exactly_once(records, [r for r in truth if low <= r["created_at"] <= high])


def test_activity_logs_filter_by_event_type(intercom_sandbox, client):
    truth = intercom_sandbox.world.ground_truth("activity_logs")
    wanted = ["macro_update", "app_name_change"]
    records, _ = search_logs(client, {"created_at_after": 0, "event_types": wanted}, 100)
    assert_exactly_once(records, [r for r in truth if r["activity_type"] in wanted])


def test_activity_logs_need_created_at_after(client):
    for response in (client.get("/admins/activity_logs"), client.post("/admins/activity_logs/search", {})):
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "parameter_not_found"


def test_a_created_activity_log_is_listed_first(intercom_sandbox, client):
    created = intercom_sandbox.world.create("activity_logs")
    first = client.ok("GET", "/admins/activity_logs", created_at_after=0)["activity_logs"][0]
    assert first["id"] == created["id"] and first["created_at"] == intercom_sandbox.world.clock.now()


# Calls and custom objects ------------------------------------------------------------------------------


def test_calls_walk_every_call_once(intercom_sandbox, client):
    records, pages = walk_pages(client, "/calls", "data")
    assert_exactly_once(records, intercom_sandbox.world.ground_truth("calls"))
    assert pages >= 3
    assert client.get("/calls", per_page=26).status_code == 400  # at most 25 a page


@pytest.mark.parametrize(("type_name", "stream"), [("Order", "custom_object_order"),
                                                   ("Delivery", "custom_object_delivery")])
@pytest.mark.parametrize("per_page", [None, 150])
def test_custom_object_instances_walk_every_instance_once(intercom_sandbox, client, type_name, stream, per_page):
    truth = intercom_sandbox.world.ground_truth(stream)
    records, pages = walk_pages(client, f"/custom_object_instances/{type_name}", "data", per_page)
    assert_exactly_once(records, truth)
    assert pages >= 3 and {r["type"] for r in records} == {type_name}


def test_custom_object_next_links_lead_through_every_page(intercom_sandbox, client):
    records, path = [], "/custom_object_instances/Order?per_page=100"
    while path:
        body = client.session.get(intercom_sandbox.url + path, timeout=30).json()
        records.extend(body["data"])
        path = body["pages"]["next"]
    assert_exactly_once(records, intercom_sandbox.world.ground_truth("custom_object_order"))


def test_unknown_custom_object_type_is_a_404(client):
    response = client.get("/custom_object_instances/Spaceship")
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == "not_found"


def test_a_page_past_the_end_is_empty(client):
    assert client.ok("GET", "/calls", page=99)["data"] == []


SERVED = {  # kind → every record its endpoint serves
    "macros": lambda client: walk_macros(client, 150)[0],
    "calls": lambda client: walk_pages(client, "/calls", "data", 25)[0],
    "brands": lambda client: client.ok("GET", "/brands")["data"],
    "custom_object_delivery": lambda client: walk_pages(client, "/custom_object_instances/Delivery", "data", 150)[0],
    "activity_logs": lambda client: walk_pages(client, "/admins/activity_logs", "activity_logs", 250,
                                               created_at_after=0)[0],
    "ticket_type_attributes": lambda client: [a for t in client.ok("GET", "/ticket_types")["data"]
                                              for a in t["ticket_type_attributes"]["data"]],
}


@pytest.mark.parametrize("kind", sorted(SERVED))
def test_a_deleted_record_vanishes(intercom_sandbox, client, kind):
    world = intercom_sandbox.world
    gone = world.ground_truth(kind)[1]["id"]
    world.delete(kind, gone)
    assert gone not in ids(world.ground_truth(kind))
    assert gone not in ids(SERVED[kind](client))


def assert_control_api_round_trip(world, kind):
    """world.create/update/delete work on a domain table, and ground truth follows them."""
    created = world.create(kind)
    assert created["id"] in ids(world.ground_truth(kind))
    world.update(kind, created["id"], {"name": "Changed"})
    world.delete(kind, created["id"])
    assert created["id"] not in ids(world.ground_truth(kind))


@pytest.mark.parametrize("kind", ["away_status_reasons", "office_hours_schedules", "brands", "email_settings",
                                  "macros", "activity_logs", "calls", "ticket_types", "ticket_type_attributes",
                                  "ticket_states", "custom_object_order", "custom_object_delivery"])
def test_control_api_creates_updates_and_deletes(intercom_sandbox, kind):
    assert_control_api_round_trip(intercom_sandbox.world, kind)


# Conformance -----------------------------------------------------------------------------------------


def workspace_calls(client):
    cursor = client.ok("GET", "/macros", per_page=50)["pages"]["next"]["starting_after"]
    logs = {"created_at_after": 0, "page": 3, "per_page": 20}
    return [
        ("GET", "/away_status_reasons", None, {}),
        ("GET", "/office_hours_schedules", None, {}),
        ("GET", "/brands", None, {}),
        ("GET", "/emails", None, {}),
        ("GET", "/macros", None, {}),
        ("GET", "/macros", None, {"per_page": "50", "starting_after": cursor}),
        ("GET", "/macros", None, {"per_page": "150", "updated_since": str(2_000_000_000)}),  # empty last page
        ("GET", "/admins/activity_logs", None, {"created_at_after": "0"}),
        ("GET", "/admins/activity_logs", None, {k: str(v) for k, v in logs.items()}),
        ("POST", "/admins/activity_logs/search", logs, {}),
        ("POST", "/admins/activity_logs/search", {"created_at_after": 0, "event_types": ["macro_update"]}, {}),
        ("GET", "/calls", None, {}),
        ("GET", "/calls", None, {"page": "2"}),
        ("GET", "/ticket_types", None, {}),
        ("GET", "/ticket_states", None, {}),
        ("GET", "/custom_object_instances/Order", None, {}),
        ("GET", "/custom_object_instances/Order", None, {"page": "2", "per_page": "150"}),
        ("GET", "/custom_object_instances/Delivery", None, {"page": "3", "per_page": "150"}),  # the last page
    ]


def test_workspace_endpoints_conform_to_the_2_16_response_schemas(intercom_sandbox, client, spec_dict):  # noqa: F811
    violations = conformance_violations(intercom_sandbox, spec_dict, workspace_calls(client))
    assert violations == [], "\n".join(violations)
