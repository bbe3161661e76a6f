"""The API versions the sandbox answers: the endpoints each has, and where their answers differ.

A version answers only the operations its own description has (versions.json, bundled from
`openapi/`); any other path is a 404, as Intercom answers a path it does not know. The world
keeps records in 2.16's shapes; `shaped` gives a record as an older version answers it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .fake import load_bundled

VERSIONS = ("2.11", "2.14", "2.15", "2.16")
DEFAULT_VERSION = "2.16"  # when a request names none
# A path parameter: {contact_id} in a description, (?P<contact_id>[^/]+) in a sandbox route.
PARAMETER = re.compile(r"\{[^}]+\}|\(\?P<[^>]+>\[\^/\]\+\)")


def check_version(version: str) -> str:
    if version not in VERSIONS:
        raise ValueError(f"API version {version!r} is not served here; served: {', '.join(VERSIONS)}")
    return version


@lru_cache(maxsize=None)
def operations(version: str) -> frozenset[str]:
    """"GET /contacts/{}" for every operation of the version's description."""
    return frozenset(PARAMETER.sub("{}", op) for op in load_bundled("versions.json")[version]["operations"])


def serves(version: str, method: str, route: str) -> bool:
    """Whether `version` has the operation a sandbox route (its path regex) answers."""
    return f"{method} {PARAMETER.sub('{}', route)}" in operations(version)


def shaped(kind: str, record: Any, version: str) -> Any:
    """A record of `kind` (a table or stream name) as `version` answers it."""
    if version == "2.11" and kind == "tickets" and isinstance(record.get("ticket_state"), dict):
        # 2.11 declares the state a string, its category, beside top-level labels (which tickets always carry).
        return {**record, "ticket_state": record["ticket_state"]["category"]}
    return record
