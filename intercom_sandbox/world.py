"""The sandbox workspace: every record, deterministic from the seed, and the changes made to it.

Records are built by the schema-driven factory (so every field of the 2.16 object is
present, and every field Intercom sends beyond it: extras.py) with the fields that carry
meaning (ids, timestamps, relations, custom attributes) set here. The control API changes
the world while a sync runs, and `ground_truth` says what a correct sync must return right
now (in any served API version: versions.py).
"""

from __future__ import annotations

import random
import threading
import time
from array import array
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from .extras import ExtraFields
from .fake import RecordFactory, load_spec
from .scale import Scale
from .table import Table
from .versions import DEFAULT_VERSION, check_version, shaped

SEED_START = 1_609_459_200  # 2021-01-01: records spread over several years …
SEED_END = 1_793_491_200  # 2026-11-01: … up to shortly before "now"
WORKSPACE_ID = "ecahpwf5"
PART_CAP = 500  # GET /conversations/{id} returns at most the 500 most recent parts

FIRST_NAMES = ["Ada", "Bruno", "Chloé", "Dmitri", "Élodie", "Farah", "Gustav", "Hana", "Iñigo", "Jürgen",
               "Kenji", "Léa", "Mateus", "Noor", "Olga", "Priya", "Quentin", "Rosa", "Søren", "Tomás",
               "美咲", "Zoë", "Ольга", "Amara"]
LAST_NAMES = ["Okafor", "Lindqvist", "Müller", "García", "Nakamura", "O'Brien", "Dubois", "Kowalski",
              "Rossi", "Haddad", "Ivanova", "Smith", "Ngata", "Ångström", "佐藤", "Fernández"]
COMPANY_WORDS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Tyrell",
                 "Soylent", "Cyberdyne", "Nordlys", "Café Crème", "Żubr", "東京"]
SUBJECTS = ["Cannot log in", "Billing question", "Feature request: dark mode", "Export is slow",
            "Invoice missing", "Bug in the mobile app", "How do I invite my team?", "Réinitialiser le mot de passe",
            "API rate limits", "Upgrade plan 🚀"]
PHRASES = ["Thanks for reaching out!", "Could you send a screenshot?", "I need support with my account",
           "That fixed it, merci!", "We shipped a fix today.", "Let me check with the team.",
           "Is there an update?", "Das funktioniert jetzt.", "Closing this for now.", "👍"]
PART_TYPES = ["comment", "comment", "comment", "note", "assignment", "open", "close", "snoozed"]

# Custom data attributes of the workspace: (name, data type).
CONTACT_CUSTOM = [("plan", "string"), ("seats", "integer"), ("mrr", "float"), ("vip", "boolean"),
                  ("trial_ends_at", "date"), ("nickname", "string")]
COMPANY_CUSTOM = [("tier", "string"), ("employees", "integer"), ("arr", "float"), ("churn_risk", "boolean"),
                  ("renewal_at", "date")]
# Conversation attributes (never null), some named as teammates name them: spaces, dots, capitals.
CONVERSATION_CUSTOM = [("topic", "string"), ("order_number", "integer"), ("priority_reason", "string"),
                       ("Issue Type", "string"), ("Order No.", "integer"), ("Refund.Amount", "decimal"),
                       ("Is VIP", "boolean"), ("Promised By", "datetime")]
CONTACT_STANDARD = [("name", "string"), ("email", "string"), ("phone", "string"), ("role", "string"),
                    ("external_id", "string"), ("created_at", "date"), ("updated_at", "date"),
                    ("signed_up_at", "date"), ("last_seen_at", "date"), ("owner_id", "integer")]
COMPANY_STANDARD = [("name", "string"), ("company_id", "string"), ("created_at", "date"),
                    ("updated_at", "date"), ("monthly_spend", "float"), ("size", "integer")]

# (city, region, country, country code, continent code) of contacts' locations
LOCATIONS = [("Dublin", "Leinster", "Ireland", "IRL", "EU"), ("São Paulo", "São Paulo", "Brazil", "BRA", "SA"),
             ("München", "Bavaria", "Germany", "DEU", "EU"), ("東京", "Tokyo", "Japan", "JPN", "AS"),
             ("San Francisco", "California", "United States", "USA", "NA"), ("Lagos", "Lagos", "Nigeria", "NGA", "AF"),
             ("Kraków", "Lesser Poland", "Poland", "POL", "EU")]
DRIFT_FIELD = "x_drift_score"  # a property no description declares (the drift control)

KINDS = ("admins", "teams", "tags", "segments", "contacts", "companies", "conversations")  # tickets: domains/tickets.py
EMBEDDED_LIMIT = 10  # a contact embeds at most 10 tags and 10 companies; its own endpoints list them all


class Clock:
    """Wall-clock seconds, shiftable by tests."""

    def __init__(self) -> None:
        self.offset = 0

    def now(self) -> int:
        return int(time.time()) + self.offset


def hex_id(prefix: int, i: int) -> str:
    return f"{prefix:08x}{i:016x}"


def custom_value(rng: random.Random, data_type: str) -> Any:
    """A custom attribute value of the JSON type its definition's `data_type` says (the data types of
    data attributes, conversation attributes and ticket type attributes)."""
    if data_type in ("string", "list"):
        return rng.choice(["free", "pro", "enterprise", "Größe L", "北京", "🚀 launch"])
    if data_type == "integer":
        return rng.randrange(0, 5000)
    if data_type in ("float", "decimal"):
        return round(rng.uniform(0, 10_000), 2)  # non-integral on all but about one record in a hundred
    if data_type == "boolean":
        return rng.random() < 0.5
    if data_type in ("date", "datetime"):  # unix seconds in custom attributes
        return rng.randrange(SEED_START, SEED_END)
    raise ValueError(f"no custom attribute values of data type {data_type!r}")


class World:
    def __init__(self, scale: Scale, *, seed: int = 42, timezone: str = "UTC", search_delay: int = 0,
                 clock: Clock | None = None) -> None:
        self.scale = scale
        self.seed = seed
        self.timezone = ZoneInfo(timezone)
        self.timezone_name = timezone
        self.search_delay = search_delay
        self.clock = clock or Clock()
        self.spec = load_spec()
        self.factory = RecordFactory(self.spec, time_range=(SEED_START, SEED_END))
        self.extras = ExtraFields(self.factory, self.spec)
        self.lock = threading.RLock()
        self.tables: dict[str, Table] = {}
        self._build_tables()
        self._build_relations()
        from .domains import domain_classes  # the domains use this module's helpers

        self.domains = [cls(self) for cls in domain_classes()]

    # Deterministic randomness -----------------------------------------------------------

    def rng(self, kind: str, i: int) -> random.Random:
        return random.Random(f"{self.seed}:{kind}:{i}")

    def build(self, component: str, rng: random.Random, overrides: dict | None = None) -> dict:
        """A record of `component`: every property 2.16 declares and every field Intercom sends beyond
        them (extras.py), with `overrides` laid over them."""
        record = self.factory.build(component, rng, overrides)
        return self.extras.apply(component, record, rng, overrides or ())

    def _timestamps(self, kind: str, n: int) -> tuple[list[int], list[int]]:
        """created_at/updated_at for n records: years apart, many sharing one updated_at second."""
        rng = random.Random(f"{self.seed}:{kind}:timestamps")
        # Bulk updates (imports, workflow runs) stamp many records with the same second.
        bulk_seconds = sorted(rng.randrange(SEED_START + 86_400 * 365, SEED_END) for _ in range(max(3, n // 600)))
        created, updated = [], []
        for _ in range(n):
            c = rng.randrange(SEED_START, SEED_END - 86_400)
            u = min(SEED_END, c + int(rng.expovariate(1 / (86_400 * 60))))
            if rng.random() < 0.25:
                bulk = bulk_seconds[rng.randrange(len(bulk_seconds))]
                if bulk >= c:
                    u = bulk
            created.append(c)
            updated.append(u)
        return created, updated

    def _build_tables(self) -> None:
        s = self.scale
        id_makers = {
            "admins": lambda i: str(991_000 + i),
            "teams": lambda i: str(812_000 + i),
            "tags": lambda i: str(57_000 + i),
            "segments": lambda i: hex_id(0x5E000000, i),
            "contacts": lambda i: hex_id(0x6A000000 + self.seed % 0xFFFF, i),
            "companies": lambda i: hex_id(0x5C000000 + self.seed % 0xFFFF, i),
            "conversations": lambda i: str(100_000_000 + i),
        }
        counts = {"admins": s.admins, "teams": s.teams, "tags": s.tags, "segments": s.segments,
                  "contacts": s.contacts, "companies": s.companies, "conversations": s.conversations}
        for kind in KINDS:
            created, updated = self._timestamps(kind, counts[kind])
            table = Table(kind, [id_makers[kind](i) for i in range(counts[kind])], created, updated)
            table.render = getattr(self, f"_render_{kind}")
            self.tables[kind] = table
        self.id_makers = id_makers
        self.data_attributes = {
            "contact": self._data_attributes("contact", CONTACT_STANDARD, CONTACT_CUSTOM),
            "company": self._data_attributes("company", COMPANY_STANDARD, COMPANY_CUSTOM),
        }
        self.conversation_attributes = [self._conversation_attribute(i, name, kind)
                                        for i, (name, kind) in enumerate(CONVERSATION_CUSTOM)]

    def _build_relations(self) -> None:
        """Who belongs to whom, kept as small integer arrays so large scales stay cheap."""
        s = self.scale
        rng = random.Random(f"{self.seed}:relations")
        # contacts ↔ companies: a contact has up to two companies (-1 = none).
        self.contact_companies = array("i")
        for _ in range(s.contacts):
            k = rng.choice((0, 1, 1, 1, 2)) if s.companies else 0
            picks = [rng.randrange(s.companies) for _ in range(k)] + [-1, -1]
            self.contact_companies.extend(picks[:2])
        # conversations → contact, with a part count around the configured average.
        self.conversation_contact = array("i", (rng.randrange(max(1, s.contacts)) for _ in range(s.conversations)))
        avg = max(1, s.parts_per_conversation)
        self.part_counts = array("i", (rng.randint(1, 2 * avg - 1) for _ in range(s.conversations)))
        for c in range(min(s.long_conversations, s.conversations)):
            self.part_counts[(c * 7919) % s.conversations] = PART_CAP + 20 + c * 37
        self.added_parts: dict[int, list[int]] = {}  # conversation → created_at of parts added later
        self.part_updates: dict[tuple[int, int], int] = {}
        # A few contacts have more tags / companies than they embed (EMBEDDED_LIMIT), so a client must
        # read /contacts/{id}/tags and /contacts/{id}/companies for them. Own rng: the rest stays as it was.
        heavy = random.Random(f"{self.seed}:heavy contacts")
        some = min(s.contacts, max(3, s.contacts // 100))
        self.many_tags: dict[int, list[int]] = {}
        self.many_companies: dict[int, list[int]] = {}
        if s.tags > EMBEDDED_LIMIT:
            for i in heavy.sample(range(s.contacts), some):
                self.many_tags[i] = sorted(heavy.sample(range(s.tags), heavy.randint(11, min(15, s.tags))))
        if s.companies > EMBEDDED_LIMIT:
            for i in heavy.sample(range(s.contacts), some):
                self.many_companies[i] = heavy.sample(range(s.companies), heavy.randint(11, min(14, s.companies)))
        for i, companies in self.many_companies.items():
            self.contact_companies[2 * i: 2 * i + 2] = array("i", companies[:2])  # conversations use the first

    # Small helpers --------------------------------------------------------------------

    def _name(self, rng: random.Random) -> str:
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"

    def _custom(self, rng: random.Random, attributes: list[tuple[str, str]], *, nullable: bool = True) -> dict:
        """Custom attribute values, each of the JSON type its definition's data type says."""
        values: dict[str, Any] = {}
        for name, kind in attributes:
            if rng.random() < 0.1:
                if nullable:
                    values[name] = None
            else:
                values[name] = custom_value(rng, kind)
        return values

    def _ref(self, kind: str, i: int) -> str:
        return self.tables[kind].ids[i]

    def _pick(self, rng: random.Random, kind: str, k: int) -> list[int]:
        n = len(self.tables[kind])
        return sorted({rng.randrange(n) for _ in range(k)}) if n else []

    def contact_company_indexes(self, i: int) -> list[int]:
        """Every company of contact i (not only the embedded ones), without repeats."""
        if i in self.many_companies:
            return self.many_companies[i]
        return list(dict.fromkeys(c for c in self.contact_companies[2 * i: 2 * i + 2] if c >= 0))

    def contact_tag_indexes(self, i: int) -> list[int]:
        """Every tag of contact i; drawn from the seeded tag count, so new tags don't reshuffle them."""
        if i in self.many_tags:
            return self.many_tags[i]
        rng = self.rng("contact_tags", i)
        return sorted({rng.randrange(self.scale.tags) for _ in range(rng.choice((0, 0, 1, 2, 3)))})

    def _tag_basic(self, i: int) -> dict:
        tag = self.tables["tags"].record(i)
        return {"type": "tag", "id": tag["id"], "name": tag["name"]}

    # Renderers, one per kind ------------------------------------------------------------

    def _render_admins(self, i: int) -> dict:
        rng = self.rng("admin", i)
        name = self._name(rng)
        teams = [int(self._ref("teams", t)) for t in range(len(self.tables["teams"])) if (i + t) % 3 == 0]
        image = f"https://static.intercomassets.com/avatars/{self._ref('admins', i)}/square_128/{i}.png"
        # The 2.16 component says a URL string; 2.11's component, 2.16's /me example and real answers
        # show an object. Both shapes are sent, so a client must take either.
        avatar = image if (i + self.seed) % 3 == 1 else {"type": "avatar", "image_url": image}
        return self.build("admin", rng, {
            "type": "admin", "id": self._ref("admins", i), "name": name,
            "email": f"admin{i}@example-support.com", "team_ids": teams,
            "away_mode_enabled": i % 5 == 0, "away_mode_reassign": i % 10 == 0, "avatar": avatar,
        })

    def _render_teams(self, i: int) -> dict:
        rng = self.rng("team", i)
        admins = [int(self._ref("admins", a)) for a in range(len(self.tables["admins"])) if (a + i) % 3 == 0]
        return self.build("team", rng, {
            "type": "team", "id": self._ref("teams", i),
            "name": ["Support", "Sales", "Billing", "Onboarding", "Tier 2", "Équipe FR"][i % 6], "admin_ids": admins,
        })

    def _render_tags(self, i: int) -> dict:
        rng = self.rng("tag", i)
        return self.build("tag", rng, {
            "type": "tag", "id": self._ref("tags", i),
            "name": f"{['vip', 'bug', 'billing', 'churn-risk', 'beta', 'Rückfrage', '重要'][i % 7]}-{i}",
        })

    def _render_segments(self, i: int) -> dict:
        rng = self.rng("segment", i)
        t = self.tables["segments"]
        return self.build("segment", rng, {
            "type": "segment", "id": t.ids[i], "name": f"Segment {i}: {rng.choice(SUBJECTS)}",
            "created_at": t.created_at[i], "updated_at": t.updated_at[i],
            "person_type": "user" if i % 2 == 0 else "contact", "count": rng.randrange(0, 5000),
        })

    def _data_attributes(self, model: str, standard: list, custom: list) -> list[dict]:
        records = []
        for n, (name, data_type) in enumerate(standard + custom):
            is_custom = n >= len(standard)
            rng = self.rng(f"data_attribute:{model}", n)
            created = SEED_START + n * 86_400 * 7
            attribute = self.build("data_attribute", rng, {
                "type": "data_attribute", "id": (1 if model == "contact" else 2) * 10_000 + n, "model": model,
                "name": name, "full_name": f"custom_attributes.{name}" if is_custom else name,
                "label": name.replace("_", " ").title(), "data_type": data_type, "custom": is_custom,
                "archived": False, "created_at": created, "updated_at": created + 3600,
                "admin_id": self._ref("admins", 0),
            })
            if not is_custom:
                del attribute["admin_id"]  # only custom attributes have an admin who made them
            records.append(attribute)
        return records

    def conversation_data_attributes(self, include_archived: bool) -> list[dict]:
        """The conversation attributes as GET /data_attributes?model=conversation lists them
        before 2.16, in that endpoint's shape and its own type names."""
        as_data_type = {"decimal": "float", "datetime": "date", "list": "string"}
        return [{"type": "data_attribute", "id": a["id"], "model": "conversation", "name": a["name"],
                 "full_name": f"custom_attributes.{a['name']}", "label": a["name"],
                 "data_type": as_data_type.get(a["data_type"], a["data_type"]), "custom": True,
                 "archived": bool(a.get("archived")), "created_at": a["created_at"], "updated_at": a["updated_at"]}
                for a in self.conversation_attributes if include_archived or not a.get("archived")]

    def _conversation_attribute(self, n: int, name: str, data_type: str) -> dict:
        rng = self.rng("conversation_attribute", n)
        created = SEED_START + n * 86_400 * 11
        return self.build(f"conversation_attribute_{data_type}_type", rng, {
            "id": 30_000 + n, "name": name, "created_at": created, "updated_at": created + 60,
        })

    def _render_contacts(self, i: int) -> dict:
        rng = self.rng("contact", i)
        t = self.tables["contacts"]
        cid = t.ids[i]
        name = self._name(rng)
        companies = self.contact_company_indexes(i)
        tags = self.contact_tag_indexes(i)
        created = t.created_at[i]
        record = self.build("contact", rng, {
            "type": "contact", "id": cid, "workspace_id": WORKSPACE_ID, "external_id": f"user-{i}",
            "role": "lead" if i % 5 == 4 else "user", "name": name,
            "email": f"{name.split()[0].lower()}.{i}@example.com",
            "created_at": created, "signed_up_at": created if i % 5 != 4 else None,
            "last_seen_at": rng.randrange(created, max(created, SEED_END) + 1),
            "owner_id": self._ref("admins", i % len(self.tables["admins"])) if i % 3 else None,
            "custom_attributes": self._custom(rng, CONTACT_CUSTOM),
            "companies": self.build("contact_companies", rng, {
                "url": f"/contacts/{cid}/companies", "total_count": len(companies),
                "has_more": len(companies) > EMBEDDED_LIMIT,
                "data": [{"id": self._ref("companies", c), "type": "company",
                          "url": f"/companies/{self._ref('companies', c)}"} for c in companies[:EMBEDDED_LIMIT]]}),
            "tags": self.build("contact_tags", rng, {
                "url": f"/contacts/{cid}/tags", "total_count": len(tags), "has_more": len(tags) > EMBEDDED_LIMIT,
                "data": [{"id": self._ref("tags", g), "type": "tag", "url": f"/tags/{self._ref('tags', g)}"}
                         for g in tags[:EMBEDDED_LIMIT]]}),
        })
        if isinstance(record.get("location"), dict):  # one place, not a random city in a random country
            known = rng.random() >= 0.1
            city, region, country, code, continent = LOCATIONS[rng.randrange(len(LOCATIONS))]
            record["location"] = {**record["location"], "city": city if known else None,
                                  "region": region if known else None, "country": country if known else None,
                                  "country_code": code if known else None,
                                  "continent_code": continent if known else None}
        phone = record.get("phone")
        record["formatted_phone"] = "+" + "".join(c for c in phone if c.isdigit()) if phone else None
        return record

    def _render_companies(self, i: int) -> dict:
        rng = self.rng("company", i)
        t = self.tables["companies"]
        segments = self.company_segment_indexes(i)
        return self.build("company", rng, {
            "type": "company", "id": t.ids[i], "company_id": f"company-{i}", "app_id": WORKSPACE_ID,
            "name": f"{rng.choice(COMPANY_WORDS)} {rng.choice(['Ltd', 'GmbH', 'Inc.', 'SA', 'KK'])} {i}",
            "created_at": t.created_at[i], "remote_created_at": t.created_at[i],
            "last_request_at": rng.randrange(t.created_at[i], max(t.created_at[i], SEED_END) + 1),
            "custom_attributes": self._custom(rng, COMPANY_CUSTOM, nullable=False),
            "segments": {"type": "segment.list",
                         "segments": [self.tables["segments"].record(s) for s in segments]},
            "tags": {"type": "tag.list", "tags": [self._tag_basic(g) for g in self._pick(rng, "tags", 2)]},
        })

    def company_segment_indexes(self, i: int) -> list[int]:
        n = len(self.tables["segments"])
        return sorted({(i * 3) % n, (i * 5 + 1) % n})[: i % 3] if n else []

    def _render_conversations(self, i: int) -> dict:
        rng = self.rng("conversation", i)
        t = self.tables["conversations"]
        contact = self.conversation_contact[i] if len(self.tables["contacts"]) else -1
        contact_ids = [self._ref("contacts", contact)] if contact >= 0 else []
        company = self.contact_companies[2 * contact] if contact >= 0 else -1
        if company < 0 and len(self.tables["companies"]):
            company = i % len(self.tables["companies"])  # the schema's company is not nullable
        admins, teams = len(self.tables["admins"]), len(self.tables["teams"])
        state = rng.choice(("open", "closed", "closed", "snoozed"))
        subject = rng.choice(SUBJECTS)
        record = self.build("conversation_list_item", rng, {
            "type": "conversation", "id": t.ids[i], "title": subject, "created_at": t.created_at[i],
            "state": state, "open": state == "open",
            "admin_assignee_id": int(self._ref("admins", i % admins)) if admins and i % 4 else 0,
            "team_assignee_id": int(self._ref("teams", i % teams)) if teams and i % 3 else 0,
            "contacts": {"type": "contact.list", "contacts": [
                {"type": "contact", "id": c, "external_id": f"user-{contact}"} for c in contact_ids]},
            "tags": {"type": "tag.list", "tags": [self._tag_basic(g) for g in self._pick(rng, "tags", 2)]},
            "company": self.tables["companies"].record(company) if company >= 0 else None,
            "custom_attributes": self._custom(rng, CONVERSATION_CUSTOM, nullable=False),
        })
        source = record.get("source") or {}
        source["body"] = f"<p>{subject}: {rng.choice(PHRASES)}</p>"
        if contact_ids and isinstance(source.get("author"), dict):
            source["author"] = {**source["author"], "type": "user", "id": contact_ids[0], "from_ai_agent": False,
                                "is_ai_answer": False}
        if isinstance(record.get("statistics"), dict):
            record["statistics"]["count_conversation_parts"] = self.part_count(i)
        # The teammates who wrote a part (render_part: admins write the odd parts), under both names:
        # the descriptions' `teammates` and real answers' `admins`.
        writers = sorted({(i + j) % admins for j in range(1, min(self.part_count(i), 2 * admins + 1), 2)}) \
            if admins else []
        teammates = [{"type": "admin", "id": self._ref("admins", a)} for a in writers]
        record["teammates"] = {"type": "admin.list", "teammates": teammates, "admins": teammates}
        assignee = record["admin_assignee_id"]
        record["assignee"] = {"type": "admin", "id": str(assignee)} if assignee else None
        record["ticket"] = self._ticket_reference(i)
        record["topics"] = {"type": "topic.list", "topics": [], "total_count": 0}  # no topics in this workspace
        return record

    def _ticket_reference(self, i: int) -> dict | None:
        """Some conversations became tickets: the reference Intercom embeds, else null."""
        tickets = self.tables.get("tickets")
        if not tickets or not len(tickets) or i % 8:
            return None
        ticket = tickets.record((i // 8) % len(tickets))
        return {"type": "ticket", "id": ticket["id"], "ticket_id": ticket["ticket_id"], "category": ticket["category"]}

    # Conversation parts -------------------------------------------------------------------

    def part_count(self, c: int) -> int:
        return self.part_counts[c] + len(self.added_parts.get(c, ()))

    def part_id(self, c: int, j: int) -> str:
        return str(1_000_000_000 + c * 100_000 + j)

    def part_created_at(self, c: int, j: int) -> int:
        base = self.part_counts[c]
        if j >= base:
            return self.added_parts[c][j - base]
        t = self.tables["conversations"]
        start, end = t.created_at[c], t.updated_at[c]
        if c in t.patches and "_parts_end" in t.patches[c]:
            end = t.patches[c]["_parts_end"]
        return start if base == 1 else start + (min(end, SEED_END) - start) * j // (base - 1)

    def render_part(self, c: int, j: int) -> dict:
        rng = self.rng("part", c * 100_000 + j)
        created = self.part_created_at(c, j)
        admins = len(self.tables["admins"])
        by_admin = j % 2 == 1 and admins
        contact = self.conversation_contact[c] if len(self.tables["contacts"]) else -1
        if by_admin:
            admin = self.tables["admins"].record((c + j) % admins)
            author = {"type": "admin", "id": admin["id"], "name": admin["name"], "email": admin["email"]}
        elif contact >= 0:
            author = {"type": "user", "id": self._ref("contacts", contact), "name": "Customer",
                      "email": f"user-{contact}@example.com"}
        else:
            author = {"type": "bot", "id": "0", "name": "Fin", "email": "fin@example.com"}
        author.update({"from_ai_agent": False, "is_ai_answer": False})
        return self.build("conversation_part", rng, {
            "type": "conversation_part", "id": self.part_id(c, j), "part_type": PART_TYPES[j % len(PART_TYPES)],
            "body": f"<p>{rng.choice(PHRASES)}</p>", "created_at": created,
            "updated_at": self.part_updates.get((c, j), created), "notified_at": created, "author": author,
        })

    def conversation_detail(self, c: int) -> dict:
        """GET /conversations/{id}: the conversation with its 500 most recent parts."""
        record = dict(self.tables["conversations"].record(c))
        total = self.part_count(c)
        first = max(0, total - PART_CAP)
        record["conversation_parts"] = {"type": "conversation_part.list", "total_count": total,
                                        "conversation_parts": [self.render_part(c, j) for j in range(first, total)]}
        return record

    # Control API: change the world while a sync runs ----------------------------------------

    def table(self, kind: str) -> Table:
        if kind not in self.tables:
            raise KeyError(f"unknown kind {kind!r}; known: {', '.join(self.tables)}")
        return self.tables[kind]

    def _index(self, kind: str, record_id: str) -> int:
        i = self.table(kind).find(record_id)
        if i is None:
            raise KeyError(f"no live {kind} record with id {record_id!r}")
        return i

    def update(self, kind: str, record_id: str, fields: dict | None = None, *, at: int | None = None) -> dict:
        """Change fields of a record (or just touch it); updated_at becomes `at` (default now)."""
        with self.lock:
            i = self._index(kind, record_id)
            self.table(kind).update(i, self.clock.now() if at is None else at, fields)
            return self.table(kind).record(i)

    def create(self, kind: str, fields: dict | None = None, *, at: int | None = None) -> dict:
        with self.lock:
            table = self.table(kind)
            now = self.clock.now() if at is None else at
            i = len(table)
            delay = self.search_delay if kind == "contacts" else 0
            table.append(self.id_makers[kind](i), now, now + delay)
            if kind == "contacts":
                self.contact_companies.extend([i % len(self.tables["companies"]) if self.scale.companies else -1, -1])
            elif kind == "conversations":
                self.conversation_contact.append(i % max(1, len(self.tables["contacts"])))
                self.part_counts.append(1)
            for domain in self.domains:
                domain.on_create(kind, i)
            if fields:
                table.update(i, now, fields)
            return table.record(i)

    def delete(self, kind: str, record_id: str, *, at: int | None = None) -> None:
        with self.lock:
            i = self._index(kind, record_id)
            self.table(kind).delete(i, self.clock.now() if at is None else at)

    def add_parts(self, conversation_id: str, count: int = 1, *, at: int | None = None) -> dict:
        """New replies on a (possibly old) conversation: its updated_at moves to the newest part."""
        with self.lock:
            c = self._index("conversations", conversation_id)
            now = self.clock.now() if at is None else at
            t = self.tables["conversations"]
            t.patches.setdefault(c, {}).setdefault("_parts_end", t.updated_at[c])
            self.added_parts.setdefault(c, []).extend([now] * count)
            t.update(c, now)
            return t.record(c)

    # Ground truth: what a correct sync returns right now -------------------------------------

    def records(self, kind: str) -> Iterator[dict]:
        table = self.table(kind)
        for i in table.live():
            yield table.record(i)

    def add_table(self, kind: str, ids: list[str], created_at: list[int], updated_at: list[int],
                  render, id_maker) -> Table:
        """Register a domain's table: listed, rendered on demand, changeable through the control API."""
        table = Table(kind, ids, created_at, updated_at)
        table.render = render
        self.tables[kind] = table
        self.id_makers[kind] = id_maker
        return table

    def domain_control(self, action: str, payload: dict) -> Any:
        """A domain's own control action (e.g. ticket_add_parts); KeyError when no domain has it."""
        for domain in self.domains:
            try:
                return domain.control(action, payload)
            except KeyError:
                continue
        raise KeyError(f"no control action {action!r}")

    def drift(self, kind: str, field: str = DRIFT_FIELD, share: float = 0.5) -> list[str]:
        """Schema drift partway through a sync: the last `share` of the live `kind` records by
        updated_at get `field`, a number no description declares (their updated_at stays, so a sync
        in updated_at order meets it only on its later records). The ids of those records."""
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], got {share!r}")
        with self.lock:
            table = self.table(kind)
            order = sorted(table.live(), key=lambda i: (table.updated_at[i], i))
            later = order[len(order) - round(len(order) * share):]
            for i in later:
                table.patch(i, {field: round(self.rng(f"drift:{field}", i).uniform(0, 100), 2)})
            return [table.ids[i] for i in later]

    def ground_truth(self, stream: str, api_version: str = DEFAULT_VERSION) -> list[dict]:
        """What a correct sync of `stream` returns right now, in the shapes `api_version` answers with."""
        check_version(api_version)
        return [shaped(stream, record, api_version) for record in self._ground_truth(stream)]

    def _ground_truth(self, stream: str) -> list[dict]:
        with self.lock:
            for domain in self.domains:
                truth = domain.ground_truth(stream)
                if truth is not None:
                    return truth
            if stream == "conversation_parts":
                return [dict(part, conversation_id=cid) for cid, parts in self.all_parts() for part in parts]
            if stream == "company_segments":
                companies = self.tables["companies"]
                return [dict(self.tables["segments"].record(s), company_id=companies.ids[i])
                        for i in companies.live() for s in self.company_segment_indexes(i)]
            if stream == "contact_attributes":
                return list(self.data_attributes["contact"])
            if stream == "company_attributes":
                return list(self.data_attributes["company"])
            if stream == "conversation_attributes":
                return list(self.conversation_attributes)
            return list(self.records(stream))

    def all_parts(self) -> Iterator[tuple[str, list[dict]]]:
        """Every part a client can read: the 500 most recent of each live conversation."""
        table = self.tables["conversations"]
        for c in table.live():
            yield table.ids[c], self.conversation_detail(c)["conversation_parts"]["conversation_parts"]

