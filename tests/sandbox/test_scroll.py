"""The companies scroll rules: one scroll per app, expiry, restart after a 500, empty last page."""

from __future__ import annotations

import time

from intercom_sandbox import FaultRule


def test_second_scroll_while_one_is_open_is_scroll_exists(client):
    first = client.ok("GET", "/companies/scroll")
    assert first["data"] and first["scroll_param"]
    again = client.get("/companies/scroll")
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "scroll_exists"


def test_scroll_expires_after_idle_time(make_sandbox):
    from .conftest import Client

    sandbox = make_sandbox(scroll_expiry=0.3)
    client = Client(sandbox)
    param = client.ok("GET", "/companies/scroll")["scroll_param"]
    time.sleep(0.4)
    assert client.get("/companies/scroll", scroll_param=param).status_code == 404
    assert client.get("/companies/scroll").status_code == 200  # a new scroll may start


def test_finished_scroll_ends_on_an_empty_page_and_closes(intercom_sandbox, client):
    params, pages = {}, 0
    while True:
        page = client.ok("GET", "/companies/scroll", **params)
        pages += 1
        if not page["data"]:
            break
        params = {"scroll_param": page["scroll_param"]}
    assert pages == -(-len(intercom_sandbox.world.ground_truth("companies")) // 50) + 1
    assert client.get("/companies/scroll", **params).status_code == 404  # the parameter expired
    assert client.get("/companies/scroll").status_code == 200  # and a new scroll may start


def test_mid_scroll_500_can_only_be_answered_by_restarting(intercom_sandbox, client):
    first = client.ok("GET", "/companies/scroll")
    intercom_sandbox.faults.configure(rules=[FaultRule("5xx", count=1, path="/companies/scroll")])
    failed = client.get("/companies/scroll", scroll_param=first["scroll_param"])
    assert failed.status_code == 500
    assert "restart the scroll" in failed.json()["errors"][0]["message"]
    assert client.get("/companies/scroll", scroll_param=first["scroll_param"]).status_code == 404
    restarted = client.ok("GET", "/companies/scroll")
    assert restarted["scroll_param"] != first["scroll_param"]
    assert [c["id"] for c in restarted["data"]] == [c["id"] for c in first["data"]]


def test_unknown_scroll_param_is_404(client):
    assert client.get("/companies/scroll", scroll_param="nope").status_code == 404
