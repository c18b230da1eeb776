"""TopN: rows at positions offset .. offset+limit-1 of each group, in ORDER BY order.

State: one entry per distinct row, key = group key values + the row, value = how
many copies are present, so a checkpoint writes only the rows that changed. All
rows are kept, not only N, so that when a row leaves the top N the next one moves in.
The operator works on a derived cache, group -> its rows, built from the StateTable
on first use. With a limit it is a BoundedRows: only the first rows are kept sorted
and most inserts (rows that cannot enter the top N) cost one comparison and an append
(bounded_rows.py). Without a limit every row shows, and a group is a SortedRows.
Rows are held as their state keys (one tuple per stored row).

With `append_only` (the plan lets only inserts reach the operator) a row that cannot
enter the first offset+limit rows of its group can never show later, so only those
rows are kept, in memory and in state; a row pushed out of them is deleted. With
LIMIT 1 and no offset ("the latest row per key") the state is one entry per group,
key = group key values, value = group key values + the row, replaced in place.

Ties in ORDER BY are broken by the whole row, so the output never depends on
arrival order. With `row_number`, each output row carries its 1-based position
in the group as an extra last column; the stream key is then (group, position)
and a position whose row changes is updated with an adjacent U-/U+ pair.
"""

from __future__ import annotations

from typing import AsyncIterator, Callable

from executor.message import (DELETE, INSERT, SIGN, UPDATE_DELETE, UPDATE_INSERT,
                              Chunk, ChunkBuilder, Message, Watermark, cut)
from executor.operators.per_epoch import run_per_epoch
from executor.operators.top_n.bounded_rows import BoundedRows, build
from executor.operators.top_n.order import order_cmp, order_key, sort_key, tie_key
from executor.operators.top_n.sorted_rows import SortedRows
from storage.state_table import StateTable

_Key = Callable[[tuple], tuple]


class TopNAppendOnlyViolation(RuntimeError):
    """A delete reached a TopN built for inserts only: the rows it would need are gone."""


class TopN:
    """Per-group (or global, with an empty group_key) top-N.

    State table: key = group key values + row, dist_len = len(group_key)."""

    def __init__(self, order_by: list[tuple[int, bool, bool]], limit: int | None, offset: int,
                 group_key: list[int], state: StateTable, row_number: bool = False,
                 chunk_size: int = 1024, append_only: bool = False) -> None:
        self.order_by = list(order_by)
        self.limit = limit
        self.offset = offset
        self.need = None if limit is None else offset + limit  # rows a group must show
        self.group_key = list(group_key)
        self.state = state
        self.row_number = row_number
        self.chunk_size = chunk_size
        self._n = len(self.group_key)
        # Inserts only: keep the first `need` rows of a group and nothing else; with
        # need == 1, as one state entry per group (`_latest`).
        self.append_only = append_only and self.need is not None
        self._latest = self.append_only and self.limit == 1 and self.offset == 0
        # Over state keys, compiled for the row width on first use: ORDER BY key,
        # tie-break key, both in one (sort_key).
        self._keys: tuple[_Key, _Key, _Key] | None = None
        self._cmp = order_cmp(self.order_by, self._n)  # ORDER BY comparison of state keys
        self._group_of: Callable[[tuple], tuple] = (
            eval(f"lambda r: ({''.join(f'r[{c}], ' for c in self.group_key)})"))  # noqa: S307
        self._groups: dict[tuple, BoundedRows | SortedRows] | None = None  # derived cache
        # Groups touched this epoch: group -> its visible rows (state keys) at the last barrier.
        self._pending: dict[tuple, list[tuple]] = {}

    def _visible(self, rows: BoundedRows | SortedRows) -> list[tuple]:
        if isinstance(rows, BoundedRows):
            return rows.sks[self.offset:self.need]
        return rows.slice(self.offset, None)

    def _keys_for(self, sk: tuple) -> tuple[_Key, _Key, _Key]:
        if self._keys is None:
            n, width = self._n, len(sk) - self._n
            self._keys = (order_key(self.order_by, n), tie_key(width, n),
                          sort_key(self.order_by, width, n))
        return self._keys

    def _load(self) -> dict[tuple, BoundedRows | SortedRows]:
        """Rebuild every group from the StateTable (once). State written by another
        layout (all rows, or one entry per group) is rewritten into this one."""
        members: dict[tuple, list[tuple]] = {}
        n, state = self._n, self.state
        moved = []
        for k, v in state.items():
            if len(k) == n:  # the one-entry-per-group layout: value = the state key
                members.setdefault(k, []).append(v)
                moved.append(k)
            elif v > 0:
                members.setdefault(k[:n], []).extend([k] * v)
        groups: dict[tuple, BoundedRows | SortedRows] = {}
        if self._latest:
            kept = set(moved)
            for g, sks in members.items():
                if g in kept:
                    continue
                full = self._keys_for(sks[0])[2]
                best = min(sks, key=full)
                for sk in set(sks):
                    state.delete(sk)
                state.put(g, best)
            self._groups = groups
            return groups
        for k in moved:
            sk = state.get(k)
            state.delete(k)
            state.put(sk, state.get(sk, 0) + 1)
        for g, sks in members.items():
            ok, _tie, full = self._keys_for(sks[0])
            if self.need is None:
                sks.sort(key=full)
                groups[g] = SortedRows([full(sk) for sk in sks], sks)
                continue
            rows = groups[g] = build(sks, self.need, full, ok)
            if self.append_only and rows.rest_n:  # rows that can no longer show
                for sk in rows.rest:  # copies of a row may be both shown and not
                    count = state.get(sk)
                    if count == 1:
                        state.delete(sk)
                    else:
                        state.put(sk, count - 1)
                rows.rest, rows.rest_n = [], 0
        self._groups = groups
        return groups

    def _apply(self, chunk: Chunk) -> None:
        if not chunk.rows:
            return
        groups = self._groups if self._groups is not None else self._load()
        if self._latest:
            self._apply_latest(chunk)
        elif self.append_only:
            self._apply_append_only(chunk, groups)  # type: ignore[arg-type]
        elif self.need is None:
            self._apply_unbounded(chunk, groups)  # type: ignore[arg-type]
        else:
            self._apply_bounded(chunk, groups)  # type: ignore[arg-type]

    def _apply_latest(self, chunk: Chunk) -> None:
        """Inserts only, LIMIT 1: compare with the group's row and replace it."""
        data, pending, group_of = self.state.data, self._pending, self._group_of
        tie, cmp = self._keys_for(group_of(chunk.rows[0]) + chunk.rows[0])[1], self._cmp
        written = []
        for op, row in zip(chunk.ops, chunk.rows):
            if SIGN[op] < 0:
                raise TopNAppendOnlyViolation(f"delete of {row!r} reached an insert-only top-N")
            g = group_of(row)
            sk = g + row
            cur = data.get(g)
            if cur is not None:
                c = cmp(sk, cur)
                if c > 0 or (c == 0 and tie(sk) >= tie(cur)):
                    continue
                if g not in pending:
                    pending[g] = [cur]
            elif g not in pending:
                pending[g] = []
            data[g] = sk
            written.append(g)
        self.state.mark_dirty_all(written)

    def _apply_append_only(self, chunk: Chunk, groups: dict[tuple, BoundedRows]) -> None:
        """Inserts only: a row enters the group's first `need` rows or is dropped; the
        row it pushes out is dropped from state."""
        data, pending, group_of = self.state.data, self._pending, self._group_of
        offset, need = self.offset, self.need
        assert need is not None
        ok, tie, _full = self._keys_for(group_of(chunk.rows[0]) + chunk.rows[0])
        cmp = self._cmp
        written = []
        for op, row in zip(chunk.ops, chunk.rows):
            if SIGN[op] < 0:
                raise TopNAppendOnlyViolation(f"delete of {row!r} reached an insert-only top-N")
            g = group_of(row)
            sk = g + row
            rows = groups.get(g)
            if rows is None:
                rows = groups[g] = BoundedRows(need)
            if rows.goes_to_rest(sk, cmp, tie):
                continue  # it can never show
            if g not in pending:
                pending[g] = rows.sks[offset:need]
            rows.insert(ok(sk), sk, tie)
            data[sk] = data.get(sk, 0) + 1
            written.append(sk)
            if rows.rest_n:
                out = rows.rest.pop()
                rows.rest_n = 0
                count = data[out]
                if count == 1:
                    del data[out]
                else:
                    data[out] = count - 1
                written.append(out)
        self.state.mark_dirty_all(written)

    def _apply_bounded(self, chunk: Chunk, groups: dict[tuple, BoundedRows]) -> None:
        data, pending, group_of = self.state.data, self._pending, self._group_of
        offset, need = self.offset, self.need
        assert need is not None
        ok, tie, full = self._keys_for(group_of(chunk.rows[0]) + chunk.rows[0])
        cmp = self._cmp
        written = []
        for op, row in zip(chunk.ops, chunk.rows):
            g = group_of(row)
            sk = g + row
            count = data.get(sk, 0)
            if SIGN[op] > 0:
                data[sk] = count + 1
                written.append(sk)
                rows = groups.get(g)
                if rows is None:
                    rows = groups[g] = BoundedRows(need)
                if rows.goes_to_rest(sk, cmp, tie):
                    rows.rest.append(sk)
                    rows.rest_n += 1
                    continue
                if g not in pending:
                    pending[g] = rows.sks[offset:need]
                rows.insert(ok(sk), sk, tie)
                continue
            if count <= 0:
                continue  # deleting a row that is not there: nothing to undo
            if count == 1:
                del data[sk]
            else:
                data[sk] = count - 1
            written.append(sk)
            rows = groups[g]
            k = ok(sk)
            at, copies = rows.cached_at(k, sk)
            if count > copies:
                rows.remove_from_rest(data)  # an uncached copy goes: nothing shows
                continue
            if g not in pending:
                pending[g] = rows.sks[offset:need]
            rows.remove_cached(at, need, data, full, ok)
        self.state.mark_dirty_all(written)

    def _apply_unbounded(self, chunk: Chunk, groups: dict[tuple, SortedRows]) -> None:
        data, pending, group_of = self.state.data, self._pending, self._group_of
        offset = self.offset
        full = self._keys_for(group_of(chunk.rows[0]) + chunk.rows[0])[2]
        written = []
        for op, row in zip(chunk.ops, chunk.rows):
            g = group_of(row)
            sk = g + row
            count = data.get(sk, 0)
            sign = SIGN[op]
            if sign < 0 and count <= 0:
                continue
            rows = groups.get(g)
            if rows is None:
                rows = groups[g] = SortedRows()
            if g not in pending:
                pending[g] = rows.slice(offset, None)
            if sign > 0:
                rows.insert(full(sk), sk)
                data[sk] = count + 1
            else:
                rows.remove(full(sk))
                if count == 1:
                    del data[sk]
                else:
                    data[sk] = count - 1
            written.append(sk)
        self.state.mark_dirty_all(written)

    def _flush(self) -> list[Chunk]:
        groups = self._groups if self._groups is not None else {}
        data, latest = self.state.data, self._latest
        builder, cap, out = ChunkBuilder(self.chunk_size), self.chunk_size, []
        for g, old in self._pending.items():
            if latest:
                new = [data[g]]  # a group of this layout never empties
            else:
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

    def _diff_multiset(self, builder: ChunkBuilder, old: list[tuple], new: list[tuple]) -> None:
        n = self._n
        delta: dict[tuple, int] = {}
        for sk in old:
            delta[sk] = delta.get(sk, 0) - 1
        for sk in new:
            delta[sk] = delta.get(sk, 0) + 1
        for sk, d in delta.items():
            if d < 0:
                builder.extend([DELETE] * -d, [sk[n:]] * -d)
        for sk, d in delta.items():
            if d > 0:
                builder.extend([INSERT] * d, [sk[n:]] * d)

    def _diff_positions(self, builder: ChunkBuilder, old: list[tuple], new: list[tuple]) -> None:
        """Old and new visible rows (state keys) compared position by position."""
        n = self._n
        for i in range(max(len(old), len(new))):
            o = old[i] if i < len(old) else None
            r = new[i] if i < len(new) else None
            if o == r:
                continue
            pos = (self.offset + i + 1,)
            if o is None:
                builder.append(INSERT, r[n:] + pos)  # type: ignore[index]
            elif r is None:
                builder.append(DELETE, o[n:] + pos)
            else:
                builder.append(UPDATE_DELETE, o[n:] + pos)
                builder.append(UPDATE_INSERT, r[n:] + pos)

    def _watermark_out(self, wm: Watermark) -> Watermark | None:
        # A row that moves into the top N may be older than the watermark, so only
        # group columns keep their promise downstream.
        return wm if wm.column in self.group_key else None

    def _on_watermark(self, wm: Watermark) -> None:
        pass

    def execute(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        return run_per_epoch(self, input)


def _cut(builder: ChunkBuilder, cap: int) -> list[Chunk]:
    """Take full chunks of at most `cap` rows (never splitting a U-/U+ pair); the
    remainder stays in the builder."""
    out = cut(builder.ops, builder.rows, cap)
    last = out.pop()
    builder.ops, builder.rows = last.ops, last.rows
    return out
