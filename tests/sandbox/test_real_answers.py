"""What real Intercom sends beyond the 2.16 description: example and overlay fields on the stored
records, both avatar shapes, custom attribute values typed by their definitions, conversation
attribute names as teammates type them, GET /contacts/{id}/companies listing under `data`."""

from __future__ import annotations

from typing import Any

import pytest

from intercom_sandbox import Sandbox, SandboxConfig
from intercom_sandbox.cli import build_parser
from intercom_sandbox.extras import LIST, parse_dotted
from intercom_sandbox.fake import load_bundled

from .conftest import Client, walk_search
from .test_conformance import EXTRA_FIELDS, RETYPED

# component → the stream whose records are built of it
STREAM_OF = {"contact": "contacts", "company": "companies", "conversation_list_item": "conversations",
             "ticket": "tickets", "activity_log": "activity_logs", "admin": "admins", "article_list_item": "articles",
             "ticket_type": "ticket_types", "ticket_state_detailed": "ticket_states"}
# JSON types of custom attribute values, by the data type of their definition
JSON_TYPES = {"string": str, "list": str, "integer": int, "float": float, "decimal": float, "boolean": bool,
              "date": int, "datetime": int, "files": list}


@pytest.fixture(scope="module")
def default_sandbox():
    """The sandbox `intercom-sandbox` starts with no options (its default seed and scale)."""
    args = build_parser().parse_args([])
    config = SandboxConfig()
    assert (config.seed, config.scale.contacts) == (args.seed, 400) and args.scale == "small"
    sandbox = Sandbox(config).start()
    yield sandbox
    sandbox.stop()


def values_at(record: Any, path: tuple[str, ...]) -> list[tuple[bool, Any]]:
    """(present, value) at every place `path` reaches in `record` (lists fan out); nothing under a null parent."""
    if not path:
        return [(True, record)]
    step, rest = path[0], path[1:]
    if step == LIST:
        return [found for item in record or [] for found in values_at(item, rest)]
    if not isinstance(record, dict):
        return []
    if step not in record:
        return [(False, None)]
    return values_at(record[step], rest) if rest else [(True, record[step])]


def is_of(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def test_every_example_and_overlay_field_is_stored_and_not_always_null(default_sandbox):
    world = default_sandbox.world
    observed = load_bundled("observed-fields.json")
    checked = set()
    fields = [(c, f) for c, names in EXTRA_FIELDS.items() for f in names if c in STREAM_OF]
    fields += [(c, f) for c, entries in observed.items() for f in entries]
    fields += [(c, f) for c, f in RETYPED]
    for component, dotted in fields:
        records = world.ground_truth(STREAM_OF[component])  # what a correct sync must return
        found = [v for record in records for v in values_at(record, parse_dotted(dotted))]
        assert found and all(present for present, _ in found), (component, dotted)
        assert any(value is not None for _, value in found), (component, dotted)
        checked.add((component, dotted))
    assert ("contact", "sms_consent") in checked and ("company", "monthly_spend") in checked
    me = Client(default_sandbox).ok("GET", "/me")
    assert isinstance(me["app"]["secure"], bool) and isinstance(me["email_verified"], bool)


def test_overlay_values_have_the_overlays_types(default_sandbox):
    world = default_sandbox.world
    contacts, conversations = world.ground_truth("contacts"), world.ground_truth("conversations")
    assert all(isinstance(c["sms_consent"], bool) for c in contacts)
    assert {c["location"]["country_code"] for c in contacts} >= {"IRL", "USA"}
    assert len({c["utm_source"] for c in contacts}) > 3  # varied per record, not the example over and over
    spend = [c["monthly_spend"] for c in world.ground_truth("companies")]
    assert all(isinstance(s, float) for s in spend) and any(s != int(s) for s in spend)
    admins = {a["id"] for a in world.ground_truth("admins")}
    for conversation in conversations:
        assert conversation["teammates"]["admins"] == conversation["teammates"]["teammates"]
        assert {a["id"] for a in conversation["teammates"]["admins"]} <= admins
        assignee = conversation["admin_assignee_id"]
        assert conversation["assignee"] == ({"type": "admin", "id": str(assignee)} if assignee else None)
    tickets = {t["id"]: t for t in world.ground_truth("tickets")}
    references = [c["ticket"] for c in conversations if c["ticket"]]
    assert references and all(tickets[r["id"]]["ticket_id"] == r["ticket_id"] for r in references)
    opted = [c["opted_in_subscription_types"] for c in contacts]
    assert any(o["data"] for o in opted) and all(o["total_count"] == len(o["data"]) for o in opted)
    notes: dict[str, set] = {}
    for note in world.ground_truth("contact_notes"):  # what GET /contacts/{id}/notes lists
        notes.setdefault(note["contact_id"], set()).add(note["id"])
    assert all({n["id"] for n in c["notes"]["data"]} == notes.get(c["id"], set()) for c in contacts)


def test_admin_avatars_come_in_both_shapes_at_the_default_seed(default_sandbox):
    admins = Client(default_sandbox).ok("GET", "/admins")["admins"]
    assert admins == default_sandbox.world.ground_truth("admins")
    objects = [a["avatar"] for a in admins if isinstance(a["avatar"], dict)]
    strings = [a["avatar"] for a in admins if isinstance(a["avatar"], str)]
    assert objects and strings and len(objects) + len(strings) == len(admins)
    assert all(o["type"] == "avatar" and o["image_url"].startswith("https://") for o in objects)
    assert all(s.startswith("https://") for s in strings)


def test_custom_attribute_values_have_their_definitions_types(default_sandbox):
    client, world = Client(default_sandbox), default_sandbox.world
    for model, stream in (("contact", "contacts"), ("company", "companies")):
        definitions = {a["name"]: a["data_type"] for a in client.ok("GET", "/data_attributes", model=model)["data"]
                       if a["custom"]}
        assert set(definitions.values()) == {"string", "integer", "float", "boolean", "date"}
        values: dict[str, list] = {name: [] for name in definitions}
        for record in world.ground_truth(stream):
            for name, value in record["custom_attributes"].items():
                assert name in definitions, (model, name)
                values[name].append(value)
        for name, data_type in definitions.items():
            present = [v for v in values[name] if v is not None]
            assert present and all(is_of(v, JSON_TYPES[data_type]) for v in present), (model, name, data_type)
            if data_type == "float":
                assert any(v != int(v) for v in present)
    company = world.ground_truth("companies")[0]["custom_attributes"]
    assert not all(isinstance(v, str) for v in company.values())  # no longer all strings


def test_conversation_attributes_named_as_teammates_name_them(default_sandbox):
    client, world = Client(default_sandbox), default_sandbox.world
    definitions = {a["name"]: a["data_type"] for a in client.ok("GET", "/conversations/attributes")["data"]}
    assert {"Issue Type": "string", "Order No.": "integer", "Refund.Amount": "decimal", "Is VIP": "boolean",
            "Promised By": "datetime"}.items() <= definitions.items()
    assert {"topic", "order_number", "priority_reason"} <= set(definitions)
    for conversation in world.ground_truth("conversations"):
        attributes = conversation["custom_attributes"]
        assert set(attributes) <= set(definitions)  # an unset attribute is left out
        for name, value in attributes.items():
            assert is_of(value, JSON_TYPES[definitions[name]]), (name, value)
    amounts = [c["custom_attributes"].get("Refund.Amount") for c in world.ground_truth("conversations")]
    assert any(a is not None and a != int(a) for a in amounts)
    # a name with a dot is one attribute to search by, not a path
    query = {"field": "custom_attributes.Refund.Amount", "operator": ">", "value": 5000}
    found, _ = walk_search(client, "/conversations/search", query, "conversations", 150)
    expected = {c["id"] for c in world.ground_truth("conversations")
                if c["custom_attributes"].get("Refund.Amount", 0) > 5000}
    assert {c["id"] for c in found} == expected and expected
    vip = {"field": "custom_attributes.Is VIP", "operator": "=", "value": True}
    found, _ = walk_search(client, "/conversations/search", vip, "conversations", 150)
    assert {c["id"] for c in found} == {c["id"] for c in world.ground_truth("conversations")
                                        if c["custom_attributes"].get("Is VIP") is True}


def test_ticket_attributes_have_their_ticket_types_attribute_types(default_sandbox):
    client, world = Client(default_sandbox), default_sandbox.world
    types = {t["id"]: t for t in client.ok("GET", "/ticket_types")["data"]}
    states = {s["id"] for s in client.ok("GET", "/ticket_states")["data"]}
    seen_types = set()
    for ticket in world.ground_truth("tickets"):
        ticket_type = types[ticket["ticket_type"]["id"]]  # a type GET /ticket_types lists
        assert ticket["ticket_state"]["id"] in states
        definitions = {a["name"]: a["data_type"] for a in ticket_type["ticket_type_attributes"]["data"]}
        assert set(ticket["ticket_attributes"]) == set(definitions)
        for name, value in ticket["ticket_attributes"].items():
            if value is not None:
                assert is_of(value, JSON_TYPES[definitions[name]]), (name, definitions[name], value)
                seen_types.add(definitions[name])
    assert {"string", "list", "integer", "decimal", "boolean", "datetime"} <= seen_types


def test_contact_companies_list_under_data_and_page(default_sandbox):
    client, world = Client(default_sandbox), default_sandbox.world
    i = next(iter(world.many_companies))  # a contact with more companies than it embeds
    contact = world.tables["contacts"].ids[i]
    expected = [c["id"] for c in world.ground_truth("contact_companies") if c["contact_id"] == contact]
    assert len(expected) > 10
    found, page = [], 1
    while True:
        answer = client.ok("GET", f"/contacts/{contact}/companies", page=page, per_page=5)
        assert "companies" not in answer and answer["type"] == "list"
        found += [c["id"] for c in answer["data"]]
        if not answer["pages"]["next"]:
            break
        page += 1
    assert found == expected and page == -(-len(expected) // 5)
