"""TopN: rows at positions offset .. offset+limit-1 of each group, in ORDER BY order.

State: one entry per distinct row, key = group key values + the row, value = how
many copies are present, so a checkpoint writes only the rows that changed. The
operator works on a derived cache, group -> sorted list of all the group's rows
(duplicates repeated) with their sort keys alongside, built from the StateTable on
first use. All rows are
kept, not only N, so that when a row leaves the top N the next one moves in.

Ties in ORDER BY are broken by the whole row, so the output never depends on
arrival order. With `row_number`, each output row carries its 1-based position
in the group as an extra last column; the stream key is then (group, position)
and a position whose row changes is updated with an adjacent U-/U+ pair.
"""

from __future__ import annotations

from typing import AsyncIterator, Callable

from executor.message import (DELETE, INSERT, SIGN, UPDATE_DELETE, UPDATE_INSERT, Barrier,
                              Chunk, ChunkBuilder, Message, Watermark)
from executor.operators.top_n.order import sort_key
from executor.operators.top_n.sorted_rows import SortedRows
from storage.state_table import StateTable


class TopN:
    """Per-group (or global, with an empty group_key) top-N.

    State table: key = group key values + row, dist_len = len(group_key)."""

    def __init__(self, order_by: list[tuple[int, bool, bool]], limit: int | None, offset: int,
                 group_key: list[int], state: StateTable, row_number: bool = False,
                 chunk_size: int = 1024) -> None:
        self.order_by = list(order_by)
        self.limit = limit
        self.offset = offset
        self.group_key = list(group_key)
        self.state = state
        self.row_number = row_number
        self.chunk_size = chunk_size
        self._key: Callable[[tuple], tuple] | None = None  # compiled for the row width
        self._group_of: Callable[[tuple], tuple] = (
            eval(f"lambda r: ({''.join(f'r[{c}], ' for c in self.group_key)})"))  # noqa: S307
        self._groups: dict[tuple, SortedRows] | None = None  # derived cache
        # Groups touched this epoch: group -> its visible rows at the last barrier.
        self._pending: dict[tuple, list[tuple]] = {}

    def _visible(self, rows: SortedRows) -> list[tuple]:
        end = None if self.limit is None else self.offset + self.limit
        return rows.slice(self.offset, end)

    def _load(self) -> dict[tuple, SortedRows]:
        """Rebuild the sorted rows of every group from the StateTable (once)."""
        members: dict[tuple, list[tuple]] = {}
        n = len(self.group_key)
        for k, count in self.state.items():
            if count > 0:
                members.setdefault(k[:n], []).extend([k[n:]] * count)
        groups: dict[tuple, SortedRows] = {}
        for g, rows in members.items():
            key = self._key_for(rows[0])
            rows.sort(key=key)
            groups[g] = SortedRows([key(r) for r in rows], rows)
        self._groups = groups
        return groups

    def _key_for(self, row: tuple) -> Callable[[tuple], tuple]:
        if self._key is None:
            self._key = sort_key(self.order_by, len(row))
        return self._key

    def _apply(self, chunk: Chunk) -> None:
        if not chunk.rows:
            return
        groups = self._groups if self._groups is not None else self._load()
        state, data, pending = self.state, self.state.data, self._pending
        group_of, key = self._group_of, self._key_for(chunk.rows[0])
        for op, row in zip(chunk.ops, chunk.rows):
            sign = SIGN[op]
            g = group_of(row)
            sk = g + row
            count = data.get(sk, 0)
            if sign < 0 and count <= 0:
                continue  # deleting a row that is not there: nothing to undo
            rows = groups.get(g)
            if rows is None:
                rows = groups[g] = SortedRows()
            if g not in pending:
                pending[g] = self._visible(rows)
            if sign > 0:
                rows.insert(key(row), row)
                state.put(sk, count + 1)
            else:
                rows.remove(key(row))
                if count == 1:
                    state.delete(sk)
                else:
                    state.put(sk, count - 1)

    def _flush(self) -> list[Chunk]:
        groups = self._groups if self._groups is not None else {}
        builder, cap, out = ChunkBuilder(self.chunk_size), self.chunk_size, []
        for g, old in self._pending.items():
            rows = groups.get(g)
            new = self._visible(rows) if rows is not None else []
            if rows is not None and not len(rows):
                del groups[g]
            if old == new:
                continue
            if len(builder.rows) + len(old) + len(new) > cap:
                out.extend(builder.take())
            if self.row_number:
                self._diff_positions(builder, old, new)
            else:
                self._diff_multiset(builder, old, new)
            if len(builder.rows) > cap:
                out.extend(_cut(builder, cap))
        self._pending = {}
        out.extend(builder.take())
        return out

    @staticmethod
    def _diff_multiset(builder: ChunkBuilder, old: list[tuple], new: list[tuple]) -> None:
        delta: dict[tuple, int] = {}
        for row in old:
            delta[row] = delta.get(row, 0) - 1
        for row in new:
            delta[row] = delta.get(row, 0) + 1
        for row, n in delta.items():
            if n < 0:
                builder.extend([DELETE] * -n, [row] * -n)
        for row, n in delta.items():
            if n > 0:
                builder.extend([INSERT] * n, [row] * n)

    def _diff_positions(self, builder: ChunkBuilder, old: list[tuple], new: list[tuple]) -> None:
        for i in range(max(len(old), len(new))):
            o = old[i] if i < len(old) else None
            n = new[i] if i < len(new) else None
            if o == n:
                continue
            pos = (self.offset + i + 1,)
            if o is None:
                builder.append(INSERT, n + pos)  # type: ignore[operator]
            elif n is None:
                builder.append(DELETE, o + pos)
            else:
                builder.append(UPDATE_DELETE, o + pos)
                builder.append(UPDATE_INSERT, n + pos)

    async def execute(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        watermarks: dict[int, Watermark] = {}  # held until the epoch's output is out
        async for msg in input:
            match msg:
                case Chunk():
                    self._apply(msg)
                case Watermark():
                    # A row that moves into the top N may be older than the watermark,
                    # so only group columns keep their promise downstream.
                    if msg.column in self.group_key:
                        watermarks[msg.column] = msg
                case Barrier():
                    for chunk in self._flush():
                        yield chunk
                    for wm in watermarks.values():
                        yield wm
                    watermarks.clear()
                    if msg.is_checkpoint:
                        self.state.commit(msg.epoch)
                    yield msg


def _cut(builder: ChunkBuilder, cap: int) -> list[Chunk]:
    """Take full chunks of `cap` rows, moving a cut that would split a U-/U+ pair one row
    earlier; the remainder stays in the builder."""
    ops, rows = builder.ops, builder.rows
    out: list[Chunk] = []
    start = 0
    while len(rows) - start > cap:
        end = start + cap
        if ops[end - 1] == UPDATE_DELETE:
            end -= 1
        out.append(Chunk(ops[start:end], rows[start:end]))
        start = end
    builder.ops, builder.rows = ops[start:], rows[start:]
    return out
