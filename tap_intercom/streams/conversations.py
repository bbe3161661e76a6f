"""Conversations and every part (message, note, assignment …) in them."""

from __future__ import annotations

from collections.abc import Iterable

from ..mechanics import DetailChildStream, SearchStream


class ConversationsStream(SearchStream):
    name = "conversations"
    path = "/conversations/search"
    records_key = "conversations"
    permission = "Read conversations"

    def get_child_context(self, record: dict, context: dict | None) -> dict:
        return {"conversation_id": record["id"]}


class ConversationPartsStream(DetailChildStream):
    """Every part of each new or changed conversation, from GET /conversations/{id}."""

    name = "conversation_parts"
    parent_stream_type = ConversationsStream
    parent_key = "conversation_id"
    path = "/conversations/{conversation_id}"
    permission = "Read conversations"

    def records_from(self, detail: dict, context: dict) -> Iterable[dict]:
        listing = detail.get("conversation_parts") or {}
        parts = listing.get("conversation_parts") or []
        total = listing.get("total_count")
        if isinstance(total, int) and total > len(parts):
            # The API returns only the 500 most recent parts of a conversation.
            self.logger.warning("Conversation %s is truncated: Intercom returned %d of its %d parts",
                                context["conversation_id"], len(parts), total)
        return parts
