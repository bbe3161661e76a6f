"""Conversations, every part (message, note, assignment …) in them, and their tombstones."""

from __future__ import annotations

from collections.abc import Iterable

from ..mechanics import DetailChildStream, PageNumberStream, SearchStream, thread_parts


class ConversationsStream(SearchStream):
    name = "conversations"
    path = "/conversations/search"
    records_key = "conversations"
    permission = "Read conversations"
    child_key = "conversation_id"
    custom_attributes = ("custom_attributes", "conversation")


class ConversationPartsStream(DetailChildStream):
    """Every part of each new or changed conversation, from GET /conversations/{id}."""

    name = "conversation_parts"
    parent_stream_type = ConversationsStream
    parent_key = "conversation_id"
    path = "/conversations/{conversation_id}"
    moved_from_parent = "conversation_parts"  # the search never carries them; a detail answer does
    permission = "Read conversations"

    def parse_response(self, response) -> Iterable[dict]:
        return thread_parts(self, response.intercom_json, "conversation_parts")


class ConversationHandlingEventsStream(DetailChildStream):
    """Opt-in: one request per changed conversation."""

    name = "conversation_handling_events"
    parent_stream_type = ConversationsStream
    parent_key = "conversation_id"
    path = "/conversations/{conversation_id}/handling_events"
    records_key = "handling_events"
    since = "2.15"
    primary_keys = ("conversation_id", "timestamp", "type")
    permission = "Read conversations"
    selected_by_default = False


class DeletedConversationsStream(PageNumberStream):
    """Tombstones of deleted conversations, newest first: reading stops at the bookmark."""

    name = "deleted_conversations"
    path = "/conversations/deleted"
    records_key = "conversations"
    replication_key = "deleted_at"
    max_page_size = 60
    since = "2.16"
    extra_params = {"order": "desc"}
    permission = "Read conversations"

    def request_records(self, context: dict | None) -> Iterable[dict]:
        start = self.get_starting_timestamp(context)
        since = int(start.timestamp()) - int(self.config.get("lookback_window_days") or 0) * 86_400 if start else 0
        for record in super().request_records(context):
            if isinstance(record.get("deleted_at"), int) and record["deleted_at"] < since:
                return  # everything after this was deleted before the bookmark
            yield record


class CallsStream(PageNumberStream):
    name = "calls"
    path = "/calls"
    max_page_size = 25
    since = "2.14"
    permission = "Read calls"

