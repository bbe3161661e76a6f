"""Workspace settings and tooling: away status reasons, office hours, brands, sender emails,
macros, the admins' activity log, calls, ticket types and states, and custom object instances.

The small helpers at the top are shared with the knowledge and conversations-extra domains.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..api import ApiError, IntercomApi, Reply, Request, envelope, not_found
from ..fake import uuid4_string
from ..jsonio import encode
from ..pagination import BadCursor, decode_cursor, encode_cursor, parse_per_page
from ..table import Table
from ..world import PHRASES, SEED_END, SEED_START, SUBJECTS, WORKSPACE_ID
from . import Domain

if TYPE_CHECKING:
    from ..world import World

# Shared helpers -------------------------------------------------------------------------------


def scaled(floor: int, basis: int, divisor: int) -> int:
    """A count that is `floor` at small scale (enough for 3+ pages of 150) and grows with the scale."""
    return max(floor, basis // divisor)


def iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def seeded_table(world: World, kind: str, count: int, id_maker: Callable[[int], str],
                 render: Callable[[int], dict]) -> Table:
    """A domain table of `count` records with the world's usual spread of timestamps."""
    created, updated = world._timestamps(kind, count)
    return world.add_table(kind, [id_maker(i) for i in range(count)], created, updated, render, id_maker)


def build_record(world: World, component: str, table: Table, i: int, fields: dict, timestamps: bool = True) -> dict:
    """A record with every property of `component`, the table's id (and timestamps) and the meaningful `fields`."""
    record = {"id": table.ids[i], "created_at": table.created_at[i], "updated_at": table.updated_at[i]} \
        if timestamps else {"id": table.ids[i]}
    return world.build(component, world.rng(table.kind, i), {**record, **fields})


class LazyEncoded(Sequence):
    """`items` encoded only when a page slices them, so a long list costs one page of rendering."""

    def __init__(self, items: Sequence[Any], encode_one: Callable[[Any], bytes]) -> None:
        self.items = items
        self.encode_one = encode_one

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, slice):
            return [self.encode_one(item) for item in self.items[key]]
        return self.encode_one(self.items[key])


def table_page(api: IntercomApi, request: Request, table: Table, indexes: list[int] | None = None,
               **options: Any) -> Reply:
    """One page-number page of `indexes` (default: the live records in creation order)."""
    indexes = list(table.live()) if indexes is None else indexes
    return api.page_number_list(request, LazyEncoded(indexes, table.encoded), **options)


def whole_list(items: Iterable[bytes], list_type: str = "list") -> Reply:
    """The endpoints that answer every record at once: {"type": …, "data": [...]}."""
    return Reply(200, envelope({"type": list_type}, "data", list(items)))


def live_encoded(table: Table) -> Iterator[bytes]:
    return (table.encoded(i) for i in table.live())


def live_records(table: Table) -> list[dict]:
    return [table.record(i) for i in table.live()]


def newest_first(table: Table) -> list[int]:
    """Live indexes by updated_at descending (the order articles and collections are listed in)."""
    return sorted(table.live(), key=lambda i: (table.updated_at[i], i), reverse=True)


# Workspace ------------------------------------------------------------------------------------

AWAY_REASONS = [("🍕", "On lunch"), ("🏖️", "On vacation"), ("🤒", "Out sick"), ("📞", "In a meeting"),
                ("🌙", "Done for the day"), ("🚗", "Commuting")]
SCHEDULES = [("Standard Support Hours", "America/New_York"), ("EMEA Hours", "Europe/Dublin"),
             ("APAC Hours", "Asia/Tokyo")]
BRANDS = ["Sandbox", "Sandbox Pro", "Café Crème"]
EMAIL_DOMAINS = ["sandbox.example", "sandbox-pro.example", "cafe-creme.example"]
TICKET_TYPES = [("Bug Report", "Customer", "🐞"), ("Feature Request", "Customer", "💡"), ("Refund", "Customer", "💸"),
                ("Access request", "Back-office", "🔑"), ("Data deletion", "Back-office", "🗑️"),
                ("Outage", "Tracker", "🚨")]
DEFAULT_ATTRIBUTES = [("_default_title_", "string"), ("_default_description_", "string")]
CUSTOM_ATTRIBUTES = [("Severity", "list"), ("Steps to reproduce", "string"), ("Affected users", "integer"),
                     ("Refund amount", "decimal"), ("Urgent", "boolean"), ("Due date", "datetime"),
                     ("Screenshots", "files")]
TICKET_STATES = [("submitted", "Submitted", "Submitted"), ("in_progress", "In progress", "In progress"),
                 ("in_progress", "With dev team", "In progress"),
                 ("waiting_on_customer", "Waiting on customer", "Waiting on you"),
                 ("resolved", "Resolved", "Resolved"), ("resolved", "Won't fix", "Resolved")]
ACTIVITY_TYPES = ["admin_login_success", "admin_logout", "admin_away_mode_change", "app_name_change",
                  "macro_creation", "macro_update", "office_hours_change", "app_team_membership_modification",
                  "message_state_change", "role_change", "admin_permission_change", "bulk_export"]
# Custom object type identifier (the URL's) → table/stream name.
CUSTOM_OBJECT_TYPES = {"Order": "custom_object_order", "Delivery": "custom_object_delivery"}


class WorkspaceDomain(Domain):
    def __init__(self, world: World) -> None:
        super().__init__(world)
        s = world.scale
        self.tables = {
            "away_status_reasons": seeded_table(world, "away_status_reasons", len(AWAY_REASONS),
                                                lambda i: str(101_000 + i), self._render_away_status_reason),
            "office_hours_schedules": seeded_table(world, "office_hours_schedules", len(SCHEDULES),
                                                   lambda i: str(102_000 + i), self._render_office_hours),
            # "The default brand id always matches the workspace".
            "brands": seeded_table(world, "brands", len(BRANDS),
                                   lambda i: WORKSPACE_ID if i == 0 else str(103_000 + i), self._render_brand),
            "email_settings": seeded_table(world, "email_settings", 5, lambda i: str(104_000 + i),
                                           self._render_email_setting),
            "macros": seeded_table(world, "macros", scaled(320, s.contacts, 100), lambda i: str(510_000 + i),
                                   self._render_macro),
            "calls": seeded_table(world, "calls", scaled(60, s.conversations, 10), lambda i: str(6_000_000 + i),
                                  self._render_call),
            "ticket_types": seeded_table(world, "ticket_types", len(TICKET_TYPES), lambda i: str(2_100 + i),
                                         self._render_ticket_type),
            "ticket_states": seeded_table(world, "ticket_states", len(TICKET_STATES), lambda i: str(8_300 + i),
                                          self._render_ticket_state),
            "custom_object_order": seeded_table(world, "custom_object_order", scaled(330, s.contacts, 50),
                                                lambda i: str(16_000_000 + i), self._render_order),
            "custom_object_delivery": seeded_table(world, "custom_object_delivery", scaled(310, s.contacts, 60),
                                                   lambda i: str(17_000_000 + i), self._render_delivery),
        }
        self._build_activity_logs(scaled(420, s.contacts, 20))
        self._build_ticket_type_attributes()

    def _build_activity_logs(self, count: int) -> None:
        """A few hundred logs over the seed years; some share one second (bulk actions)."""
        rng = self.world.rng("activity_logs", -1)
        stamps: list[int] = []
        for n in range(count):
            burst = n and rng.random() < 0.15
            stamps.append(stamps[-1] if burst else rng.randrange(SEED_START, SEED_END))
        self.tables["activity_logs"] = self.world.add_table(
            "activity_logs", [self._activity_log_id(i) for i in range(count)], stamps, list(stamps),
            self._render_activity_log, self._activity_log_id)

    def _activity_log_id(self, i: int) -> str:
        return uuid4_string(self.world.rng("activity_log:id", i))

    def _build_ticket_type_attributes(self) -> None:
        """Two default attributes for every type, then one to three custom ones."""
        self.attribute_owner = array("i")  # attribute index → ticket type index
        self.attribute_ordinal = array("i")  # its position among the type's attributes
        for t in range(len(TICKET_TYPES)):
            for ordinal in range(len(DEFAULT_ATTRIBUTES) + 1 + t % 3):
                self.attribute_owner.append(t)
                self.attribute_ordinal.append(ordinal)
        self.tables["ticket_type_attributes"] = seeded_table(
            self.world, "ticket_type_attributes", len(self.attribute_owner), lambda i: str(21_000 + i),
            self._render_ticket_type_attribute)

    def on_create(self, kind: str, i: int) -> None:
        if kind == "ticket_types":  # Intercom gives every new ticket type the two default attributes
            attributes = self.tables["ticket_type_attributes"]
            for ordinal in range(len(DEFAULT_ATTRIBUTES)):
                self._add_attribute(i, ordinal)
                at = self.tables["ticket_types"].created_at[i]
                attributes.append(self.world.id_makers["ticket_type_attributes"](len(attributes)), at, at)
        elif kind == "ticket_type_attributes":  # a new custom attribute of the first ticket type
            self._add_attribute(0, sum(1 for owner in self.attribute_owner if owner == 0))

    def _add_attribute(self, owner: int, ordinal: int) -> None:
        self.attribute_owner.append(owner)
        self.attribute_ordinal.append(ordinal)

    # Renderers ----------------------------------------------------------------------------------

    def _build(self, component: str, kind: str, i: int, fields: dict, timestamps: bool = True) -> dict:
        return build_record(self.world, component, self.tables[kind], i, fields, timestamps)

    def _admin(self, i: int) -> dict:
        admins = self.world.tables["admins"]
        return admins.record(i % len(admins))

    def _render_away_status_reason(self, i: int) -> dict:
        emoji, label = AWAY_REASONS[i % len(AWAY_REASONS)]
        # The list includes deleted reasons; the last seeded one is.
        return self._build("away_status_reason", "away_status_reasons", i, {
            "type": "away_status_reason", "emoji": emoji, "label": label, "order": i + 1,
            "deleted": i == len(AWAY_REASONS) - 1})

    def _render_office_hours(self, i: int) -> dict:
        name, zone = SCHEDULES[i % len(SCHEDULES)]
        start, end = 540 + 60 * (i % 3), 1020 + 60 * (i % 3)  # minutes after midnight
        # Minutes from Monday 00:00, one interval per working day.
        intervals = [{"day_of_week": day, "start_minute": day * 1440 + start, "end_minute": day * 1440 + end}
                     for day in range(5)]
        return self._build("office_hours_schedule", "office_hours_schedules", i, {
            "type": "office_hours_schedule", "name": name, "time_zone_name": zone, "time_intervals": intervals,
            "twenty_four_seven": False})

    def _render_brand(self, i: int) -> dict:
        help_centers = self.world.tables.get("help_centers")
        help_center = help_centers.ids[i % len(help_centers)] if help_centers else str(3_000 + i)
        return self._build("brand", "brands", i, {
            "type": "brand", "name": BRANDS[i % len(BRANDS)], "is_default": i == 0, "help_center_id": help_center,
            "default_address_settings_id": str(104_000 + i)})  # the brand's first sender email

    def _render_email_setting(self, i: int) -> dict:
        brand = i % len(BRANDS)
        domain = EMAIL_DOMAINS[brand]
        return self._build("email_setting", "email_settings", i, {
            "type": "email_setting", "brand_id": self.tables["brands"].ids[brand], "domain": domain,
            "email": f"{['support', 'billing', 'hello', 'team', 'noreply'][i % 5]}@{domain}"})

    def _render_macro(self, i: int) -> dict:
        rng = self.world.rng("macros", i)
        teams = self.world.tables["teams"]
        team_ids = [teams.ids[t] for t in sorted({rng.randrange(len(teams)) for _ in range(2)})] if i % 3 == 0 else []
        topic, phrase = rng.choice(SUBJECTS), rng.choice(PHRASES)
        record = self._build("macro", "macros", i, {
            "type": "macro", "name": f"{topic} #{i}", "created_at": iso(self.tables["macros"].created_at[i]),
            # The API shows placeholders as <attribute/> tags in `body`, as typed in `body_text`.
            "body": f'<p>Hi <attribute key="user.name" default="there"/>, {phrase}</p>',
            "body_text": f'Hi {{{{user.name|fallback:"there"}}}}, {phrase}',
            "visible_to": "specific_teams" if team_ids else "everyone", "visible_to_team_ids": team_ids,
            "available_on": ["inbox", "messenger"] if i % 2 else ["inbox"]})
        del record["updated_at"]  # an ISO string, added when served (the table's column is unix seconds)
        return record

    def macro(self, i: int) -> dict:
        table = self.tables["macros"]
        return {**table.record(i), "updated_at": iso(table.updated_at[i])}

    def _render_activity_log(self, i: int) -> dict:
        rng = self.world.rng("activity_logs", i)
        admin = self._admin(rng.randrange(1_000))
        activity = ACTIVITY_TYPES[i % len(ACTIVITY_TYPES)]
        table = self.tables["activity_logs"]
        record = self.world.build("activity_log", rng, {
            "id": table.ids[i], "created_at": table.created_at[i], "activity_type": activity,
            "activity_description": f"{admin['name']}: {activity.replace('_', ' ')}.",
            "performed_by": {"type": "admin", "id": admin["id"], "email": admin["email"],
                             "ip": f"10.{i % 250}.{rng.randrange(250)}.{rng.randrange(1, 250)}"}})
        metadata = record.get("metadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("admin"), dict):  # the admin who acted
            first, _, last = admin["name"].partition(" ")
            record["metadata"] = {**metadata, "admin": {"id": admin["id"], "first_name": first, "last_name": last}}
        return record

    def _render_call(self, i: int) -> dict:
        rng = self.world.rng("calls", i)
        table = self.tables["calls"]
        w = self.world.tables
        call_id, started = table.ids[i], table.created_at[i]
        answered = started + rng.randrange(5, 60)
        conversation = rng.randrange(len(w["conversations"]))
        return self._build("call", "calls", i, {
            "type": "call", "call_type": "phone", "state": "completed",
            "direction": rng.choice(("inbound", "outbound")),
            "admin_id": w["admins"].ids[i % len(w["admins"])],
            "contact_id": w["contacts"].ids[self.world.conversation_contact[conversation]],
            "conversation_id": w["conversations"].ids[conversation],
            "initiated_at": started, "answered_at": answered, "ended_at": answered + rng.randrange(30, 3_600),
            "ended_reason": "completed", "phone": f"+1415555{i % 10_000:04d}",
            "recording_url": f"https://api.intercom.io/calls/{call_id}/recording",
            "transcription_url": f"https://api.intercom.io/calls/{call_id}/transcript"})

    def _render_ticket_type(self, i: int) -> dict:
        name, category, icon = TICKET_TYPES[i % len(TICKET_TYPES)]
        # ticket_states and ticket_type_attributes are filled in when served, from the live records.
        return self._build("ticket_type", "ticket_types", i, {
            "type": "ticket_type", "name": name, "category": category, "icon": icon, "workspace_id": WORKSPACE_ID,
            "description": f"{name} template", "archived": i == 4, "is_internal": category != "Customer",
            "ticket_states": {"type": "list", "data": []},
            "ticket_type_attributes": {"type": "list", "data": []}})

    def _render_ticket_type_attribute(self, i: int) -> dict:
        owner, ordinal = self.attribute_owner[i], self.attribute_ordinal[i]
        default = ordinal < len(DEFAULT_ATTRIBUTES)
        name, data_type = (DEFAULT_ATTRIBUTES[ordinal] if default
                           else CUSTOM_ATTRIBUTES[(owner + ordinal) % len(CUSTOM_ATTRIBUTES)])
        return self._build("ticket_type_attribute", "ticket_type_attributes", i, {
            "type": "ticket_type_attribute", "ticket_type_id": int(self.tables["ticket_types"].ids[owner]),
            "workspace_id": WORKSPACE_ID, "name": name, "description": f"{name} of the ticket",
            "data_type": data_type, "default": default, "order": ordinal, "archived": False,
            "input_options": {"multiline": name == "_default_description_"}})

    def _render_ticket_state(self, i: int) -> dict:
        category, internal, external = TICKET_STATES[i % len(TICKET_STATES)]
        return self._build("ticket_state_detailed", "ticket_states", i, {
            "type": "ticket_state", "category": category, "internal_label": internal, "external_label": external,
            "archived": False, "ticket_types": {"type": "list", "data": []}}, timestamps=False)

    def _render_order(self, i: int) -> dict:
        rng = self.world.rng("custom_object_order", i)
        created = self.tables["custom_object_order"].created_at[i]
        imported = i % 4 == 0  # some orders came from the shop system, with its own timestamps
        return self._build("custom_object_instance", "custom_object_order", i, {
            "type": "Order", "external_id": f"order_{i:05d}",
            "external_created_at": created - 3_600 if imported else None,
            "external_updated_at": created - 60 if imported else None,
            "custom_attributes": {"order_number": f"ORDER-{10_000 + i}", "total_amount": f"{rng.uniform(5, 900):.2f}",
                                  "currency": rng.choice(("EUR", "USD", "JPY"))}})

    def _render_delivery(self, i: int) -> dict:
        rng = self.world.rng("custom_object_delivery", i)
        orders = len(self.tables["custom_object_order"])
        return self._build("custom_object_instance", "custom_object_delivery", i, {
            "type": "Delivery", "external_id": f"delivery_{i:05d}", "external_created_at": None,
            "external_updated_at": None,
            "custom_attributes": {"order_external_id": f"order_{(i * 7) % orders:05d}",
                                  "carrier": rng.choice(("DHL", "UPS", "La Poste", "ヤマト運輸")),
                                  "tracking_number": f"1Z{rng.getrandbits(40):010X}",
                                  "status": rng.choice(("pending", "in_transit", "delivered"))}})

    # Records as served, with their live relations ---------------------------------------------

    def _type_states(self, t: int) -> list[int]:
        return [s for s in self.tables["ticket_states"].live() if (s + t) % 5 != 2]

    def type_attributes(self, t: int) -> list[dict]:
        attributes = self.tables["ticket_type_attributes"]
        return [attributes.record(a) for a in attributes.live() if self.attribute_owner[a] == t]

    def ticket_type(self, t: int) -> dict:
        states = self.tables["ticket_states"]
        summaries = [{k: states.record(s)[k] for k in ("type", "id", "category", "internal_label", "external_label")}
                     for s in self._type_states(t)]
        # The attributes sit under `data`, as Intercom answers (the 2.16 example and the contract say so);
        # the schema names that property `ticket_type_attributes` but requires neither, so both validate.
        return {**self.tables["ticket_types"].record(t),
                "ticket_states": {"type": "list", "data": summaries},
                "ticket_type_attributes": {"type": "list", "data": self.type_attributes(t)}}

    def ticket_state(self, s: int) -> dict:
        types = self.tables["ticket_types"]
        summaries = [{k: types.record(t)[k] for k in ("type", "id", "name", "description", "icon", "category",
                                                        "archived", "is_internal")}
                     for t in types.live() if s in self._type_states(t)]
        return {**self.tables["ticket_states"].record(s), "ticket_types": {"type": "list", "data": summaries}}

    # Ground truth ------------------------------------------------------------------------------

    def ground_truth(self, stream: str) -> list[dict] | None:
        if stream == "macros":
            return [self.macro(i) for i in self.tables["macros"].live()]
        if stream == "ticket_types":
            return [self.ticket_type(t) for t in self.tables["ticket_types"].live()]
        if stream == "ticket_type_attributes":
            return [a for t in self.tables["ticket_types"].live() for a in self.type_attributes(t)]
        if stream == "ticket_states":
            return [self.ticket_state(s) for s in self.tables["ticket_states"].live()]
        if stream in self.tables:
            return live_records(self.tables[stream])
        return None

    # Endpoints ---------------------------------------------------------------------------------

    def routes(self, api: IntercomApi) -> list:
        def listed(kind: str, list_type: str = "list"):
            return lambda request: whole_list(live_encoded(self.tables[kind]), list_type)
        return [
            ("GET", r"/away_status_reasons", listed("away_status_reasons")),
            ("GET", r"/office_hours_schedules", listed("office_hours_schedules", "office_hours_schedule.list")),
            ("GET", r"/brands", listed("brands")),
            ("GET", r"/emails", listed("email_settings")),
            ("GET", r"/ticket_types", lambda request: whole_list(
                encode(self.ticket_type(t)) for t in self.tables["ticket_types"].live())),
            ("GET", r"/ticket_states", lambda request: whole_list(
                encode(self.ticket_state(s)) for s in self.tables["ticket_states"].live())),
            ("GET", r"/macros", self.list_macros),
            ("GET", r"/admins/activity_logs", lambda request: self.activity_logs(api, request, request.query)),
            ("POST", r"/admins/activity_logs/search", lambda request: self.search_activity_logs(api, request)),
            ("GET", r"/calls", lambda request: table_page(api, request, self.tables["calls"], default=25,
                                                                 maximum=25)),
            ("GET", r"/custom_object_instances/(?P<type_name>[^/]+)",
             lambda request, type_name: self.custom_objects(api, request, type_name)),
        ]

    def list_macros(self, request: Request) -> Reply:
        """Ordered by (updated_at, id) ascending, as the contract with the tap says (the 2.16 text
        says descending); the cursor is [updated_at, id] of the page's last macro."""
        table = self.tables["macros"]
        per_page = parse_per_page(request.query.get("per_page"), 50, 150)
        since = request.query.get("updated_since")
        # "updated after this time": strictly greater, a macro updated at `since` itself is left out.
        low = int(since) + 1 if since else None
        keys = sorted((table.updated_at[i], i) for i in table.live() if low is None or table.updated_at[i] >= low)
        start = 0
        if request.query.get("starting_after"):
            cursor = decode_cursor(request.query["starting_after"])
            if not (isinstance(cursor, list) and len(cursor) == 2 and str(cursor[1]) in table.index):
                raise BadCursor(f"starting_after {request.query['starting_after']!r} is not a cursor this API issued")
            start = bisect.bisect_right(keys, (int(cursor[0]), table.index[str(cursor[1])]))
        chosen = keys[start:start + per_page]
        last = chosen[-1] if chosen and start + per_page < len(keys) else None
        pages = {"type": "pages", "per_page": per_page,
                 "next": {"starting_after": encode_cursor([last[0], table.ids[last[1]]])} if last else None}
        items = [encode(self.macro(i)) for _, i in chosen]
        return Reply(200, envelope({"type": "list", "pages": pages}, "data", items))

    def activity_logs(self, api: IntercomApi, request: Request, options: dict,
                      event_types: list[str] | None = None) -> Reply:
        """Newest first; created_at_after and created_at_before are inclusive bounds."""
        if options.get("created_at_after") in (None, ""):
            raise ApiError(400, "parameter_not_found", "created_at_after is a required parameter")
        low = int(options["created_at_after"])
        high = int(options["created_at_before"]) if options.get("created_at_before") not in (None, "") else None
        table = self.tables["activity_logs"]
        created = table.created_at
        chosen = [i for i in table.live() if low <= created[i] and (high is None or created[i] <= high)
                  and (not event_types or table.record(i)["activity_type"] in event_types)]
        chosen.sort(key=lambda i: (created[i], i), reverse=True)
        return table_page(api, request, table, chosen, list_key="activity_logs", envelope_type="activity_log.list",
                          default=20, maximum=250)

    def search_activity_logs(self, api: IntercomApi, request: Request) -> Reply:
        body = request.body
        if not isinstance(body, dict):
            raise ApiError(400, "parameter_invalid", "The request body must be a JSON object")
        paging = {key: str(body[key]) for key in ("page", "per_page") if body.get(key) is not None}
        # page and per_page come in the body: the page helper reads them from the query.
        return self.activity_logs(api, replace(request, query=paging), body, body.get("event_types"))

    def custom_objects(self, api: IntercomApi, request: Request, type_name: str) -> Reply:
        kind = CUSTOM_OBJECT_TYPES.get(type_name)
        if kind is None:
            raise not_found(f"Custom object type {type_name} not found")
        return table_page(api, request, self.tables[kind], default=20, style="pages_link")
