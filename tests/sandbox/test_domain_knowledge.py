"""Knowledge domain: help centers, collections, articles, internal articles, news and content snippets."""

from __future__ import annotations

import pytest

from .test_conformance import conformance_violations
from .test_domain_workspace import assert_control_api_round_trip, assert_exactly_once, ids, walk_pages

# (path, list key, stream, default per_page, largest per_page)
PAGED = [
    ("/articles", "data", "articles", 25, 150),
    ("/internal_articles", "data", "internal_articles", 25, 150),
    ("/help_center/collections", "data", "help_center_collections", 20, 150),
    ("/news/news_items", "data", "news_items", 10, 150),
    ("/news/newsfeeds", "data", "newsfeeds", 10, 150),
    ("/content_snippets", "data", "content_snippets", 50, 50),
]


@pytest.mark.parametrize(("path", "key", "stream", "default", "largest"), PAGED)
@pytest.mark.parametrize("size", ["default", "largest"])
def test_paged_lists_walk_every_record_once(intercom_sandbox, client, path, key, stream, default, largest, size):
    truth = intercom_sandbox.world.ground_truth(stream)
    per_page = largest if size == "largest" else None
    records, pages = walk_pages(client, path, key, per_page)
    assert_exactly_once(records, truth)
    assert pages == -(-len(truth) // (per_page or default)) and pages >= 3
    assert client.get(path, per_page=largest + 1).status_code == 400


@pytest.mark.parametrize("path", ["/articles", "/help_center/collections"])
def test_articles_and_collections_are_most_recently_updated_first(client, path):
    records, _ = walk_pages(client, path, "data", 150)
    stamps = [r["updated_at"] for r in records]
    assert stamps == sorted(stamps, reverse=True)


def test_content_snippets_have_top_level_pages(client):
    body = client.ok("GET", "/content_snippets", page=2, per_page=50)
    assert (body["page"], body["per_page"], body["total_pages"]) == (2, 50, 3) and "pages" not in body


def test_help_centers_come_in_one_answer(intercom_sandbox, client):
    body = client.ok("GET", "/help_center/help_centers")
    assert body["data"] == intercom_sandbox.world.ground_truth("help_centers") and "pages" not in body


def test_relations_point_at_existing_records(intercom_sandbox):
    truth = intercom_sandbox.world.ground_truth
    help_centers = {int(i) for i in ids(truth("help_centers"))}
    collections = truth("help_center_collections")
    collection_ids = set(ids(collections))
    assert {c["help_center_id"] for c in collections} == help_centers
    parents = [c["parent_id"] for c in collections if c["parent_id"]]
    assert parents and set(parents) <= collection_ids
    articles = truth("articles")
    assert {str(p) for a in articles for p in a["parent_ids"]} <= collection_ids
    admins = {int(a) for a in ids(truth("admins"))}
    assert {a["author_id"] for a in articles} <= admins
    assert {a["owner_id"] for a in truth("internal_articles")} <= admins
    feeds = {int(i) for i in ids(truth("newsfeeds"))}
    assignments = [f["newsfeed_id"] for n in truth("news_items") for f in n["newsfeed_assignments"]]
    assert assignments and set(assignments) <= feeds
    assert {n["sender_id"] for n in truth("news_items")} <= admins


def test_a_page_past_the_end_is_empty(client):
    assert client.ok("GET", "/articles", page=99, per_page=150)["data"] == []
    assert client.ok("GET", "/content_snippets", page=99)["data"] == []


@pytest.mark.parametrize(("path", "key", "stream", "default", "largest"), PAGED)
def test_a_deleted_record_vanishes(intercom_sandbox, client, path, key, stream, default, largest):
    world = intercom_sandbox.world
    gone = world.ground_truth(stream)[3]["id"]
    world.delete(stream, gone)
    assert gone not in ids(world.ground_truth(stream))
    records, _ = walk_pages(client, path, key, largest)
    assert gone not in ids(records) and len(records) == len(world.ground_truth(stream))


def test_an_updated_article_moves_to_the_front(intercom_sandbox, client):
    last = walk_pages(client, "/articles", "data", 150)[0][-1]
    intercom_sandbox.world.update("articles", last["id"], {"title": "Fresh"})
    first = client.ok("GET", "/articles")["data"][0]
    assert (first["id"], first["title"]) == (last["id"], "Fresh")


@pytest.mark.parametrize("kind", ["help_centers", *(stream for _, _, stream, _, _ in PAGED)])
def test_control_api_creates_updates_and_deletes(intercom_sandbox, kind):
    assert_control_api_round_trip(intercom_sandbox.world, kind)


def test_knowledge_endpoints_conform_to_the_2_16_response_schemas(intercom_sandbox, spec_dict):  # noqa: F811
    calls = [("GET", "/help_center/help_centers", None, {})]
    for path, _, _, _, largest in PAGED:
        calls += [("GET", path, None, {}), ("GET", path, None, {"page": "2", "per_page": str(largest)})]
    violations = conformance_violations(intercom_sandbox, spec_dict, calls)
    assert violations == [], "\n".join(violations)
