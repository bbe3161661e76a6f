"""Singer output: the SDK's msgspec writer, flushed at every message but RECORD.

Flushing each RECORD line costs a system call per record; the buffer fills and empties on its
own, and every STATE (and SCHEMA, ACTIVATE_VERSION …) still reaches the target at once.
"""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import RecordMessage


class SingerWriter(MsgSpecWriter):
    def write_message(self, message) -> None:
        sys.stdout.buffer.write(self.format_message(message))
        if not isinstance(message, RecordMessage):
            sys.stdout.flush()
