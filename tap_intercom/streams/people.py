"""People: contacts and companies, and what hangs off them.

contact_tags and contact_companies come from the lists each contact carries and cost a
request only for a contact whose list Intercom truncated. The other children cost one
request (or one paged list) per contact or company and are opt-in.
"""

from __future__ import annotations

from ..mechanics import DetailChildStream, EmbeddedChildStream, IntercomStream, ScrollStream, SearchStream


class ContactsStream(SearchStream):
    name = "contacts"
    path = "/contacts/search"
    permission = "Read and list users and companies"
    day_grain_dates = True  # contacts search matches dates by calendar day
    child_key = "contact_id"
    custom_attributes = ("custom_attributes", "contact")


class CompaniesStream(ScrollStream):
    name = "companies"
    path = "/companies/scroll"
    permission = "Read and list users and companies"
    child_key = "company_id"
    custom_attributes = ("custom_attributes", "company")


class ContactChild(DetailChildStream):
    parent_stream_type = ContactsStream
    parent_key = "contact_id"
    primary_keys = ("contact_id", "id")
    permission = "Read and list users and companies"


class CompanyChild(DetailChildStream):
    parent_stream_type = CompaniesStream
    parent_key = "company_id"
    primary_keys = ("company_id", "id")
    permission = "Read and list users and companies"


class CompanySegmentsStream(CompanyChild):
    name = "company_segments"
    path = "/companies/{company_id}/segments"


class ContactTagsStream(EmbeddedChildStream, ContactChild):
    name = "contact_tags"
    path = "/contacts/{contact_id}/tags"
    embedded_field = "tags"
    permission = "Read tags"


class ContactCompaniesStream(EmbeddedChildStream, ContactChild):
    name = "contact_companies"
    path = "/contacts/{contact_id}/companies"
    records_key = ("companies", "data")  # the schema's name, then its own example's
    embedded_field = "companies"
    custom_attributes = ("custom_attributes", "company")
    paged = True


class ContactSegmentsStream(ContactChild):
    name = "contact_segments"
    path = "/contacts/{contact_id}/segments"
    permission = "Read segments"
    selected_by_default = False


class ContactSubscriptionsStream(ContactChild):
    name = "contact_subscriptions"
    path = "/contacts/{contact_id}/subscriptions"
    selected_by_default = False


class ContactNotesStream(ContactChild):
    name = "contact_notes"
    path = "/contacts/{contact_id}/notes"
    primary_keys = ("id",)
    paged = True
    selected_by_default = False


class DataEventsStream(ContactChild):
    """A summary per event name of each contact (Intercom keeps single events for 90 days only)."""

    name = "data_events"
    path = "/events"
    records_key = "events"
    primary_keys = ("contact_id", "name")
    permission = "Read events"
    selected_by_default = False

    def get_url_params(self, context, next_page_token):
        return {"type": "user", "intercom_user_id": context["contact_id"], "summary": "true"}


class CompanyContactsStream(CompanyChild):
    name = "company_contacts"
    path = "/companies/{company_id}/contacts"
    paged = True
    custom_attributes = ("custom_attributes", "contact")
    selected_by_default = False


class CompanyNotesStream(CompanyChild):
    name = "company_notes"
    path = "/companies/{company_id}/notes"
    since = "2.15"
    primary_keys = ("id",)
    paged = True
    selected_by_default = False


class SubscriptionTypesStream(IntercomStream):
    name = "subscription_types"
    path = "/subscription_types"
    permission = "Read and list users and companies"
