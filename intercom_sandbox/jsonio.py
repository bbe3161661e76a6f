"""Fast JSON encoding for responses (msgspec when present, the standard library otherwise)."""

from __future__ import annotations

import json
from typing import Any

try:
    import msgspec

    _encoder = msgspec.json.Encoder()
    _decoder = msgspec.json.Decoder()

    def encode(value: Any) -> bytes:
        return _encoder.encode(value)

    def decode(data: bytes) -> Any:
        return _decoder.decode(data)

except ImportError:  # pragma: no cover - msgspec ships with the project's dependencies

    def encode(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()

    def decode(data: bytes) -> Any:
        return json.loads(data)


def join_array(items: list[bytes]) -> bytes:
    """A JSON array from already encoded items, without decoding them again."""
    return b"[" + b",".join(items) + b"]"
