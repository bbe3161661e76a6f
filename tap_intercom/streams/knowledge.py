"""The knowledge base and outbound content: articles, help centers, news, snippets, custom objects.

None of these lists can filter by time, and each costs a handful of requests, so every
sync reads them whole (full table, with ACTIVATE_VERSION so deletions reach the target).
"""

from __future__ import annotations

import re

from ..mechanics import SCHEMAS, IntercomStream, PageNumberStream, WorkspaceSchema


class ArticlesStream(PageNumberStream):
    name = "articles"
    path = "/articles"
    permission = "Read articles"


class InternalArticlesStream(PageNumberStream):
    name = "internal_articles"
    path = "/internal_articles"
    since = "2.14"
    permission = "Read articles"


class HelpCentersStream(IntercomStream):
    name = "help_centers"
    path = "/help_center/help_centers"
    permission = "Read articles"


class HelpCenterCollectionsStream(PageNumberStream):
    name = "help_center_collections"
    path = "/help_center/collections"
    permission = "Read articles"


class NewsItemsStream(PageNumberStream):
    name = "news_items"
    path = "/news/news_items"
    permission = "Read news"


class NewsfeedsStream(PageNumberStream):
    name = "newsfeeds"
    path = "/news/newsfeeds"
    permission = "Read news"


class ContentSnippetsStream(PageNumberStream):
    name = "content_snippets"
    path = "/content_snippets"
    since = "2.16"
    max_page_size = 50
    permission = "Read content snippets"


class CustomObjectStream(PageNumberStream):
    """The instances of one custom object type (setting `custom_object_types`)."""

    schema = WorkspaceSchema(SCHEMAS, key="custom_object_instance")
    permission = "Read custom objects"
    since = "2.14"

    def __init__(self, tap, identifier: str) -> None:
        self.identifier = identifier
        super().__init__(tap, name=custom_object_stream_name(identifier), path=f"/custom_object_instances/{identifier}")


def custom_object_stream_name(identifier: str) -> str:
    """`custom_object_<identifier>`, lower case, anything but letters and digits as `_` (a valid table name)."""
    return "custom_object_" + re.sub(r"[^0-9a-z]+", "_", identifier.lower()).strip("_")
