"""The workspace: admins, teams, tags, segments, attribute definitions, settings, macros and the
admins' activity log."""

from __future__ import annotations

from collections.abc import Iterable


from ..mechanics import DAY, IntercomStream, PageNumbers, StartingAfterCursor, parse_datetime, utc_now


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
    since = "2.16"

    def get_url_params(self, context, next_page_token):
        return {"include_archived": "true"}


class AwayStatusReasonsStream(IntercomStream):
    name = "away_status_reasons"
    path = "/away_status_reasons"
    permission = "Read admins"
    since = "2.14"


class OfficeHoursSchedulesStream(IntercomStream):
    name = "office_hours_schedules"
    path = "/office_hours_schedules"
    permission = "Read admins"
    since = "2.16"


class BrandsStream(IntercomStream):
    name = "brands"
    path = "/brands"
    permission = "Read brands"
    since = "2.15"


class EmailSettingsStream(IntercomStream):
    name = "email_settings"
    path = "/emails"
    permission = "Read email settings"
    since = "2.15"


class MacrosStream(IntercomStream):
    """Saved replies, incremental through `updated_since` (Intercom keeps macros updated after it)."""

    name = "macros"
    path = "/macros"
    replication_key = "updated_at"
    permission = "Read macros"
    since = "2.16"

    def get_new_paginator(self):
        return StartingAfterCursor(None)

    def get_url_params(self, context, next_page_token):
        params: dict = {"per_page": self.page_size}
        start = self.get_starting_timestamp(context)
        if start:
            lookback = int(self.config.get("lookback_window_days") or 0) * DAY
            # "after" is strict: one second earlier keeps the bookmark's own second (at-least-once).
            params["updated_since"] = max(0, int(start.timestamp()) - lookback - 1)
        if next_page_token:
            params["starting_after"] = next_page_token
        return params


class ActivityLogsStream(IntercomStream):
    """What admins did, read in windows of `created_at` that advance the bookmark one by one.

    Each window is read whole and emitted oldest first, so a sync stopped half-way resumes
    at the last finished window. The upper bound is frozen when the sync starts, so the
    pages of a window never shift under the reader.
    """

    name = "activity_logs"
    path = "/admins/activity_logs/search"
    since = "2.16"  # the search; GET /admins/activity_logs before it pages differently
    http_method = "POST"
    records_key = "activity_logs"
    replication_key = "created_at"
    is_sorted = True
    max_page_size = 250
    window_days = 30
    permission = "Read admins"

    def get_new_paginator(self):
        return PageNumbers(self.list_keys)

    def request_records(self, context: dict | None) -> Iterable[dict]:
        start = self.get_starting_timestamp(context)
        first = int(start.timestamp()) if start else 0
        if first and self.stream_state.get("replication_key_value"):
            first -= int(self.config.get("lookback_window_days") or 0) * DAY
        end = self.config.get("end_date")
        last = int((min(utc_now(), parse_datetime(end)) if end else utc_now()).timestamp())
        days = self.window_days
        while first <= last:
            self.window = (first, min(last, first + days * DAY - 1))
            records = sorted(super().request_records(context), key=lambda r: r.get("created_at") or 0)
            yield from records
            # Empty stretches (years before the workspace existed) are crossed in growing steps.
            days = self.window_days if records else min(days * 2, 12 * self.window_days)
            first = self.window[1] + 1

    def prepare_request_payload(self, context, next_page_token) -> dict:
        return {"created_at_after": self.window[0], "created_at_before": self.window[1],
                "page": next_page_token or 1, "per_page": self.page_size}
