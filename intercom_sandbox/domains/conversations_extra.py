"""Around conversations: the tombstones of deleted conversations and the teammates' handling
(pause/resume) events of each conversation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..api import ApiError, IntercomApi, Reply, Request, not_found
from ..jsonio import encode
from ..world import SEED_END, SEED_START
from . import Domain
from .workspace import LazyEncoded, iso, scaled

if TYPE_CHECKING:
    from ..world import World

PAUSE_REASONS = ["Paused", "Lunch break", "Waiting on engineering", "Handover", None]


class ConversationsExtraDomain(Domain):
    def __init__(self, world: World) -> None:
        super().__init__(world)
        # Conversations deleted before the sandbox started: ids below every live (or future) one.
        count = scaled(130, world.scale.conversations, 20)
        rng = world.rng("deleted_conversations", -1)
        deleted_at = [rng.randrange(SEED_START, SEED_END) for _ in range(count)]
        self.tombstones = world.add_table("deleted_conversations", [str(90_000_000 + i) for i in range(count)],
                                          deleted_at, list(deleted_at), self._render_tombstone,
                                          lambda i: str(90_000_000 + i))
        # Conversations created through the control API later have no handling history.
        self.seeded_conversations = len(world.tables["conversations"])

    # Deleted conversations ------------------------------------------------------------------------

    def _tombstone(self, kind: str, i: int, record_id: str, deleted_at: int) -> dict:
        return self.world.build("deleted_conversation_item", self.world.rng(kind, i), {
            "type": "conversation", "id": record_id, "deleted_at": deleted_at})

    def _render_tombstone(self, i: int) -> dict:
        return self._tombstone("deleted_conversations", i, self.tombstones.ids[i], self.tombstones.created_at[i])

    def deleted(self) -> list[tuple[int, int, str, int]]:
        """(deleted_at, id, kind, index) of the seeded tombstones and of the conversations deleted since."""
        seeded, conversations = self.tombstones, self.world.tables["conversations"]
        entries = [(seeded.created_at[i], int(seeded.ids[i]), "deleted_conversations", i) for i in seeded.live()]
        entries += [(at, int(conversations.ids[c]), "conversations", c) for c, at in conversations.deleted_at.items()]
        return entries

    def tombstone(self, entry: tuple[int, int, str, int]) -> dict:
        deleted_at, record_id, kind, i = entry
        if kind == "deleted_conversations":
            return self.tombstones.record(i)
        return self._tombstone("deleted_conversation:live", i, str(record_id), deleted_at)

    def list_deleted(self, api: IntercomApi, request: Request) -> Reply:
        order = request.query.get("order") or "desc"
        if order not in ("asc", "desc"):
            raise ApiError(400, "parameter_invalid", f"order must be asc or desc, got {order!r}")
        entries = sorted(self.deleted(), key=lambda e: e[:2], reverse=order == "desc")
        return api.page_number_list(request, LazyEncoded(entries, lambda e: encode(self.tombstone(e))),
                                    list_key="conversations", envelope_type="conversations.list", default=20,
                                    maximum=60, style="pages_link")

    # Handling events ------------------------------------------------------------------------------

    def handling_events(self, c: int) -> list[dict]:
        """0–6 pause/resume events, alternating and minutes to hours apart (so (timestamp, type) is unique)."""
        if c >= self.seeded_conversations:
            return []
        rng = self.world.rng("handling_events", c)
        admins = self.world.tables["admins"]
        at = self.world.tables["conversations"].created_at[c]
        events = []
        for n in range(rng.randrange(7)):
            at += rng.randrange(60, 6 * 3_600)
            admin = admins.record(rng.randrange(len(admins)))
            paused = n % 2 == 0
            events.append(self.world.build("handling_event", rng, {
                "type": "paused" if paused else "resumed", "timestamp": iso(at).replace(".000Z", "Z"),
                "reason": rng.choice(PAUSE_REASONS) if paused else None,
                "teammate": {"type": "admin", "id": int(admin["id"]), "name": admin["name"], "email": admin["email"]}}))
        return events

    def list_handling_events(self, request: Request, conversation_id: str) -> Reply:
        c = self.world.tables["conversations"].find(conversation_id)
        if c is None:
            raise not_found("Conversation Not Found")
        return Reply(200, encode({"handling_events": self.handling_events(c)}))

    # Domain ---------------------------------------------------------------------------------------

    def ground_truth(self, stream: str) -> list[dict] | None:
        if stream == "deleted_conversations":
            return [self.tombstone(entry) for entry in self.deleted()]
        if stream == "conversation_handling_events":
            conversations = self.world.tables["conversations"]
            return [dict(event, conversation_id=conversations.ids[c])
                    for c in conversations.live() for event in self.handling_events(c)]
        return None

    def routes(self, api: IntercomApi) -> list:
        return [
            ("GET", r"/conversations/deleted", lambda request: self.list_deleted(api, request)),
            ("GET", r"/conversations/(?P<conversation_id>[^/]+)/handling_events", self.list_handling_events),
        ]
