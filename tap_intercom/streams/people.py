"""People: contacts and companies, and what hangs off them."""

from __future__ import annotations

from ..mechanics import DetailChildStream, ScrollStream, SearchStream


class ContactsStream(SearchStream):
    name = "contacts"
    path = "/contacts/search"
    permission = "Read and list users and companies"
    day_grain_dates = True  # contacts search matches dates by calendar day


class CompaniesStream(ScrollStream):
    name = "companies"
    path = "/companies/scroll"
    permission = "Read and list users and companies"

    def get_child_context(self, record: dict, context: dict | None) -> dict:
        return {"company_id": record["id"]}


class CompanySegmentsStream(DetailChildStream):
    name = "company_segments"
    parent_stream_type = CompaniesStream
    parent_key = "company_id"
    path = "/companies/{company_id}/segments"
    primary_keys = ("company_id", "id")
    permission = "Read and list users and companies"
