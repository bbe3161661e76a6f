"""tap-intercom: the settings and the streams."""

from __future__ import annotations

from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import TapCapabilities

from .mechanics import API_VERSIONS, DEFAULT_API_VERSION, DEFAULT_MAX_CONCURRENCY, for_api_version
from .run import IsolatingTap
from .streams import conversations, exports, knowledge, people, tickets, workspace
from .writer import SingerWriter


class TapIntercom(IsolatingTap):
    """Intercom: contacts, companies, conversations and their parts, tickets, admins, teams, tags,
    segments, notes, events, articles, help center and more, incremental where Intercom allows."""

    name = "tap-intercom"
    capabilities = [*IsolatingTap.capabilities, TapCapabilities.TEST]  # `--test`; `meltano config … test`
    message_writer_class = SingerWriter  # msgspec: several times faster than the json module, same Singer lines

    config_jsonschema = th.PropertiesList(
        th.Property("access_token", th.StringType, required=True, secret=True,
                    description="Intercom access token (Developer Hub → your app → Authentication)."),
        th.Property("start_date", th.DateTimeType,
                    description="Only records updated at or after this moment; absent = all history."),
        th.Property("end_date", th.DateTimeType,
                    description="Only records updated up to this moment (for backfills); absent = now."),
        th.Property("region", th.StringType, default="us", allowed_values=["us", "eu", "au"],
                    description="Where the workspace is hosted: us (api.intercom.io), eu (api.eu.intercom.io) "
                                "or au (api.au.intercom.io)."),
        th.Property("api_url", th.StringType,
                    description="Base URL override (a proxy, or a local sandbox). Plain http:// is accepted "
                                "only for loopback hosts."),
        th.Property("api_version", th.StringType, default=DEFAULT_API_VERSION, allowed_values=list(API_VERSIONS),
                    description="Intercom-Version header sent with every request: one of the versions the tap has "
                                "been shown to read. Streams whose endpoint the version lacks are left out."),
        th.Property("lookback_window_days", th.IntegerType, default=0,
                    description="Re-read this many days before the bookmark on each incremental sync."),
        th.Property("page_size", th.IntegerType,
                    description="At most this many records per page (1–150); absent = the largest page each "
                                "endpoint allows."),
        th.Property("max_concurrency", th.IntegerType, default=DEFAULT_MAX_CONCURRENCY,
                    description="Requests in flight at once: the per-parent children (conversation parts, "
                                "ticket details, notes …), and a quarter as many time slices of a long search "
                                "window. All share one rate-limit budget; 1 = one request at a time, in order."),
        th.Property("rate_limit_share", th.NumberType, default=1,
                    description="The fraction (0 < x ≤ 1) of Intercom's per-window budget (X-RateLimit-Limit) this "
                                "sync may spend, whatever max_concurrency: leave the rest to the workspace's other "
                                "clients."),
        th.Property("fail_fast", th.BooleanType, default=False,
                    description="Stop at the first stream that fails. By default the other streams go on and the "
                                "run fails at the end, naming each failed stream."),
        th.Property("request_timeout", th.NumberType, default=120,
                    description="Seconds before a request is abandoned and retried."),
        th.Property("user_agent", th.StringType, default="tap-intercom",
                    description="User-Agent header sent with every request."),
        th.Property("custom_object_types", th.ArrayType(th.StringType), default=[],
                    description="Custom object type identifiers to export, one stream `custom_object_<identifier>` "
                                "each."),
        th.Property("reporting_datasets", th.ArrayType(th.StringType), default=[],
                    description="Reporting dataset ids to export through `reporting_data_export` (every attribute "
                                "of each), e.g. conversation."),
        th.Property("export_window_days", th.IntegerType, default=30,
                    description="Days covered by one export job (content_data_export, reporting_data_export)."),
        th.Property("export_job_timeout_minutes", th.NumberType, default=60,
                    description="Minutes to wait for one export job before cancelling it and failing."),
        th.Property("emit_activate_version_messages", th.BooleanType, default=True,
                    description="Full-table streams send ACTIVATE_VERSION, so targets can drop rows deleted in "
                                "Intercom."),
    ).to_dict()

    def discover_streams(self):
        return for_api_version(self, [
            workspace.AdminsStream(self),
            workspace.TeamsStream(self),
            workspace.TagsStream(self),
            workspace.SegmentsStream(self),
            workspace.ContactAttributesStream(self),
            workspace.CompanyAttributesStream(self),
            workspace.ConversationAttributesStream(self),
            workspace.AwayStatusReasonsStream(self),
            workspace.OfficeHoursSchedulesStream(self),
            workspace.BrandsStream(self),
            workspace.EmailSettingsStream(self),
            workspace.MacrosStream(self),
            workspace.ActivityLogsStream(self),
            people.ContactsStream(self),
            people.ContactTagsStream(self),
            people.ContactCompaniesStream(self),
            people.ContactSegmentsStream(self),
            people.ContactSubscriptionsStream(self),
            people.ContactNotesStream(self),
            people.DataEventsStream(self),
            people.CompaniesStream(self),
            people.CompanySegmentsStream(self),
            people.CompanyContactsStream(self),
            people.CompanyNotesStream(self),
            people.SubscriptionTypesStream(self),
            conversations.ConversationsStream(self),
            conversations.ConversationPartsStream(self),
            conversations.ConversationHandlingEventsStream(self),
            conversations.DeletedConversationsStream(self),
            conversations.CallsStream(self),
            tickets.TicketsStream(self),
            tickets.TicketPartsStream(self),
            tickets.TicketTypesStream(self),
            tickets.TicketTypeAttributesStream(self),
            tickets.TicketStatesStream(self),
            knowledge.ArticlesStream(self),
            knowledge.InternalArticlesStream(self),
            knowledge.HelpCentersStream(self),
            knowledge.HelpCenterCollectionsStream(self),
            knowledge.NewsItemsStream(self),
            knowledge.NewsfeedsStream(self),
            knowledge.ContentSnippetsStream(self),
            *(knowledge.CustomObjectStream(self, identifier) for identifier in self.config.get("custom_object_types") or []),
            exports.ContentDataExportStream(self),
            exports.ReportingDataExportStream(self),
        ])

if __name__ == "__main__":
    TapIntercom.cli()
