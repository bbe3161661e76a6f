"""Tickets, their parts, and the workspace's ticket types, attributes and states."""

from __future__ import annotations

from collections.abc import Iterable

from ..mechanics import EmbeddedChildStream, IntercomStream, SearchStream, thread_parts


class TicketsStream(SearchStream):
    name = "tickets"
    path = "/tickets/search"
    records_key = "tickets"
    permission = "Read tickets"
    custom_attributes = ("ticket_attributes", "ticket")
    child_key = "ticket_id"  # the ticket's `id` (GET /tickets/{id}), not its inbox number `ticket_id`


class TicketPartsStream(EmbeddedChildStream):
    """Each changed ticket's parts, from the ticket itself; GET /tickets/{id} only when truncated."""

    name = "ticket_parts"
    parent_stream_type = TicketsStream
    parent_key = "ticket_id"
    path = "/tickets/{ticket_id}"
    embedded_field = moved_from_parent = "ticket_parts"
    embedded_items = "ticket_parts"
    permission = "Read tickets"

    def parse_response(self, response) -> Iterable[dict]:
        return thread_parts(self, response.intercom_json, "ticket_parts")


class TicketTypesStream(IntercomStream):
    name = "ticket_types"
    path = "/ticket_types"
    records_key = ("data", "ticket_types")  # answers say `data`; 2.11's schema says `ticket_types`
    permission = "Read tickets"
    child_key = "ticket_type_id"


class TicketTypeAttributesStream(EmbeddedChildStream):
    """The attributes each ticket type carries (never truncated: no request of its own)."""

    name = "ticket_type_attributes"
    parent_stream_type = TicketTypesStream
    parent_key = "ticket_type_id"
    path = "/ticket_types/{ticket_type_id}"
    embedded_field = moved_from_parent = "ticket_type_attributes"
    permission = "Read tickets"

    def embedded_list(self, parent: dict) -> list[dict] | None:
        # Intercom's answers hold the list under `data`; the 2.16 schema names it `ticket_type_attributes`.
        listing = parent.get(self.embedded_field) or {}
        items = listing.get("data", listing.get("ticket_type_attributes"))
        return items if isinstance(items, list) else None

    def parse_response(self, response) -> Iterable[dict]:
        return self.embedded_list(response.intercom_json) or []


class TicketStatesStream(IntercomStream):
    name = "ticket_states"
    path = "/ticket_states"
    since = "2.14"
    permission = "Read tickets"
