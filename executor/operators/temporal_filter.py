"""TemporalFilter: `time_col > now() - delay` in a view.

A row is let through while its time is after the cutoff (wall-clock time of the
last barrier minus `delay`); the rows let through are kept in state, and at
each barrier the cutoff moves forward and the rows it passed are deleted from
the output. So the view always holds the rows of the moving window, as of its
last epoch.
"""

from __future__ import annotations

import datetime as dt
import time
from itertools import compress
from typing import AsyncIterator, Callable

from executor.message import (DELETE, SIGN, Barrier, Chunk, ChunkBuilder, Message,
                              keep_pairs_whole)
from storage.state_table import StateTable

_EPOCH = dt.datetime(1970, 1, 1)


class TemporalFilter:
    def __init__(self, time_col: int, delay_us: int, strict: bool, state: StateTable,
                 chunk_size: int = 1024, clock: Callable[[], float] | None = None) -> None:
        self.time_col = time_col
        self.delay = dt.timedelta(microseconds=delay_us)
        self.strict = strict
        self.state = state  # row -> copies currently let through
        self.chunk_size = chunk_size
        self.clock = clock or time.time
        self.cutoff: dt.datetime | None = None

    def _move_cutoff(self) -> None:
        self.cutoff = _EPOCH + dt.timedelta(seconds=self.clock()) - self.delay

    def _inside(self, v: object) -> bool:
        if v is None:
            return False
        cut = self.cutoff
        assert cut is not None
        if isinstance(v, dt.datetime) and v.tzinfo is not None:
            cut = cut.replace(tzinfo=dt.timezone.utc)
        elif isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            v = dt.datetime(v.year, v.month, v.day)
        return v > cut if self.strict else v >= cut  # type: ignore[operator]

    def _apply(self, chunk: Chunk) -> Chunk:
        col, state = self.time_col, self.state
        keep: list[bool] = []
        for op, row in zip(chunk.ops, chunk.rows):
            n = state.get(row, 0)
            if SIGN[op] > 0:
                if not self._inside(row[col]):
                    keep.append(False)
                    continue
                state.put(row, n + 1)
            else:
                if n == 0:
                    keep.append(False)  # it had already left (or never entered) the window
                    continue
                if n == 1:
                    state.delete(row)
                else:
                    state.put(row, n - 1)
            keep.append(True)
        ops = keep_pairs_whole(chunk.ops, keep)
        return Chunk(list(compress(ops, keep)), list(compress(chunk.rows, keep)))

    def _expire(self) -> list[Chunk]:
        builder = ChunkBuilder(self.chunk_size)
        col, state = self.time_col, self.state
        gone = [(row, n) for row, n in state.items() if not self._inside(row[col])]
        for row, n in gone:
            for _ in range(n):
                builder.append(DELETE, row)
            state.delete(row)
        return builder.take()

    async def execute(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        self._move_cutoff()
        async for msg in input:
            match msg:
                case Chunk():
                    out = self._apply(msg)
                    if out.rows:
                        yield out
                case Barrier():
                    self._move_cutoff()
                    for chunk in self._expire():
                        yield chunk
                    if msg.is_checkpoint:
                        self.state.commit(msg.epoch)
                    yield msg
                case _:
                    yield msg
