"""The knowledge base and news: help centers, their collections and articles, internal articles,
news items in newsfeeds, and content snippets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..api import IntercomApi
from ..world import PHRASES, SUBJECTS, WORKSPACE_ID
from . import Domain
from .workspace import (build_record, live_encoded, live_records, newest_first, scaled, seeded_table, table_page,
                        whole_list)

if TYPE_CHECKING:
    from ..world import World

HELP_CENTERS = [("Sandbox Help", "sandbox-help"), ("Sandbox Pro Help", "sandbox-pro-help"),
                ("Centre d'aide", "centre-d-aide")]
COLLECTION_NAMES = ["Getting started", "Billing", "Your account", "Integrations", "Mobile apps", "Sécurité",
                    "Troubleshooting", "API", "よくある質問", "Reports"]
NEWSFEEDS = ["Visitor Feed", "Customer Feed", "Changelog", "Neuigkeiten"]
LABELS = ["Product", "Update", "New", "Fix", "Beta"]


class KnowledgeDomain(Domain):
    def __init__(self, world: World) -> None:
        super().__init__(world)
        s = world.scale
        self.tables = {
            "help_centers": seeded_table(world, "help_centers", len(HELP_CENTERS), lambda i: str(3_000 + i),
                                         self._render_help_center),
            "help_center_collections": seeded_table(world, "help_center_collections", scaled(305, s.contacts, 500),
                                                    lambda i: str(150_000 + i), self._render_collection),
            "articles": seeded_table(world, "articles", scaled(320, s.contacts, 200), lambda i: str(4_000_000 + i),
                                     self._render_article),
            "internal_articles": seeded_table(world, "internal_articles", scaled(310, s.contacts, 400),
                                              lambda i: str(5_000_000 + i), self._render_internal_article),
            "newsfeeds": seeded_table(world, "newsfeeds", scaled(304, s.contacts, 1_000), lambda i: str(60_000 + i),
                                      self._render_newsfeed),
            "news_items": seeded_table(world, "news_items", scaled(315, s.contacts, 400), lambda i: str(70_000 + i),
                                       self._render_news_item),
            "content_snippets": seeded_table(world, "content_snippets", scaled(110, s.contacts, 1_000),
                                             lambda i: str(80_000 + i), self._render_content_snippet),
        }

    # Renderers ----------------------------------------------------------------------------------

    def _build(self, component: str, kind: str, i: int, fields: dict) -> dict:
        return build_record(self.world, component, self.tables[kind], i, fields)

    def _admin_id(self, i: int) -> int:
        admins = self.world.tables["admins"]
        return int(admins.ids[i % len(admins)])

    def _help_center_url(self, h: int) -> str:
        return f"https://intercom.help/{HELP_CENTERS[h % len(HELP_CENTERS)][1]}"

    def _render_help_center(self, i: int) -> dict:
        name, identifier = HELP_CENTERS[i % len(HELP_CENTERS)]
        return self._build("help_center", "help_centers", i, {
            "workspace_id": WORKSPACE_ID, "display_name": name, "identifier": identifier,
            "url": self._help_center_url(i), "default": i == 0, "website_turned_on": True,
            "custom_domain": f"help{i}.sandbox.example" if i % 2 else None,
            "locales": ["en", "fr"] if i == 2 else ["en"]})

    def _collection_help_center(self, c: int) -> int:
        return c % len(HELP_CENTERS)

    def _render_collection(self, i: int) -> dict:
        rng = self.world.rng("help_center_collections", i)
        help_center = self._collection_help_center(i)
        # Collections nest: a sub-collection's parent is an earlier one of the same help center.
        n = len(HELP_CENTERS)
        parent = i - n * rng.randint(1, i // n) if i >= 4 * n and rng.random() < 0.6 else None
        table = self.tables["help_center_collections"]
        name, description = f"{COLLECTION_NAMES[i % len(COLLECTION_NAMES)]} {i}", rng.choice(PHRASES)
        return self._build("collection", "help_center_collections", i, {
            "workspace_id": WORKSPACE_ID, "name": name, "description": description, "order": i // n,
            "default_locale": "en",
            # Only the help center's locale is filled in (the schema lists ~40 locales).
            "translated_content": {"type": "group_translated_content", "en": {
                "type": "group_content", "name": name, "description": description}},
            "help_center_id": int(self.tables["help_centers"].ids[help_center]),
            "parent_id": table.ids[parent] if parent is not None else None,
            "url": f"{self._help_center_url(help_center)}/en/collections/{table.ids[i]}"})

    def _render_article(self, i: int) -> dict:
        rng = self.world.rng("articles", i)
        collections = self.tables["help_center_collections"]
        published = i % 5 != 4
        parent = rng.randrange(len(collections))
        tags = self.world.tables["tags"]
        title = f"{rng.choice(SUBJECTS)} ({i})"
        article_id = self.tables["articles"].ids[i]
        url = f"{self._help_center_url(self._collection_help_center(parent))}/en/articles/{article_id}"
        content = {"title": title, "description": rng.choice(PHRASES), "body": f"<p>{rng.choice(PHRASES)}</p>",
                   "author_id": self._admin_id(i), "created_by_id": self._admin_id(i),
                   "updated_by_id": self._admin_id(i + 1), "state": "published" if published else "draft"}
        # The English content repeats the article's own fields; other locales are left out.
        english = self.world.build("article_content", rng, {
            **content, "type": "article_content", "created_at": self.tables["articles"].created_at[i],
            "updated_at": self.tables["articles"].updated_at[i], "url": url})  # never null in article_content
        parent_ids = [int(collections.ids[parent])] if published or i % 2 else []  # drafts often sit outside any
        # A draft has no public URL (article_list_item.url is nullable).
        return self._build("article_list_item", "articles", i, {
            **content, "type": "article", "workspace_id": WORKSPACE_ID, "default_locale": "en",
            "url": url if published else None,
            "translated_content": {"type": "article_translated_content", "en": english},
            "parent_ids": parent_ids,
            # 2.11 to 2.15 describe one parent beside the list (their examples show it too).
            "parent_id": parent_ids[0] if parent_ids else None, "parent_type": "collection" if parent_ids else None,
            "tags": {"type": "tag.list", "tags": [tags.record(t) for t in sorted({rng.randrange(len(tags))
                                                                                   for _ in range(i % 3)})]}})

    def _render_internal_article(self, i: int) -> dict:
        rng = self.world.rng("internal_articles", i)
        return self._build("internal_article_list_item", "internal_articles", i, {
            "type": "internal_article", "title": f"Internal: {rng.choice(SUBJECTS)} ({i})",
            "body": f"<p>{rng.choice(PHRASES)}</p>", "author_id": self._admin_id(i), "owner_id": self._admin_id(i + 3),
            "locale": "en"})

    def _render_newsfeed(self, i: int) -> dict:
        return self._build("newsfeed", "newsfeeds", i, {"type": "newsfeed",
                                                        "name": f"{NEWSFEEDS[i % len(NEWSFEEDS)]} {i}"})

    def _render_news_item(self, i: int) -> dict:
        rng = self.world.rng("news_items", i)
        feeds = self.tables["newsfeeds"]
        live = i % 4 != 3
        created = self.tables["news_items"].created_at[i]
        # Each news item is published in one or two newsfeeds (drafts in none).
        assignments = [{"newsfeed_id": int(feeds.ids[f]), "published_at": created}
                       for f in sorted({rng.randrange(len(feeds)) for _ in range(1 + i % 2)})] if live else []
        return self._build("news_item", "news_items", i, {
            "type": "news-item", "workspace_id": WORKSPACE_ID, "title": f"{rng.choice(SUBJECTS)} ({i})",
            "body": f"<p>{rng.choice(PHRASES)}</p>", "sender_id": self._admin_id(i),
            "state": "live" if live else "draft",
            "newsfeed_assignments": assignments, "labels": rng.sample(LABELS, i % 3),
            "reactions": ["😆", "😅", "🎉"][: 1 + i % 3]})

    def _render_content_snippet(self, i: int) -> dict:
        rng = self.world.rng("content_snippets", i)
        text = rng.choice(PHRASES)
        return self._build("content_snippet", "content_snippets", i, {
            "type": "content_snippet", "title": f"{rng.choice(SUBJECTS)} ({i})", "locale": "en",
            "json_blocks": [{"type": "paragraph", "text": text}], "body_markdown": f"{text}\n"})

    # Ground truth and endpoints ------------------------------------------------------------------

    def ground_truth(self, stream: str) -> list[dict] | None:
        return live_records(self.tables[stream]) if stream in self.tables else None

    def routes(self, api: IntercomApi) -> list:
        def paged(kind: str, default: int, order=None, **options: Any):
            """A page-number list; `order` gives the live indexes in listing order (default: creation)."""
            table = self.tables[kind]
            return lambda request: table_page(api, request, table, order(table) if order else None,
                                              default=default, **options)

        return [
            # Articles and collections are listed most recently updated first, as the 2.16 text says.
            ("GET", r"/articles", paged("articles", 25, newest_first)),
            ("GET", r"/internal_articles", paged("internal_articles", 25)),
            # help_center_list has no pages object: every help center in one answer.
            ("GET", r"/help_center/help_centers",
             lambda request: whole_list(live_encoded(self.tables["help_centers"]))),
            ("GET", r"/help_center/collections", paged("help_center_collections", 20, newest_first)),
            ("GET", r"/news/news_items", paged("news_items", 10)),
            ("GET", r"/news/newsfeeds", paged("newsfeeds", 10)),
            ("GET", r"/content_snippets", paged("content_snippets", 50, maximum=50, style="top_level")),
        ]
