"""TableSource: the entry of a table's changes (DML) into the stream graph.

Its input is fed by the session with the change rows of each acknowledged DML
statement, each followed by an `Offset` marker (the statement's sequence number
in the table's durable DML log), and by the barrier manager with barriers. On a
checkpoint barrier it stages the last offset it passed, so that recovery replays
exactly the statements after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator, Protocol

from executor.message import Barrier, Chunk, Message


@dataclass(frozen=True, slots=True)
class Offset:
    seq: int


class OffsetSink(Protocol):
    def stage_offset(self, epoch: int, source: str, value: str) -> None: ...


class TableSource:
    def __init__(self, table_id: int, sink: OffsetSink | None, offset: int = 0) -> None:
        self.table_id = table_id
        self.sink = sink
        self.offset = offset
        self.rows_read = 0

    async def execute(self, input: AsyncIterator[Message | Offset]) -> AsyncIterator[Message]:
        async for msg in input:
            match msg:
                case Chunk():
                    self.rows_read += len(msg.rows)
                    yield msg
                case Offset():
                    self.offset = msg.seq
                case Barrier():
                    if msg.is_checkpoint and self.sink is not None:
                        self.sink.stage_offset(msg.epoch, f"table:{self.table_id}",
                                               str(self.offset))
                    yield msg
                case _:
                    yield msg
