"""Every fault mode, on demand."""

from __future__ import annotations

import pytest
import requests

from intercom_sandbox import FaultRule

from .conftest import Client


def test_latency_with_jitter(intercom_sandbox, client):
    intercom_sandbox.faults.configure(latency_ms=80, jitter_ms=20)
    elapsed = [client.get("/tags").elapsed.total_seconds() for _ in range(5)]
    assert min(elapsed) >= 0.055
    assert len({round(e, 3) for e in elapsed}) > 1  # jitter makes them differ


def test_share_of_5xx(intercom_sandbox, client):
    intercom_sandbox.faults.configure(rules=[FaultRule("5xx", probability=0.5)])
    statuses = [client.get("/tags").status_code for _ in range(60)]
    failures = [s for s in statuses if s >= 500]
    assert 10 < len(failures) < 50
    assert set(failures) <= {500, 502, 503}
    assert set(statuses) - set(failures) == {200}


def test_429_storm_then_recovery(intercom_sandbox, client):
    intercom_sandbox.faults.configure(rules=[FaultRule("429", count=4)])
    answers = [client.get("/tags") for _ in range(6)]
    assert [a.status_code for a in answers] == [429] * 4 + [200] * 2
    assert answers[0].headers["X-RateLimit-Remaining"] == "0"
    assert answers[0].json()["errors"][0]["code"] == "rate_limit_exceeded"


def test_slow_answer_exceeds_the_client_timeout(intercom_sandbox, client):
    intercom_sandbox.faults.configure(slow_ms=1500, rules=[FaultRule("slow", count=1)])
    with pytest.raises(requests.Timeout):
        client.session.get(intercom_sandbox.url + "/tags", timeout=0.5)
    assert client.get("/tags").status_code == 200


def test_malformed_json_with_status_200(intercom_sandbox, client):
    intercom_sandbox.faults.configure(rules=[FaultRule("malformed", count=1, path="/admins")])
    response = client.get("/admins")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    assert client.get("/admins").json()["admins"]


def test_dropped_connection(intercom_sandbox):
    intercom_sandbox.faults.configure(rules=[FaultRule("drop", count=1)])
    client = Client(intercom_sandbox)
    with pytest.raises(requests.ConnectionError):
        client.get("/tags")
    assert client.get("/tags").status_code == 200


def test_conversation_deleted_between_search_and_fetch(intercom_sandbox, client):
    intercom_sandbox.faults.configure(rules=[FaultRule("vanish", count=1, path="/conversations/search")])
    page = client.ok("POST", "/conversations/search", {"query": {"field": "updated_at", "operator": ">", "value": 0},
                                                        "pagination": {"per_page": 5}})
    statuses = [client.get(f"/conversations/{c['id']}").status_code for c in page["conversations"]]
    assert statuses == [404, 200, 200, 200, 200]
    gone = page["conversations"][0]["id"]
    assert gone not in {c["id"] for c in intercom_sandbox.world.ground_truth("conversations")}


def test_faults_limited_to_a_path(intercom_sandbox, client):
    intercom_sandbox.faults.configure(rules=[FaultRule("5xx", probability=1.0, path="/teams")])
    assert client.get("/teams").status_code >= 500
    assert client.get("/tags").status_code == 200


def test_fault_rules_parse_from_the_command_line_form():
    assert FaultRule.parse("5xx:0.05") == FaultRule("5xx", probability=0.05)
    assert FaultRule.parse("429:x20@/contacts") == FaultRule("429", count=20, path="/contacts")
    with pytest.raises(ValueError):
        FaultRule.parse("explode:1")
