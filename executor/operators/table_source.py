"""TableSource: the entry of a table's changes (DML) into the stream graph.

Its input is fed by the session with the change rows of each acknowledged DML
statement, each followed by an `Offset` marker (the statement's sequence number
in the table's durable DML log), and by the barrier manager with barriers. On a
checkpoint barrier it stages the last offset it passed (plus the rows of the next
statement it already passed, when a large statement spans the barrier), so that
recovery replays exactly what comes after it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, AsyncIterator, Protocol

from executor.message import INSERT, Barrier, Chunk, Message, Watermark


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


def watermark_key(table_id: int) -> str:
    return f"table_watermark:{table_id}"


def format_watermark(value: Any) -> str:
    kind = "ts" if isinstance(value, dt.datetime) else "date"
    return f"{kind}:{value.isoformat()}"


def parse_watermark(text: str | None) -> Any:
    if not text:
        return None
    kind, _, value = text.partition(":")
    return dt.datetime.fromisoformat(value) if kind == "ts" else dt.date.fromisoformat(value)


class OffsetSink(Protocol):
    def stage_offset(self, epoch: int, source: str, value: str) -> None: ...


class TableSource:
    def __init__(self, table_id: int, sink: OffsetSink | None, offset: int = 0,
                 partial: int = 0, watermark: tuple[int, dt.timedelta] | None = None,
                 current_watermark: Any = None) -> None:
        self.table_id = table_id
        # (column, delay) of an APPEND ONLY table's WATERMARK: rows older than the
        # watermark are dropped, and each chunk is followed by the watermark it raised.
        self.watermark = watermark
        self.current_watermark: Any = current_watermark
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
                    if self.watermark is None:
                        yield msg
                        continue
                    chunk, wm = self._watermark(msg)
                    if chunk.rows:
                        yield chunk
                    if wm is not None:
                        yield wm
                case Offset():
                    self.offset = msg.seq
                    self.partial = 0
                case Barrier():
                    if msg.is_checkpoint and self.sink is not None:
                        self.sink.stage_offset(msg.epoch, f"table:{self.table_id}",
                                               format_offset(self.offset, self.partial))
                        if self.current_watermark is not None:
                            # Recovery starts from it: a late row replayed after a crash
                            # is dropped again.
                            self.sink.stage_offset(msg.epoch, watermark_key(self.table_id),
                                                   format_watermark(self.current_watermark))
                    yield msg
                case _:
                    yield msg

    def _watermark(self, chunk: Chunk) -> tuple[Chunk, Watermark | None]:
        """The chunk without its late rows (an append-only table's rows are inserts),
        and the new watermark when its rows raised it."""
        assert self.watermark is not None
        col, delay = self.watermark
        cur = self.current_watermark
        rows = chunk.rows
        if cur is not None:
            rows = [r for r in rows if r[col] is not None and r[col] >= cur]
            if len(rows) != len(chunk.rows):
                chunk = Chunk([INSERT] * len(rows), rows)
        values = [r[col] for r in rows if r[col] is not None]
        if not values:
            return chunk, None
        new = max(values) - delay
        if cur is None or new > cur:
            self.current_watermark = new
            return chunk, Watermark(col, new)
        return chunk, None
