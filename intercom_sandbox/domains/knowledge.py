"""Placeholder: filled in by the work on issue 4."""

from __future__ import annotations

from . import Domain


class KnowledgeDomain(Domain):
    pass
