"""The drift control: a property no description declares appears on the later records of a kind."""

from __future__ import annotations

import requests

from intercom_sandbox.world import DRIFT_FIELD

from .conftest import Client, walk_search

EVERYTHING = {"field": "updated_at", "operator": ">", "value": 0}
ASCENDING = {"field": "updated_at", "order": "ascending"}


def test_drift_reaches_the_later_half_by_updated_at_and_the_ground_truth(intercom_sandbox):
    world = intercom_sandbox.world
    kinds = ("contacts", "conversations")
    before = {kind: {r["id"]: r["updated_at"] for r in world.ground_truth(kind)} for kind in kinds}
    drifted = intercom_sandbox.drift()  # contacts and conversations, x_drift_score, the later half
    assert set(drifted) == {"contacts", "conversations"}
    for kind, ids in drifted.items():
        truth = world.ground_truth(kind)
        assert {r["id"]: r["updated_at"] for r in truth} == before[kind]  # nothing moved
        in_order = sorted(truth, key=lambda r: (r["updated_at"], world.tables[kind].index[r["id"]]))
        half = len(in_order) - round(len(in_order) / 2)
        assert all(DRIFT_FIELD not in r for r in in_order[:half])
        assert all(isinstance(r[DRIFT_FIELD], float) for r in in_order[half:])
        assert {r["id"] for r in in_order[half:]} == set(ids)
    # a sync in updated_at order meets the new property halfway through
    client = Client(intercom_sandbox)
    served, _ = walk_search(client, "/contacts/search", EVERYTHING, "data", 50, ASCENDING)
    with_field = [DRIFT_FIELD in r for r in served]
    assert with_field == sorted(with_field) and 0 < sum(with_field) < len(with_field)
    conversation = drifted["conversations"][0]
    assert DRIFT_FIELD in client.ok("GET", f"/conversations/{conversation}")


def test_drift_over_the_control_api_with_its_own_field_and_share(intercom_sandbox):
    url = f"{intercom_sandbox.url}/_sandbox/drift"
    answer = requests.post(url, json={"kinds": ["companies"], "field": "x_new_metric", "share": 0.25}, timeout=30)
    assert answer.status_code == 200
    ids = answer.json()["companies"]
    truth = intercom_sandbox.world.ground_truth("companies")
    assert len(ids) == round(len(truth) / 4)
    assert {r["id"] for r in truth if "x_new_metric" in r} == set(ids)
    assert "x_new_metric" not in intercom_sandbox.world.ground_truth("contacts")[0]
    assert requests.post(url, json={"kinds": ["contacts"], "share": 0}, timeout=30).status_code == 400
    assert requests.post(url, json={"kinds": ["nope"]}, timeout=30).status_code == 400
