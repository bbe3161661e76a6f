"""What hangs off contacts and companies: their tags, companies, segments, subscriptions,
notes, contacts and event summaries, plus the workspace's subscription types.

Links come from the world (`contact_tag_indexes`, `contact_company_indexes`) or from a
per-parent seed, so every endpoint and the ground truth agree without storing them. A
deleted parent's endpoints answer 404; deleted linked records are left out of the lists.
"""

from __future__ import annotations

import datetime

from ..api import ApiError, Reply, envelope, not_found
from ..jsonio import encode
from ..world import PHRASES, SEED_END, SEED_START
from . import Domain

LIST_DEFAULT, LIST_MAX = 50, 150  # per_page of the paged child lists
MAX_NOTES = 4  # per contact or company
NOTE_ID_BASE = {"contact": 20_000_000, "company": 60_000_000}  # + parent index * 8 + note number

# (name, consent type, content types) of the workspace's subscription types
SUBSCRIPTION_TYPES = [("Newsletter", "opt_out", ["email"]), ("Product updates", "opt_out", ["email"]),
                      ("Billing notices", "opt_in", ["email"]), ("Beta programme", "opt_in", ["email"]),
                      ("Événements", "opt_out", ["email"]), ("SMS alerts", "opt_in", ["sms_message"])]
EVENT_NAMES = [("placed-order", "A user placed an order"), ("invited-teammate", "Invited a teammate"),
               ("exported-report", "Exported a report"), ("upgraded-plan", "Upgraded their plan"),
               ("viewed-pricing", "Viewed the pricing page"), ("connected-integration", "Connected an integration")]


class PeopleDomain(Domain):
    def __init__(self, world) -> None:
        super().__init__(world)
        n = len(SUBSCRIPTION_TYPES)
        created = [SEED_START + k * 86_400 * 40 for k in range(n)]
        self.subscription_types = world.add_table(
            "subscription_types", [self.subscription_type_id(k) for k in range(n)], created, created,
            render=self._render_subscription_type, id_maker=self.subscription_type_id)
        self._company_contacts: list[list[int]] | None = None  # built on first use, dropped on create
        contacts = world.tables["contacts"]
        render = contacts.render
        contacts.render = lambda i: self._with_lists(render(i), i)

    @staticmethod
    def subscription_type_id(k: int) -> str:
        return str(104_000 + k)

    # Links --------------------------------------------------------------------------------------

    def company_contact_indexes(self, company: int) -> list[int]:
        """The contacts that list `company` among their companies (the reverse of contact → companies)."""
        with self.world.lock:
            if self._company_contacts is None:
                index: list[list[int]] = [[] for _ in range(len(self.world.tables["companies"]))]
                for contact in range(len(self.world.tables["contacts"])):
                    for c in self.world.contact_company_indexes(contact):
                        index[c].append(contact)
                self._company_contacts = index
            return self._company_contacts[company]

    def contact_segment_indexes(self, i: int) -> list[int]:
        rng = self.world.rng("contact_segments", i)
        segments = self.world.scale.segments  # the seeded ones: new segments don't reshuffle contacts
        return sorted(rng.sample(range(segments), min(segments, rng.choice((0, 1, 1, 2, 3)))))

    def contact_subscription_indexes(self, i: int) -> list[int]:
        """Only subscriptions the contact set explicitly (opted in or out), as the endpoint says."""
        rng = self.world.rng("contact_subscriptions", i)
        return sorted(rng.sample(range(len(SUBSCRIPTION_TYPES)), rng.choice((0, 0, 1, 2, 3))))

    # Records ------------------------------------------------------------------------------------

    def _with_lists(self, contact: dict, i: int) -> dict:
        """A contact's `notes` list, and its opted_in/opted_out_subscription_types (lists like its
        `tags`, not in the 2.16 component: the subscriptions it set, by their consent type)."""
        notes = [self.note_id("contact", i, k) for k in range(self.note_count("contact", i))]
        contact["notes"] = {"type": "list", "data": [{"type": "note", "id": n, "url": f"/notes/{n}"} for n in notes],
                            "url": f"/contacts/{contact['id']}/notes", "total_count": len(notes), "has_more": False}
        chosen = self.contact_subscription_indexes(i)
        for field, consent in (("opted_in_subscription_types", "opt_in"), ("opted_out_subscription_types", "opt_out")):
            ids = [self.subscription_types.ids[k] for k in chosen if SUBSCRIPTION_TYPES[k][1] == consent]
            data = [{"type": "subscription", "id": s, "url": f"/subscription_types/{s}"} for s in ids]
            contact[field] = {"type": "list", "data": data,
                              "url": f"/contacts/{contact['id']}/subscriptions", "total_count": len(ids),
                              "has_more": False}
        return contact

    def _render_subscription_type(self, k: int) -> dict:
        name, consent, content_types = SUBSCRIPTION_TYPES[k % len(SUBSCRIPTION_TYPES)]  # k ≥ 6: created later
        translation = {"name": name, "description": f"{name}: {PHRASES[k % len(PHRASES)]}", "locale": "en"}
        return self.world.build("subscription_type", self.world.rng("subscription_type", k), {
            "type": "subscription", "id": self.subscription_types.ids[k], "state": "live", "consent_type": consent,
            "content_types": content_types, "default_translation": translation,
            "translations": [translation, {**translation, "locale": "fr"}],
        })

    def notes(self, owner: str, i: int) -> list[dict]:
        """The notes of contact or company i, newest first (0..4, seeded by the parent)."""
        world = self.world
        parent = world.tables["contacts" if owner == "contact" else "companies"]
        admins = world.tables["admins"]
        rng = world.rng(f"{owner}_notes", i)
        notes = []
        for k in range(rng.randint(0, MAX_NOTES)):  # note_count
            created = rng.randrange(parent.created_at[i], max(parent.created_at[i], SEED_END) + 1)
            reference = {"type": owner, "id": parent.ids[i]}
            notes.append(world.build("note", rng, {
                "type": "note", "id": self.note_id(owner, i, k), "created_at": created,
                "body": f"<p>{rng.choice(PHRASES)}</p>", "author": admins.record(rng.randrange(world.scale.admins)),
                "contact": reference if owner == "contact" else None,
                "company": reference if owner == "company" else None,
            }))
        return sorted(notes, key=lambda note: (-note["created_at"], note["id"]))

    def note_count(self, owner: str, i: int) -> int:
        return self.world.rng(f"{owner}_notes", i).randint(0, MAX_NOTES)  # the first draw of notes()

    @staticmethod
    def note_id(owner: str, i: int, k: int) -> str:
        return str(NOTE_ID_BASE[owner] + i * 8 + k)

    def event_summaries(self, i: int) -> list[dict]:
        """One summary per event name the contact sent (0..4 names)."""
        rng = self.world.rng("data_events", i)
        created = self.world.tables["contacts"].created_at[i]
        events = []
        for name, description in rng.sample(EVENT_NAMES, rng.randint(0, 4)):
            first = rng.randrange(created, max(created, SEED_END) + 1)
            last = rng.randrange(first, max(first, SEED_END) + 1)
            events.append({"name": name, "first": iso(first), "last": iso(last),
                           "count": 1 if first == last else rng.randint(2, 400), "description": description})
        return events

    # Endpoints ----------------------------------------------------------------------------------

    def _live(self, kind: str, record_id: str) -> int:
        i = self.world.tables[kind].find(record_id)
        if i is None:
            raise not_found("User Not Found" if kind == "contacts" else "Company Not Found")
        return i

    def _encoded(self, kind: str, indexes: list[int]) -> list[bytes]:
        table = self.world.tables[kind]
        return [table.encoded(j) for j in indexes if j < len(table) and table.alive[j]]

    def routes(self, api) -> list:
        def listing(items: list[bytes]) -> Reply:
            return Reply(200, envelope({"type": "list"}, "data", items))

        def contact_tags(request, contact_id: str) -> Reply:
            return listing(self._encoded("tags", self.world.contact_tag_indexes(self._live("contacts", contact_id))))

        def contact_companies(request, contact_id: str) -> Reply:
            companies = self.world.contact_company_indexes(self._live("contacts", contact_id))
            # The list is `data`, as the 2.16 example and real answers name it (the schema says `companies`).
            return api.page_number_list(request, self._encoded("companies", companies), list_key="data",
                                        default=LIST_DEFAULT, maximum=LIST_MAX, style="pages_link")

        def contact_segments(request, contact_id: str) -> Reply:
            segments = self.contact_segment_indexes(self._live("contacts", contact_id))
            return listing(self._encoded("segments", segments))

        def contact_subscriptions(request, contact_id: str) -> Reply:
            chosen = self.contact_subscription_indexes(self._live("contacts", contact_id))
            return listing(self._encoded("subscription_types", chosen))

        def subscription_types(request) -> Reply:
            return listing(self._encoded("subscription_types", list(self.subscription_types.live())))

        def notes(owner: str, kind: str, parent_id: str, request) -> Reply:
            items = [encode(note) for note in self.notes(owner, self._live(kind, parent_id))]
            return api.page_number_list(request, items, default=LIST_DEFAULT, maximum=LIST_MAX)

        def company_contacts(request, company_id: str) -> Reply:
            contacts = self.company_contact_indexes(self._live("companies", company_id))
            return api.page_number_list(request, self._encoded("contacts", contacts),
                                        default=LIST_DEFAULT, maximum=LIST_MAX)

        def events(request) -> Reply:
            query = request.query
            if query.get("type") != "user":
                raise ApiError(400, "parameter_invalid", "type must be user")
            if not query.get("intercom_user_id"):
                raise ApiError(400, "parameter_not_found", "the sandbox finds users by intercom_user_id only")
            if query.get("summary") != "true":
                raise ApiError(400, "parameter_invalid", "the sandbox serves event summaries only (summary=true)")
            i = self._live("contacts", query["intercom_user_id"])
            return api._json(self.summary(i))

        return [
            ("GET", r"/contacts/(?P<contact_id>[^/]+)/tags", contact_tags),
            ("GET", r"/contacts/(?P<contact_id>[^/]+)/companies", contact_companies),
            ("GET", r"/contacts/(?P<contact_id>[^/]+)/segments", contact_segments),
            ("GET", r"/contacts/(?P<contact_id>[^/]+)/subscriptions", contact_subscriptions),
            ("GET", r"/contacts/(?P<contact_id>[^/]+)/notes",
             lambda request, contact_id: notes("contact", "contacts", contact_id, request)),
            ("GET", r"/companies/(?P<company_id>[^/]+)/contacts", company_contacts),
            ("GET", r"/companies/(?P<company_id>[^/]+)/notes",
             lambda request, company_id: notes("company", "companies", company_id, request)),
            ("GET", r"/subscription_types", subscription_types),
            ("GET", r"/events", events),
        ]

    def summary(self, i: int) -> dict:
        contact = self.world.tables["contacts"].record(i)
        return {"type": "event.summary", "intercom_user_id": contact["id"], "email": contact.get("email") or "",
                "user_id": contact.get("external_id") or "", "events": self.event_summaries(i)}

    # Domain hooks -------------------------------------------------------------------------------

    def on_create(self, kind: str, i: int) -> None:
        if kind in ("contacts", "companies"):
            self._company_contacts = None  # rebuilt with the new record on next use

    def ground_truth(self, stream: str) -> list[dict] | None:
        world = self.world
        contacts, companies = world.tables["contacts"], world.tables["companies"]

        def records(kind: str, indexes: list[int]) -> list[dict]:
            table = world.tables[kind]
            return [table.record(j) for j in indexes if j < len(table) and table.alive[j]]

        per_contact = {
            "contact_tags": lambda i: records("tags", world.contact_tag_indexes(i)),
            "contact_companies": lambda i: records("companies", world.contact_company_indexes(i)),
            "contact_segments": lambda i: records("segments", self.contact_segment_indexes(i)),
            "contact_subscriptions": lambda i: records("subscription_types", self.contact_subscription_indexes(i)),
            "contact_notes": lambda i: self.notes("contact", i),
            "data_events": self.event_summaries,
        }
        per_company = {
            "company_contacts": lambda i: records("contacts", self.company_contact_indexes(i)),
            "company_notes": lambda i: self.notes("company", i),
        }
        if stream in per_contact:
            return [dict(child, contact_id=contacts.ids[i]) for i in contacts.live()
                    for child in per_contact[stream](i)]
        if stream in per_company:
            return [dict(child, company_id=companies.ids[i]) for i in companies.live()
                    for child in per_company[stream](i)]
        if stream == "subscription_types":
            return records("subscription_types", list(self.subscription_types.live()))
        return None


def iso(timestamp: int) -> str:
    """Event summaries give their moments as ISO strings, e.g. 2014-01-16T23:12:21.000+00:00."""
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
