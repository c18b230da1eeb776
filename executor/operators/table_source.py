"""TableSource: the entry of a table's changes (DML) into the stream graph.

Its input is fed by the session with the change rows of each acknowledged DML
statement, each followed by an `Offset` marker (the statement's sequence number
in the table's durable DML log), and by the barrier manager with barriers. On a
checkpoint barrier it stages the last offset it passed (plus the rows of the next
statement it already passed, when a large statement spans the barrier), so that
recovery replays exactly what comes after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator, Protocol

from executor.message import Barrier, Chunk, Message


@dataclass(frozen=True, slots=True)
class Offset:
    seq: int


def format_offset(seq: int, partial: int) -> str:
    """A table's committed position: the last whole statement, and ":rows" when the
    next statement's first rows are already in the committed state."""
    return f"{seq}:{partial}" if partial else str(seq)


def parse_offset(text: str | None) -> tuple[int, int]:
    if not text:
        return 0, 0
    seq, _, partial = text.partition(":")
    return int(seq), int(partial or 0)


class OffsetSink(Protocol):
    def stage_offset(self, epoch: int, source: str, value: str) -> None: ...


class TableSource:
    def __init__(self, table_id: int, sink: OffsetSink | None, offset: int = 0,
                 partial: int = 0) -> None:
        self.table_id = table_id
        self.sink = sink
        self.offset = offset
        # Rows of statement offset+1 already passed: a large statement spans barriers,
        # and recovery must replay only the rest of it.
        self.partial = partial
        self.rows_read = 0

    async def execute(self, input: AsyncIterator[Message | Offset]) -> AsyncIterator[Message]:
        async for msg in input:
            match msg:
                case Chunk():
                    self.rows_read += len(msg.rows)
                    self.partial += len(msg.rows)
                    yield msg
                case Offset():
                    self.offset = msg.seq
                    self.partial = 0
                case Barrier():
                    if msg.is_checkpoint and self.sink is not None:
                        self.sink.stage_offset(msg.epoch, f"table:{self.table_id}",
                                               format_offset(self.offset, self.partial))
                    yield msg
                case _:
                    yield msg
