"""Singer output: the SDK's msgspec writer, RECORD lines gathered into large writes.

Writing each line costs a system call (and hands the interpreter to another thread); RECORD
lines are gathered up to 256 KB and written with the next message of another kind (STATE,
SCHEMA, ACTIVATE_VERSION …), which therefore always reaches the target after the records it
covers, and at once.
"""

from __future__ import annotations

import atexit
import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import RecordMessage

GATHER_BYTES = 256 * 1024


class SingerWriter(MsgSpecWriter):
    def __init__(self) -> None:
        super().__init__()
        self._gathered = bytearray()
        atexit.register(self.flush)  # records after the last STATE still go out at exit

    def write_message(self, message) -> None:
        self._gathered += self.format_message(message)
        if not isinstance(message, RecordMessage) or len(self._gathered) >= GATHER_BYTES:
            self.flush()

    def flush(self) -> None:
        if self._gathered:
            sys.stdout.buffer.write(self._gathered)
            self._gathered.clear()
        sys.stdout.flush()
