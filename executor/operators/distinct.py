"""Distinct: each distinct input row once, while at least one copy is present.

State: key = the row's `key` columns (all of them), value = how many copies
are present. Output is the net change per row at each barrier: INSERT when a
row's count went from 0 to positive during the epoch, DELETE when it went to 0.
"""

from __future__ import annotations

from typing import AsyncIterator, Callable

from executor.message import DELETE, INSERT, SIGN, Chunk, ChunkBuilder, Message, Watermark
from executor.operators.per_epoch import run_per_epoch
from storage.state_table import StateTable


class Distinct:
    """SELECT DISTINCT over already projected rows.

    State table: key = row values in `key` order, dist_len = len(key)."""

    def __init__(self, key: list[int], state: StateTable, chunk_size: int = 1024) -> None:
        self.key = list(key)
        self.state = state
        self.chunk_size = chunk_size
        self._key_of: Callable[[tuple], tuple] = (
            eval(f"lambda r: ({''.join(f'r[{c}], ' for c in self.key)})"))  # noqa: S307
        # Rows touched this epoch: state key -> (present at the last barrier, row).
        self._pending: dict[tuple, tuple[bool, tuple]] = {}

    def _apply(self, chunk: Chunk) -> None:
        data, state, pending, key_of = self.state.data, self.state, self._pending, self._key_of
        for op, row in zip(chunk.ops, chunk.rows):
            k = key_of(row)
            before = data.get(k, 0)
            if k not in pending:
                pending[k] = (before > 0, row)
            n = before + SIGN[op]
            if n == 0:
                state.delete(k)
            else:
                state.put(k, n)

    def _flush(self) -> list[Chunk]:
        data, builder = self.state.data, ChunkBuilder(self.chunk_size)
        for k, (was, row) in self._pending.items():
            now = data.get(k, 0) > 0
            if now != was:
                builder.append(INSERT if now else DELETE, row)
        self._pending = {}
        return builder.take()

    def _watermark_out(self, wm: Watermark) -> Watermark:
        return wm  # every column is a key column: an output row is an input row

    def _on_watermark(self, wm: Watermark) -> None:
        pass

    def execute(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        return run_per_epoch(self, input)
