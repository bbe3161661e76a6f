"""How big a sandbox workspace is: named scales and explicit counts."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Scale:
    contacts: int
    companies: int
    conversations: int
    parts_per_conversation: int
    tickets: int
    admins: int = 12
    teams: int = 4
    tags: int = 24
    segments: int = 10
    # Conversations whose part count exceeds the API's 500-part cap on GET /conversations/{id}.
    long_conversations: int = 1

    def with_counts(self, **counts: int | None) -> Scale:
        """This scale with the given counts replaced (None leaves a count as it is)."""
        known = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in counts.items() if v is not None and k in known})


SCALES = {
    # CI: builds in well under a second, still crosses every page boundary.
    "small": Scale(contacts=400, companies=120, conversations=200, parts_per_conversation=6, tickets=60),
    # The benchmark workload named in the README.
    "standard": Scale(contacts=20_000, companies=5_000, conversations=10_000, parts_per_conversation=12, tickets=2_000),
    # Memory and endurance: records are rendered on demand, never all at once.
    "large": Scale(
        contacts=200_000, companies=50_000, conversations=100_000, parts_per_conversation=12, tickets=20_000
    ),
}
