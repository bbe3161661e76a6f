"""Cursors and page envelopes shared by the list, search and scroll endpoints."""

from __future__ import annotations

import base64
import json
import math
from typing import Any


class BadCursor(ValueError):
    pass


def encode_cursor(position: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise BadCursor(f"starting_after {cursor!r} is not a cursor this API issued") from exc


def cursor_pages(page: int, per_page: int, total: int, next_cursor: str | None) -> dict:
    """The `cursor_pages` object of list and search answers."""
    pages: dict[str, Any] = {
        "type": "pages",
        "page": page,
        "per_page": per_page,
        "total_pages": max(1, math.ceil(total / per_page)) if per_page else 1,
    }
    if next_cursor is not None:
        pages["next"] = {"per_page": per_page, "starting_after": next_cursor}
    return pages


def parse_per_page(raw: Any, default: int, maximum: int = 150) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"per_page must be an integer, got {raw!r}") from None
    if not 1 <= value <= maximum:
        raise ValueError(f"per_page must be between 1 and {maximum}")
    return value
