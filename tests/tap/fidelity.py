"""Leaf-by-leaf comparison of what the sandbox served with what the tap emitted.

A value may differ only by the tap's documented conversions: unix seconds → ISO 8601, ids →
strings, 0/1 → booleans, and in export files (CSV, where nothing else says "no value") an
empty cell → null. A record may lack only the lists the tap moves to child streams, and
carry only the keys the tap adds (the parent's id, an export row's window and row number).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

MOVED_TO_CHILDREN = {"conversation_parts", "ticket_parts", "ticket_type_attributes"}
ADDED_BY_TAP = {"export_window_start", "export_window_end", "row_number"}


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def same_moment(seconds: Any, iso: str) -> bool:
    try:
        parsed = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return False
    seconds = float(seconds)
    if seconds > 100_000_000_000:  # milliseconds
        seconds /= 1000
    return abs(parsed.timestamp() - seconds) < 1e-3


def converted(served: Any, emitted: Any) -> bool:
    """Whether `emitted` is `served` after one of the tap's conversions."""
    if isinstance(emitted, str) and is_number(served):
        return emitted == str(served) or same_moment(served, emitted)
    if isinstance(emitted, str) and isinstance(served, str) and served.isdigit():
        return same_moment(int(served), emitted)
    if isinstance(emitted, bool) and served in (0, 1) and not isinstance(served, bool):
        return emitted is bool(served)
    return False


def differences(served: Any, emitted: Any, path: str = "", *, top: bool = True,
                added: frozenset[str] = frozenset(), csv: bool = False) -> list[str]:
    """Where `emitted` is not `served` up to the documented conversions (empty: the same)."""
    if isinstance(served, dict):
        if not isinstance(emitted, dict):
            return [f"{path or '.'}: served an object, emitted {emitted!r:.60}"]
        found = []
        for key, value in served.items():
            if key not in emitted:
                if not (top and key in MOVED_TO_CHILDREN):
                    found.append(f"{path}.{key}: missing")
            else:
                found += differences(value, emitted[key], f"{path}.{key}", top=False, csv=csv)
        extra = set(emitted) - set(served) - ((added | ADDED_BY_TAP) if top else set())
        found += [f"{path}.{key}: not served" for key in sorted(extra)]
        return found
    if isinstance(served, list):
        if not isinstance(emitted, list) or len(emitted) != len(served):
            return [f"{path}: served a list of {len(served)}, emitted {emitted!r:.60}"]
        return [d for index, (s, e) in enumerate(zip(served, emitted))
                for d in differences(s, e, f"{path}[{index}]", top=False)]
    if served == emitted and type(served) is type(emitted) or (is_number(served) and served == emitted
                                                               and is_number(emitted)):
        return []
    if converted(served, emitted) or (csv and served == "" and emitted is None):
        return []
    return [f"{path}: served {served!r:.60}, emitted {emitted!r:.60}"]
