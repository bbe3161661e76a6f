"""Contact and company children: every endpoint walked equals the ground truth, embedded lists
truncated at 10, deletes, data event summaries, conformance."""

from __future__ import annotations

import pytest

from intercom_sandbox.world import EMBEDDED_LIMIT

from .conftest import Client, walk_search
from .test_conformance import conformance_violations

# stream → (path template, list key, paged)
CONTACT_CHILDREN = {
    "contact_tags": ("/contacts/{}/tags", "data", False),
    "contact_companies": ("/contacts/{}/companies", "data", True),
    "contact_segments": ("/contacts/{}/segments", "data", False),
    "contact_subscriptions": ("/contacts/{}/subscriptions", "data", False),
    "contact_notes": ("/contacts/{}/notes", "data", True),
}
COMPANY_CHILDREN = {
    "company_contacts": ("/companies/{}/contacts", "data", True),
    "company_notes": ("/companies/{}/notes", "data", True),
}


@pytest.fixture
def sandbox(make_sandbox):
    return make_sandbox(contacts=90, companies=40)


def fetch_all(client: Client, path: str, list_key: str, paged: bool, per_page: int) -> tuple[list[dict], int]:
    """Every item of a child list, walking page 1..total_pages when it is paged; (items, pages read)."""
    if not paged:
        return client.ok("GET", path)[list_key], 1
    items, page = [], 1
    while True:
        answer = client.ok("GET", path, page=page, per_page=per_page)
        items.extend(answer[list_key])
        assert answer["total_count"] >= len(items)
        if page >= answer["pages"]["total_pages"]:
            return items, page
        page += 1


def walk_children(client: Client, world, stream: str) -> tuple[list[dict], int]:
    """What a sync of a child stream reads over HTTP, each item with its parent key; (records, most pages)."""
    children = {**CONTACT_CHILDREN, **COMPANY_CHILDREN}
    path, list_key, paged = children[stream]
    parent, key = ("contacts", "contact_id") if stream in CONTACT_CHILDREN else ("companies", "company_id")
    records, most_pages = [], 0
    for record in world.ground_truth(parent):
        items, pages = fetch_all(client, path.format(record["id"]), list_key, paged, per_page=2)
        records.extend(dict(item, **{key: record["id"]}) for item in items)
        most_pages = max(most_pages, pages)
    return records, most_pages


@pytest.mark.parametrize("stream", [*CONTACT_CHILDREN, *COMPANY_CHILDREN])
def test_every_child_endpoint_walked_equals_ground_truth(sandbox, stream):
    records, most_pages = walk_children(Client(sandbox), sandbox.world, stream)
    assert records == sandbox.world.ground_truth(stream)
    assert records, stream
    if CONTACT_CHILDREN.get(stream, COMPANY_CHILDREN.get(stream))[2]:
        assert most_pages >= 2, stream  # some parent's list crosses pages at per_page=2


def test_data_events_and_subscription_types_equal_ground_truth(sandbox):
    client, world = Client(sandbox), sandbox.world
    events = []
    for contact in world.ground_truth("contacts"):
        summary = client.ok("GET", "/events", type="user", intercom_user_id=contact["id"], summary="true")
        assert summary["type"] == "event.summary" and summary["intercom_user_id"] == contact["id"]
        assert summary["email"] == contact["email"] and summary["user_id"] == contact["external_id"]
        events.extend(dict(e, contact_id=contact["id"]) for e in summary["events"])
    assert events == world.ground_truth("data_events")
    assert len({(e["contact_id"], e["name"]) for e in events}) == len(events)
    assert client.ok("GET", "/subscription_types")["data"] == world.ground_truth("subscription_types")
    contact = world.ground_truth("contacts")[0]["id"]
    assert client.get("/events", type="user", intercom_user_id=contact).status_code == 400  # no summary=true


def test_embedded_tags_and_companies_stop_at_10(intercom_sandbox, client):
    world = intercom_sandbox.world
    contacts = world.ground_truth("contacts")
    for field, stream in (("tags", "contact_tags"), ("companies", "contact_companies")):
        links = {}
        for link in world.ground_truth(stream):
            links.setdefault(link["contact_id"], []).append(link["id"])
        truncated = [c for c in contacts if c[field]["has_more"]]
        assert len(truncated) >= 3, field
        for contact in contacts:
            embedded, every = contact[field], links.get(contact["id"], [])
            assert embedded["total_count"] == len(every)
            assert embedded["has_more"] == (len(every) > EMBEDDED_LIMIT)
            assert [item["id"] for item in embedded["data"]] == every[:EMBEDDED_LIMIT]
        for contact in truncated:
            assert 11 <= contact[field]["total_count"] <= 15 and len(contact[field]["data"]) == EMBEDDED_LIMIT
            path, list_key, paged = CONTACT_CHILDREN[stream]
            items, _ = fetch_all(client, path.format(contact["id"]), list_key, paged, per_page=150)
            assert len(items) == contact[field]["total_count"]


def test_company_contacts_agree_with_contacts_companies(intercom_sandbox):
    world = intercom_sandbox.world
    from_contacts = {(link["id"], link["contact_id"]) for link in world.ground_truth("contact_companies")}
    from_companies = {(link["company_id"], link["id"]) for link in world.ground_truth("company_contacts")}
    assert from_contacts == from_companies
    assert len(from_companies) == len(world.ground_truth("company_contacts"))


def test_deleted_parents_answer_404_and_leave_the_ground_truth(sandbox):
    client, world = Client(sandbox), sandbox.world
    contact = next(c for c in world.ground_truth("contacts") if c["companies"]["has_more"])
    company = contact["companies"]["data"][0]["id"]
    other_company = contact["companies"]["data"][1]["id"]
    world.delete("contacts", contact["id"])
    world.delete("companies", company)
    for path, _, _ in CONTACT_CHILDREN.values():
        assert client.get(path.format(contact["id"])).status_code == 404, path
    assert client.get("/events", type="user", intercom_user_id=contact["id"], summary="true").status_code == 404
    for path, _, _ in COMPANY_CHILDREN.values():
        assert client.get(path.format(company)).status_code == 404, path
    for stream in [*CONTACT_CHILDREN, "data_events"]:
        assert contact["id"] not in {r["contact_id"] for r in world.ground_truth(stream)}, stream
    for stream in COMPANY_CHILDREN:
        assert company not in {r["company_id"] for r in world.ground_truth(stream)}, stream
    # the links of surviving parents forget the deleted records too
    assert company not in {r["id"] for r in world.ground_truth("contact_companies")}
    still = client.ok("GET", f"/companies/{other_company}/contacts", per_page=150)["data"]
    assert contact["id"] not in {c["id"] for c in still}
    assert contact["id"] not in {r["id"] for r in world.ground_truth("company_contacts")}


def test_new_contacts_show_up_under_their_company(sandbox):
    client, world = Client(sandbox), sandbox.world
    created = world.create("contacts", {"name": "Brand New"})
    company = created["companies"]["data"][0]["id"]
    listed = client.ok("GET", f"/companies/{company}/contacts", per_page=150)["data"]
    assert created["id"] in {c["id"] for c in listed}
    assert (company, created["id"]) in {(r["company_id"], r["id"]) for r in world.ground_truth("company_contacts")}


def test_people_endpoints_conform_to_the_2_16_schemas(intercom_sandbox, spec_dict):  # noqa: F811
    world = intercom_sandbox.world
    contacts = world.ground_truth("contacts")
    heavy = next(c["id"] for c in contacts if c["tags"]["has_more"])
    many_companies = next(c["id"] for c in contacts if c["companies"]["has_more"])
    plain = contacts[0]["id"]
    with_notes = next(n["contact_id"] for n in world.ground_truth("contact_notes"))
    company = world.ground_truth("company_notes")[0]["company_id"]
    calls = [("GET", "/subscription_types", None, {})]
    for contact in (heavy, many_companies, plain, with_notes):
        calls += [("GET", path.format(contact), None, {"per_page": "5"}) for path, _, _ in CONTACT_CHILDREN.values()]
        calls.append(("GET", "/events", None, {"type": "user", "intercom_user_id": contact, "summary": "true"}))
    calls += [("GET", path.format(company), None, {"per_page": "2"}) for path, _, _ in COMPANY_CHILDREN.values()]
    calls += [("GET", f"/contacts/{many_companies}/companies", None, {"page": "3", "per_page": "5"})]
    assert conformance_violations(intercom_sandbox, spec_dict, calls) == []


def test_contact_search_finds_tags_and_companies_beyond_the_embedded_10(intercom_sandbox, client):
    world = intercom_sandbox.world
    for field, stream, search_field in (("tags", "contact_tags", "tag_id"),
                                        ("companies", "contact_companies", "company_id")):
        contact = next(c for c in world.ground_truth("contacts") if c[field]["has_more"])
        last = [r["id"] for r in world.ground_truth(stream) if r["contact_id"] == contact["id"]][-1]
        assert last not in {item["id"] for item in contact[field]["data"]}
        found, _ = walk_search(client, "/contacts/search", {"field": search_field, "operator": "=", "value": last},
                               "data", 150)
        assert contact["id"] in {c["id"] for c in found}, field
