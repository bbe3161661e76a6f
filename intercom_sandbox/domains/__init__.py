"""Groups of Intercom objects beyond the core ones, each added to the world as a `Domain`.

A domain builds its tables (registered in `world.tables`, so the control API can update,
create and delete its records), serves its endpoints and answers the ground truth of its
streams. The core objects (admins … conversations) live in `world.py` and `api.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..api import IntercomApi
    from ..world import World

Route = tuple[str, str, Any]  # (method, path regex, handler(request, **path groups) -> Reply)


class Domain:
    def __init__(self, world: World) -> None:
        self.world = world

    def ground_truth(self, stream: str) -> list[dict] | None:
        """What a correct sync of `stream` returns right now, or None when the stream is not ours."""
        return None

    def routes(self, api: IntercomApi) -> list[Route]:
        """Endpoints, matched before the core ones (so /conversations/deleted beats /conversations/{id})."""
        return []

    def on_create(self, kind: str, i: int) -> None:
        """A record of `kind` was created through the control API (index `i` in its table)."""

    def control(self, action: str, payload: dict[str, Any]) -> Any:
        """A private control action POST /_sandbox/<action>; raise KeyError when not ours."""
        raise KeyError(action)


def domain_classes() -> list[type[Domain]]:
    # Imported here: the domain modules import the world's helpers.
    from . import conversations_extra, exports, knowledge, people, tickets, workspace

    return [workspace.WorkspaceDomain, knowledge.KnowledgeDomain, conversations_extra.ConversationsExtraDomain,
            tickets.TicketsDomain, people.PeopleDomain, exports.ExportsDomain]
