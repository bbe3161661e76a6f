"""Authentication, versioning, rate limits and error bodies."""

from __future__ import annotations

from intercom_sandbox.controls import FaultRule, RateLimiter

from .conftest import Client


def test_missing_or_wrong_token_is_401_without_rate_limit_headers(intercom_sandbox):
    for token in ("wrong", ""):
        response = Client(intercom_sandbox, token=token or " ").get("/admins")
        assert response.status_code == 401
        body = response.json()
        assert body["type"] == "error.list"
        assert body["errors"][0]["code"] == "unauthorized"
        assert "X-RateLimit-Limit" not in response.headers


def test_unsupported_version_is_400_and_missing_version_uses_the_app_default(intercom_sandbox):
    response = Client(intercom_sandbox, version="2.12").get("/admins")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "intercom_version_invalid"
    assert "2.11, 2.14, 2.15, 2.16" in error["message"]  # the versions that are served
    assert Client(intercom_sandbox, version=None).get("/admins").status_code == 200


def test_conversation_data_attributes_are_gone_in_2_16(client):
    response = client.get("/data_attributes", model="conversation")
    assert response.status_code == 422


def test_unknown_path_and_record_are_404(client):
    assert client.get("/nope").status_code == 404
    response = client.get("/conversations/999")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_rate_limit_headers_on_every_authenticated_answer(make_sandbox):
    sandbox = make_sandbox()
    now = [1_700_000_003.0]  # a controllable clock: 7 seconds left in this 10-second window
    sandbox.limiter = RateLimiter(5, clock=lambda: now[0])
    client = Client(sandbox)
    answers = [client.get("/tags") for _ in range(7)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["4", "3", "2", "1", "0", "0", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"5"}
    assert {a.headers["X-RateLimit-Reset"] for a in answers} == {"1700000010"}
    error = answers[-1].json()["errors"][0]
    assert error["code"] == "rate_limit_exceeded"
    assert error["message"] == "Exceeded rate limit of 5 in 10_seconds"
    now[0] = 1_700_000_010.0  # the next window has a fresh budget
    fresh = client.get("/tags")
    assert fresh.status_code == 200
    assert fresh.headers["X-RateLimit-Remaining"] == "4"
    assert fresh.headers["X-RateLimit-Reset"] == "1700000020"


def test_rate_limit_off_still_sends_headers(client):
    response = client.get("/tags")
    assert int(response.headers["X-RateLimit-Remaining"]) > 0


def test_bad_json_body_is_400(client):
    response = client.session.post(client.sandbox.url + "/contacts/search", data=b"{nope",
                                   headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_a_404_fault_a_fault_for_large_pages_only_and_requests_per_window(make_sandbox):
    sandbox = make_sandbox(rate_limit=1000)
    client = Client(sandbox)
    sandbox.faults.configure(rules=[FaultRule("404", probability=1.0, path="/admins/activity_logs"),
                                    FaultRule("5xx", probability=1.0, path="/conversations/search", min_per_page=150)])
    missing = client.post("/admins/activity_logs/search", {"query": {}})
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "not_found"
    query = {"query": {"field": "updated_at", "operator": ">", "value": 0}}
    assert client.post("/conversations/search", {**query, "pagination": {"per_page": 150}}).status_code >= 500
    assert client.post("/conversations/search", {**query, "pagination": {"per_page": 75}}).status_code == 200
    assert client.get("/admins", per_page=150).status_code == 200  # another path: untouched
    windows = sandbox.stats.snapshot()["by_window"]
    assert sum(windows.values()) == 4 and all(int(start) % 10 == 0 for start in windows)
