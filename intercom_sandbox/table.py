"""A large record collection kept small in memory.

Only the columns every endpoint needs (id, created_at, updated_at, liveness) live in
memory for all records; full records are rendered from the seed on demand and kept in a
bounded cache, so a 200,000-contact workspace costs a few tens of megabytes.
"""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from .jsonio import encode

CACHE_LIMIT = 60_000


class Table:
    def __init__(self, kind: str, ids: list[str], created_at: list[int], updated_at: list[int]) -> None:
        self.kind = kind
        self.ids = ids
        self.index = {record_id: i for i, record_id in enumerate(ids)}
        self.created_at = array("q", created_at)
        self.updated_at = array("q", updated_at)
        self.alive = bytearray(b"\x01" * len(ids))
        self.deleted_at: dict[int, int] = {}
        # Records created through the control API are invisible to search until then.
        self.searchable_from: dict[int, int] = {}
        # Fields changed through the control API, laid over the rendered record.
        self.patches: dict[int, dict[str, Any]] = {}
        # Bumped on every change: search results cached for an older version are stale.
        self.version = 0
        self.render: Callable[[int], dict] = lambda i: {"id": self.ids[i]}
        self._cache: OrderedDict[int, tuple[dict, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.ids)

    def live(self) -> Iterator[int]:
        alive = self.alive
        return (i for i in range(len(self.ids)) if alive[i])

    def live_count(self) -> int:
        return self.alive.count(1)

    def find(self, record_id: str) -> int | None:
        i = self.index.get(str(record_id))
        return i if i is not None and self.alive[i] else None

    def _rendered(self, i: int) -> tuple[dict, bytes]:
        with self._lock:
            hit = self._cache.get(i)
            if hit is not None:
                self._cache.move_to_end(i)
                return hit
        record = self.render(i)
        patch = self.patches.get(i)
        if patch:
            # Keys with a leading underscore are the sandbox's own bookkeeping, never served.
            record.update({k: v for k, v in patch.items() if not k.startswith("_")})
        if "updated_at" in record:
            record["updated_at"] = self.updated_at[i]
        entry = (record, encode(record))
        with self._lock:
            self._cache[i] = entry
            if len(self._cache) > CACHE_LIMIT:
                self._cache.popitem(last=False)
        return entry

    def record(self, i: int) -> dict:
        return self._rendered(i)[0]

    def encoded(self, i: int) -> bytes:
        return self._rendered(i)[1]

    def forget(self, i: int) -> None:
        with self._lock:
            self._cache.pop(i, None)
        self.version += 1

    # Changes made by the control API ------------------------------------------------

    def update(self, i: int, at: int, fields: dict[str, Any] | None = None) -> None:
        if fields:
            self.patches.setdefault(i, {}).update(fields)
        self.updated_at[i] = at
        self.forget(i)

    def patch(self, i: int, fields: dict[str, Any]) -> None:
        """Change what a record says without touching its updated_at (the drift control)."""
        self.patches.setdefault(i, {}).update(fields)
        self.forget(i)

    def append(self, record_id: str, at: int, searchable_from: int) -> int:
        i = len(self.ids)
        self.ids.append(record_id)
        self.index[record_id] = i
        self.created_at.append(at)
        self.updated_at.append(at)
        self.alive.append(1)
        if searchable_from > at:
            self.searchable_from[i] = searchable_from
        self.version += 1
        return i

    def delete(self, i: int, at: int) -> None:
        self.alive[i] = 0
        self.deleted_at[i] = at
        self.forget(i)
