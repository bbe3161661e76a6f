"""tap-intercom: the settings and the streams."""

from __future__ import annotations

from singer_sdk import Tap
from singer_sdk import typing as th

from .streams import conversations, people, workspace


class TapIntercom(Tap):
    name = "tap-intercom"

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
        th.Property("api_version", th.StringType, default="2.16",
                    description="Intercom-Version header sent with every request."),
        th.Property("lookback_window_days", th.IntegerType, default=0,
                    description="Re-read this many days before the bookmark on each incremental sync."),
        th.Property("page_size", th.IntegerType, default=150,
                    description="Records per page on paginated endpoints (1–150)."),
        th.Property("request_timeout", th.NumberType, default=120,
                    description="Seconds before a request is abandoned and retried."),
        th.Property("user_agent", th.StringType, default="tap-intercom",
                    description="User-Agent header sent with every request."),
    ).to_dict()

    def discover_streams(self):
        return [
            workspace.AdminsStream(self),
            workspace.TeamsStream(self),
            workspace.TagsStream(self),
            workspace.SegmentsStream(self),
            workspace.ContactAttributesStream(self),
            workspace.CompanyAttributesStream(self),
            workspace.ConversationAttributesStream(self),
            people.ContactsStream(self),
            people.CompaniesStream(self),
            people.CompanySegmentsStream(self),
            conversations.ConversationsStream(self),
            conversations.ConversationPartsStream(self),
        ]


if __name__ == "__main__":
    TapIntercom.cli()
