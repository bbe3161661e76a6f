"""The workspace: its admins, teams, tags, segments and attribute definitions."""

from __future__ import annotations

from ..mechanics import IntercomStream


class AdminsStream(IntercomStream):
    name = "admins"
    path = "/admins"
    records_key = "admins"
    permission = "Read admins"


class TeamsStream(IntercomStream):
    name = "teams"
    path = "/teams"
    records_key = "teams"
    permission = "Read admins"


class TagsStream(IntercomStream):
    name = "tags"
    path = "/tags"
    permission = "Read tags"


class SegmentsStream(IntercomStream):
    name = "segments"
    path = "/segments"
    records_key = "segments"
    permission = "Read segments"

    def get_url_params(self, context, next_page_token):
        return {"include_count": "true"}


class ContactAttributesStream(IntercomStream):
    name = "contact_attributes"
    path = "/data_attributes"
    # Only custom attributes have an id in 2.16, and `name` repeats (name, plan.name).
    primary_keys = ("model", "full_name")
    permission = "Read data attributes"

    def get_url_params(self, context, next_page_token):
        return {"model": "contact", "include_archived": "true"}


class CompanyAttributesStream(ContactAttributesStream):
    name = "company_attributes"

    def get_url_params(self, context, next_page_token):
        return {"model": "company", "include_archived": "true"}


class ConversationAttributesStream(IntercomStream):
    name = "conversation_attributes"
    path = "/conversations/attributes"  # 2.16: /data_attributes?model=conversation is gone
    permission = "Read conversations"

    def get_url_params(self, context, next_page_token):
        return {"include_archived": "true"}
