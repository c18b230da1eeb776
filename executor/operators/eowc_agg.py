"""EowcAgg: a grouped aggregation that emits each group's row once, when the
watermark on its window column passes the group's value (EMIT ON WINDOW CLOSE),
then drops the group's state.

Rows are accumulated exactly as HashAgg does (the same state layout and
accumulators); nothing is emitted at barriers. A watermark W on the window
column closes every group whose window value is < W: no later row can reach it,
so its row is final. Closed groups are deleted from the state table, which
keeps state bounded by the number of open windows for an unbounded source.
"""

from __future__ import annotations

from typing import AsyncIterator

from executor.message import INSERT, Barrier, Chunk, ChunkBuilder, Message, Watermark
from executor.operators.hash_agg import HashAgg
from planner.aggregates import AggCall
from storage.state_table import StateTable


class EowcAgg(HashAgg):
    def __init__(self, group_key: list[int], calls: list[AggCall], state: StateTable,
                 window_col: int, chunk_size: int = 1024) -> None:
        super().__init__(group_key, calls, state, chunk_size)
        self.window_col = window_col  # position in the group key (= output column)
        self.closed_windows = 0

    def _close(self, watermark: object) -> list[Chunk]:
        """Rows of every group whose window is before the watermark, in key order."""
        pos, state = self.window_col, self.state
        closed = sorted((k for k in state.data if k[pos] is not None and k[pos] < watermark),
                        key=repr)
        builder = ChunkBuilder(self.chunk_size)
        for key in closed:
            row = self._output_row(key, state.get(key))
            if row is not None:
                builder.append(INSERT, row)
            state.delete(key)
            self._pending.pop(key, None)
            self.closed_windows += 1
        return builder.take()

    def _mark_dirty(self) -> None:
        for key in self._pending:
            if key in self.state:
                self.state.mark_dirty(key)
        self._pending = {}

    async def execute(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        window_input = self.group_key[self.window_col]
        async for msg in input:
            match msg:
                case Chunk():
                    self._apply(msg)
                case Watermark(column=col, value=value):
                    if col == window_input and value is not None:
                        for chunk in self._close(value):
                            yield chunk
                        yield Watermark(self.window_col, value)
                case Barrier():
                    self._mark_dirty()
                    if msg.is_checkpoint:
                        self.state.commit(msg.epoch)
                    yield msg
