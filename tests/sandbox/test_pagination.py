"""Walking each endpoint's pagination returns every record exactly once."""

from __future__ import annotations

from collections import Counter

import pytest

from .conftest import walk_search

EVERYTHING = {"field": "updated_at", "operator": ">", "value": 0}


def ids(records):
    return [r["id"] for r in records]


def assert_exactly_once(records, truth):
    counts = Counter(ids(records))
    assert [i for i, n in counts.items() if n > 1] == []
    assert set(counts) == {r["id"] for r in truth}


@pytest.mark.parametrize("per_page", [1, 7, 150])
def test_contacts_search_walks_every_contact_once(intercom_sandbox, client, per_page):
    truth = intercom_sandbox.world.ground_truth("contacts")
    records, pages = walk_search(client, "/contacts/search", EVERYTHING, "data", per_page,
                                 {"field": "updated_at", "order": "ascending"})
    assert_exactly_once(records, truth)
    assert pages == -(-len(truth) // per_page)
    stamps = [r["updated_at"] for r in records]
    assert stamps == sorted(stamps)


def test_contacts_search_descending_default_order(intercom_sandbox, client):
    truth = intercom_sandbox.world.ground_truth("contacts")
    records, _ = walk_search(client, "/contacts/search", EVERYTHING, "data", 50, {"field": "created_at"})
    assert_exactly_once(records, truth)
    stamps = [r["created_at"] for r in records]
    assert stamps == sorted(stamps, reverse=True)


def test_conversations_search_walks_every_conversation_once(intercom_sandbox, client):
    truth = intercom_sandbox.world.ground_truth("conversations")
    records, _ = walk_search(client, "/conversations/search", EVERYTHING, "conversations", 13,
                             {"field": "updated_at", "order": "ascending"})
    assert_exactly_once(records, truth)
    assert all("conversation_parts" not in r for r in records)


def test_many_records_share_one_updated_at_second(intercom_sandbox):
    stamps = Counter(r["updated_at"] for r in intercom_sandbox.world.ground_truth("contacts"))
    assert max(stamps.values()) >= 10  # enough to straddle a page boundary of a small page


def test_timestamps_span_several_years(intercom_sandbox):
    created = [r["created_at"] for r in intercom_sandbox.world.ground_truth("contacts")]
    assert max(created) - min(created) > 3 * 365 * 86_400


@pytest.mark.parametrize(("path", "key"), [("/contacts", "data"), ("/conversations", "conversations")])
def test_list_cursor_walks_every_record_once(intercom_sandbox, client, path, key):
    truth = intercom_sandbox.world.ground_truth(path.strip("/"))
    records, params = [], {"per_page": 33}
    while True:
        page = client.ok("GET", path, **params)
        records.extend(page[key])
        nxt = page["pages"].get("next")
        if not nxt:
            break
        params = {"per_page": 33, "starting_after": nxt["starting_after"]}
    assert_exactly_once(records, truth)
    assert page["total_count"] == len(truth)


def test_companies_scroll_walks_every_company_once(intercom_sandbox, client):
    truth = intercom_sandbox.world.ground_truth("companies")
    records, params = [], {}
    while True:
        page = client.ok("GET", "/companies/scroll", **params)
        if not page["data"]:
            break
        records.extend(page["data"])
        params = {"scroll_param": page["scroll_param"]}
    assert_exactly_once(records, truth)


@pytest.mark.parametrize(("path", "key", "stream"), [
    ("/admins", "admins", "admins"), ("/teams", "teams", "teams"), ("/tags", "data", "tags"),
    ("/segments", "segments", "segments"), ("/conversations/attributes", "data", "conversation_attributes"),
])
def test_unpaginated_lists_return_everything(intercom_sandbox, client, path, key, stream):
    truth = intercom_sandbox.world.ground_truth(stream)
    assert len(truth) > 1
    assert_exactly_once(client.ok("GET", path)[key], truth)


@pytest.mark.parametrize("model", ["contact", "company"])
def test_data_attributes_per_model(intercom_sandbox, client, model):
    page = client.ok("GET", "/data_attributes", model=model)
    assert_exactly_once(page["data"], intercom_sandbox.world.ground_truth(f"{model}_attributes"))
    assert {a["model"] for a in page["data"]} == {model}


def test_company_segments_match_the_company(intercom_sandbox, client):
    truth = intercom_sandbox.world.ground_truth("company_segments")
    by_company = Counter(r["company_id"] for r in truth)
    company_id, count = by_company.most_common(1)[0]
    assert len(client.ok("GET", f"/companies/{company_id}/segments")["data"]) == count
