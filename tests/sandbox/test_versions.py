"""API versions 2.11, 2.14, 2.15 and 2.16: each answers only its own description's paths, 2.11 gives
a ticket's state as a string, the ground truth per version, and the bundle kept in step with openapi/."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import requests

from intercom_sandbox.fake import load_bundled
from intercom_sandbox.versions import PARAMETER, VERSIONS, serves

from .conftest import Client, load_description, walk_search

ROOT = Path(__file__).resolve().parents[2]
EVERYTHING = {"field": "updated_at", "operator": ">", "value": 0}
# path → the first version that has it (the descriptions' path tables)
INTRODUCED = {"/brands": "2.15", "/emails": "2.15", "/companies/{}/notes": "2.15",
              "/office_hours_schedules": "2.16", "/conversations/deleted": "2.16", "/content_snippets": "2.16",
              "/conversations/attributes": "2.16", "/macros": "2.16", "/ticket_states": "2.14", "/calls": "2.14"}


def test_served_versions_are_the_bundled_descriptions():
    assert set(load_bundled("versions.json")) == set(VERSIONS) == {"2.11", "2.14", "2.15", "2.16"}


@pytest.mark.parametrize("version", VERSIONS)
def test_a_path_the_version_lacks_is_intercoms_404(intercom_sandbox, version):
    client = Client(intercom_sandbox, version=version)
    company = intercom_sandbox.world.ground_truth("companies")[0]["id"]
    for template, first in INTRODUCED.items():
        response = client.get(template.format(company))
        if VERSIONS.index(version) >= VERSIONS.index(first):
            assert response.status_code == 200, (version, template, response.text[:200])
            continue
        assert response.status_code == 404, (version, template)
        body = response.json()
        assert body["type"] == "error.list" and body["request_id"]
        assert body["errors"][0]["code"] == "not_found"
        assert version in body["errors"][0]["message"]
    assert client.get("/contacts").status_code == 200  # in every version


def test_path_tables_follow_each_description(intercom_sandbox):
    """Every sandbox route exists in 2.16; an older version serves it exactly when its own description has it."""
    descriptions = {v: load_description(v)["paths"] for v in VERSIONS}
    for method, pattern, _ in intercom_sandbox.api.routes:
        assert serves("2.16", method, pattern.pattern), pattern.pattern
        for version, paths in descriptions.items():
            route = PARAMETER.sub("{}", pattern.pattern)
            has = any(method.lower() in item and PARAMETER.sub("{}", path) == route for path, item in paths.items())
            assert serves(version, method, pattern.pattern) == has, (version, method, pattern.pattern)


def test_2_11_gives_a_tickets_state_as_a_string(intercom_sandbox):
    world = intercom_sandbox.world
    for version in VERSIONS:
        client = Client(intercom_sandbox, version=version)
        tickets, _ = walk_search(client, "/tickets/search", EVERYTHING, "tickets", 50)
        detail = client.ok("GET", f"/tickets/{tickets[0]['id']}")
        truth = world.ground_truth("tickets", api_version=version)
        assert sorted(tickets, key=lambda t: t["id"]) == sorted(truth, key=lambda t: t["id"])
        for ticket in (*tickets, detail):
            state, labels = ticket["ticket_state"], (ticket["ticket_state_internal_label"],
                                                     ticket["ticket_state_external_label"])
            if version == "2.11":  # its description: a string, the state's category
                assert state in ("submitted", "in_progress", "waiting_on_customer", "resolved")
            else:
                assert state["type"] == "ticket_state" and (state["internal_label"], state["external_label"]) == labels
            assert all(isinstance(label, str) for label in labels)
    as_2_11 = {t["id"]: t for t in world.ground_truth("tickets", api_version="2.11")}
    for ticket in world.ground_truth("tickets"):  # the same tickets, but for the state's shape
        assert as_2_11[ticket["id"]] == dict(ticket, ticket_state=ticket["ticket_state"]["category"])


@pytest.mark.parametrize("version", VERSIONS)
def test_conversation_attributes_where_each_version_lists_them(intercom_sandbox, version):
    """Before 2.16 /data_attributes takes model=conversation (its enum says so); 2.16 moved the
    list to /conversations/attributes and answers the old question with a 422."""
    client = Client(intercom_sandbox, version=version)
    attributes = intercom_sandbox.world.conversation_attributes
    old = client.get("/data_attributes", model="conversation", include_archived="true")
    if version == "2.16":
        assert old.status_code == 422
        assert [a["name"] for a in client.ok("GET", "/conversations/attributes")["data"]] == \
            [a["name"] for a in attributes]
        return
    assert old.status_code == 200, old.text[:200]
    listed = old.json()["data"]
    assert [a["name"] for a in listed] == [a["name"] for a in attributes]
    assert {a["model"] for a in listed} == {"conversation"}
    # that endpoint's own type names: decimal → float, datetime → date, list → string
    assert {a["data_type"] for a in listed} <= {"string", "integer", "float", "boolean", "date"}
    assert {a["name"]: a["data_type"] for a in listed}["Refund.Amount"] == "float"


def test_ground_truth_per_version_over_the_control_api(intercom_sandbox):
    url = f"{intercom_sandbox.url}/_sandbox/ground_truth/tickets"
    old = requests.get(url, params={"api_version": "2.11"}, timeout=30).json()
    assert old == intercom_sandbox.world.ground_truth("tickets", api_version="2.11")
    assert requests.get(url, timeout=30).json() == intercom_sandbox.world.ground_truth("tickets")
    assert isinstance(old[0]["ticket_state"], str)
    assert requests.get(url, params={"api_version": "2.12"}, timeout=30).status_code == 400
    with pytest.raises(ValueError, match="2.11, 2.14, 2.15, 2.16"):
        intercom_sandbox.world.ground_truth("tickets", api_version="2.9")


def test_the_bundled_files_are_in_step_with_openapi():
    """scripts/bundle_openapi.py, run on the repo's openapi/, gives exactly the files the sandbox ships."""
    spec = importlib.util.spec_from_file_location("bundle_openapi", ROOT / "scripts" / "bundle_openapi.py")
    bundler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bundler)
    files = bundler.bundle()
    assert set(files) == {"api-2.16.json", "versions.json", "examples.json", "observed-fields.json"}
    for name, text in files.items():
        shipped = ROOT / "intercom_sandbox" / "openapi" / name
        assert shipped.read_text(encoding="utf-8") == text, f"{name} is stale: run scripts/bundle_openapi.py"
    assert bundler.main(["--check"]) == 0
