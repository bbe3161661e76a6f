"""Tickets: POST /tickets/search and GET /tickets/{id}, with their parts.

Ticket parts work like conversation parts (world.py): a deterministic count per ticket,
spread from the ticket's created_at to its updated_at, plus parts added later through the
`ticket_add_parts` control. A search result embeds the 25 most recent parts, GET
/tickets/{id} the 500 most recent; `total_count` always counts them all.

A ticket's type and state are the workspace's (GET /ticket_types, GET /ticket_states:
domains/workspace.py), and its `ticket_attributes` hold a value for each attribute of its type,
of the JSON type the attribute's `data_type` says.
"""

from __future__ import annotations

import random
from array import array
from typing import Any

from ..api import not_found
from ..jsonio import encode
from ..versions import DEFAULT_VERSION, shaped
from ..world import PART_CAP, PHRASES, SUBJECTS, custom_value
from . import Domain
from .workspace import TICKET_TYPES, WorkspaceDomain

SEARCH_PART_CAP = 25  # parts a ticket embeds in search results
PART_ID_STRIDE = 100_000  # part ids are 3_000_000_000 + ticket index * stride + part index

SEVERITIES = ["Low", "Medium", "High", "Critical"]  # the options of `list` attributes
STATE_SUMMARY = ("type", "id", "category", "internal_label", "external_label")  # a ticket's `ticket_state`
TICKET_PART_TYPES = ["comment", "comment", "note", "assignment", "ticket_state_updated_by_admin",
                     "ticket_attribute_updated_by_admin"]


class TicketsDomain(Domain):
    def __init__(self, world) -> None:
        super().__init__(world)
        s = world.scale
        created, updated = world._timestamps("tickets", s.tickets)
        self.table = world.add_table("tickets", [self.ticket_id(i) for i in range(s.tickets)], created, updated,
                                     render=self._render, id_maker=self.ticket_id)
        rng = random.Random(f"{world.seed}:ticket relations")
        contacts = max(1, s.contacts)
        self.ticket_contact = array("i", (rng.randrange(contacts) for _ in range(s.tickets)))
        avg = max(1, s.parts_per_conversation)
        self.part_counts = array("i", (rng.randint(1, 2 * avg - 1) for _ in range(s.tickets)))
        # Long tickets: more parts than a search result embeds, and the first more than GET returns.
        for k, t in enumerate(rng.sample(range(s.tickets), min(s.tickets, max(3, s.tickets // 20)))):
            over_cap = k == 0 and s.long_conversations  # the scale's "threads over the 500-part cap"
            self.part_counts[t] = PART_CAP + 20 if over_cap else SEARCH_PART_CAP + 1 + (k * 37) % 200
        # Seeded parts end at the ticket's seeded updated_at: touching a ticket later doesn't move them.
        self.parts_end = array("q", updated)
        self.added_parts: dict[int, list[int]] = {}  # ticket → created_at of parts added later

    @staticmethod
    def ticket_id(i: int) -> str:
        return str(700_000 + i)

    # Records ----------------------------------------------------------------------------------

    @property
    def workspace(self) -> WorkspaceDomain:
        return next(d for d in self.world.domains if isinstance(d, WorkspaceDomain))

    def _render(self, t: int) -> dict:
        world, table, workspace = self.world, self.table, self.workspace
        rng = world.rng("ticket", t)
        ticket_type = workspace.ticket_type(t % len(TICKET_TYPES))  # of the seeded types: new ones change nothing
        states = ticket_type["ticket_states"]["data"]
        state = {key: states[rng.randrange(len(states))][key] for key in STATE_SUMMARY} if states else None
        contact = self.ticket_contact[t]
        contacts = [{"type": "contact", "id": self._contact_id(t), "external_id": f"user-{contact}"}]
        admins, teams = len(world.tables["admins"]), len(world.tables["teams"])
        subject = rng.choice(SUBJECTS)
        attributes = {a["name"]: self._attribute_value(a, rng, subject)
                      for a in ticket_type["ticket_type_attributes"]["data"]}
        return world.build("ticket", rng, {
            "type": "ticket", "id": table.ids[t], "ticket_id": str(t + 1), "category": ticket_type["category"],
            "created_at": table.created_at[t], "updated_at": table.updated_at[t],
            "ticket_type": ticket_type, "ticket_state": state, "open": not state or state["category"] != "resolved",
            # 2.11 gave the state's labels beside it; real answers on 2.11 carry them (observed-fields.yaml)
            "ticket_state_internal_label": state and state["internal_label"],
            "ticket_state_external_label": state and state["external_label"],
            "admin_assignee_id": int(world.tables["admins"].ids[t % admins]) if admins and t % 4 else 0,
            "team_assignee_id": int(world.tables["teams"].ids[t % teams]) if teams and t % 3 else 0,
            "contacts": {"type": "contact.list", "contacts": contacts},
            "ticket_attributes": attributes,
            "ticket_parts": self.parts_list(t, SEARCH_PART_CAP),
        })

    def _attribute_value(self, attribute: dict, rng: random.Random, subject: str) -> Any:
        """A value of the JSON type the attribute's data type says (null for some unset custom ones)."""
        name, data_type = attribute["name"], attribute["data_type"]
        if name == "_default_title_":
            return subject
        if name == "_default_description_":
            return rng.choice(PHRASES)
        if rng.random() < 0.1:
            return None
        if data_type == "list":
            return rng.choice(SEVERITIES)
        if data_type == "string":
            return rng.choice(PHRASES)
        if data_type == "files":
            return [self.world.build("file_attribute", rng, {"type": "upload", "content_type": "image/png"})
                    for _ in range(rng.randint(0, 2))]
        return custom_value(rng, data_type)

    def _contact_id(self, t: int) -> str:
        contacts = self.world.tables["contacts"]
        c = self.ticket_contact[t]
        return contacts.ids[c] if c < len(contacts) else "0"  # a workspace without contacts

    def detail(self, t: int) -> dict:
        """GET /tickets/{id}: the ticket with its 500 most recent parts."""
        return dict(self.table.record(t), ticket_parts=self.parts_list(t, PART_CAP))

    # Parts ------------------------------------------------------------------------------------

    def part_count(self, t: int) -> int:
        return self.part_counts[t] + len(self.added_parts.get(t, ()))

    def part_created_at(self, t: int, j: int) -> int:
        seeded = self.part_counts[t]
        if j >= seeded:
            return self.added_parts[t][j - seeded]
        start = self.table.created_at[t]
        end = max(start, min(self.parts_end[t], self.table.updated_at[t]))
        return start if seeded == 1 else start + (end - start) * j // (seeded - 1)

    def render_part(self, t: int, j: int) -> dict:
        world = self.world
        rng = world.rng("ticket_part", t * PART_ID_STRIDE + j)
        created = self.part_created_at(t, j)
        admins = world.tables["admins"]
        if j % 2 and len(admins):
            admin = admins.record((t + j) % len(admins))
            author = {"type": "admin", "id": admin["id"], "name": admin["name"], "email": admin["email"]}
        else:
            author = {"type": "user", "id": self._contact_id(t), "name": "Customer",
                      "email": f"user-{self.ticket_contact[t]}@example.com"}
        return world.build("ticket_part", rng, {
            "type": "ticket_part", "id": str(3_000_000_000 + t * PART_ID_STRIDE + j),
            "part_type": TICKET_PART_TYPES[j % len(TICKET_PART_TYPES)], "body": f"<p>{rng.choice(PHRASES)}</p>",
            "created_at": created, "updated_at": created, "author": author,
        })

    def parts_list(self, t: int, cap: int) -> dict:
        """The `ticket_parts` object holding the `cap` most recent parts, oldest first."""
        total = self.part_count(t)
        return {"type": "ticket_part.list", "total_count": total,
                "ticket_parts": [self.render_part(t, j) for j in range(max(0, total - cap), total)]}

    def add_parts(self, ticket_id: str, count: int = 1, *, at: int | None = None) -> dict:
        """New parts on a (possibly old) ticket: its updated_at moves to the newest part."""
        with self.world.lock:
            t = self.table.find(ticket_id)
            if t is None:
                raise ValueError(f"no live tickets record with id {ticket_id!r}")
            now = self.world.clock.now() if at is None else at
            self.added_parts.setdefault(t, []).extend([now] * int(count))
            self.table.update(t, now)
            return self.table.record(t)

    # Domain hooks -------------------------------------------------------------------------------

    def on_create(self, kind: str, i: int) -> None:
        if kind == "tickets":
            self.ticket_contact.append(i % max(1, len(self.world.tables["contacts"])))
            self.part_counts.append(1)
            self.parts_end.append(self.table.updated_at[i])

    def control(self, action: str, payload: dict[str, Any]) -> Any:
        if action != "ticket_add_parts":
            raise KeyError(action)
        if "ticket_id" not in payload:
            raise ValueError("ticket_add_parts needs a ticket_id")  # not a KeyError: that means "not ours"
        return self.add_parts(payload["ticket_id"], payload.get("count", 1), at=payload.get("at"))

    def ground_truth(self, stream: str) -> list[dict] | None:
        if stream == "tickets":  # in 2.16's shapes: world.ground_truth gives them as a version answers
            return [self.table.record(t) for t in self.table.live()]
        if stream == "ticket_parts":  # only what GET /tickets/{id} can return: the 500 most recent
            return [dict(part, ticket_id=self.table.ids[t])
                    for t in self.table.live() for part in self.parts_list(t, PART_CAP)["ticket_parts"]]
        return None

    def routes(self, api) -> list:
        api.search_models["tickets"] = api._search_model("ticket", "ticket", 20)

        def search(request):
            def as_asked(t: int) -> bytes:  # 2.11's tickets differ from the cached 2.16 ones
                return encode(shaped("tickets", self.table.record(t), request.version))
            return api._search(request, "tickets", "tickets", "ticket.list",
                               None if request.version == DEFAULT_VERSION else as_asked)

        def ticket(request, ticket_id: str):
            t = self.table.find(ticket_id)
            if t is None:
                raise not_found("Ticket Not Found")
            return api._json(shaped("tickets", self.detail(t), request.version))

        return [("POST", r"/tickets/search", search), ("GET", r"/tickets/(?P<ticket_id>[^/]+)", ticket)]
