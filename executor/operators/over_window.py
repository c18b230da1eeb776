"""OverWindow: window functions over partitions (`f(...) OVER (PARTITION BY ... ORDER BY
... frame)`), each input row coming out with one extra column per function.

State: one entry per distinct row, key = partition values + the row, value = how many
copies are present (as TopN keeps it). The operator works on a derived cache,
partition -> rows in ORDER BY order (ties broken by the whole row, so a ROWS frame
never depends on arrival order), built from the StateTable on first use.

Partitions touched in an epoch are recomputed whole at the barrier and their output
diffed, as a multiset, against what was emitted before: a change costs one pass over
its partition, and an insert or delete anywhere re-emits every row whose window
values moved (the rows after it, for a running frame), as deletes then inserts.
"""

from __future__ import annotations

import decimal
from typing import Any, AsyncIterator, Callable

from executor.message import DELETE, INSERT, SIGN, Chunk, ChunkBuilder, Message, Watermark
from executor.operators.per_epoch import run_per_epoch
from executor.operators.top_n.order import sort_key
from executor.operators.top_n.sorted_rows import SortedRows
from planner.nan import NAN, NUMERIC_NAN
from storage.state_table import StateTable


class OverWindow:
    """State table: key = partition values + row, dist_len = len(partition)."""

    def __init__(self, partition: list[int], order: list[tuple[int, bool, bool]],
                 calls: list[Any], state: StateTable, chunk_size: int = 1024) -> None:
        self.partition = list(partition)
        self.order = list(order)
        self.calls = list(calls)
        self.state = state
        self.chunk_size = chunk_size
        self._part_of: Callable[[tuple], tuple] = (
            eval(f"lambda r: ({''.join(f'r[{c}], ' for c in self.partition)})"))  # noqa: S307
        self._peer_of: Callable[[tuple], tuple] = (
            eval(f"lambda r: ({''.join(f'r[{c}], ' for c, _d, _n in self.order)})"))  # noqa: S307
        self._key: Callable[[tuple], tuple] | None = None
        self._parts: dict[tuple, SortedRows] | None = None
        # Partitions touched this epoch -> their output rows at the last barrier.
        self._pending: dict[tuple, list[tuple]] = {}

    def _key_for(self, row: tuple) -> Callable[[tuple], tuple]:
        if self._key is None:
            self._key = sort_key(self.order, len(row))
        return self._key

    def _load(self) -> dict[tuple, SortedRows]:
        members: dict[tuple, list[tuple]] = {}
        n = len(self.partition)
        for k, count in self.state.items():
            if count > 0:
                members.setdefault(k[:n], []).extend([k[n:]] * count)
        parts: dict[tuple, SortedRows] = {}
        for p, rows in members.items():
            key = self._key_for(rows[0])
            rows.sort(key=key)
            parts[p] = SortedRows([key(r) for r in rows], rows)
        self._parts = parts
        return parts

    def _apply(self, chunk: Chunk) -> None:
        if not chunk.rows:
            return
        parts = self._parts if self._parts is not None else self._load()
        state, data, pending = self.state, self.state.data, self._pending
        part_of, key = self._part_of, self._key_for(chunk.rows[0])
        for op, row in zip(chunk.ops, chunk.rows):
            sign = SIGN[op]
            p = part_of(row)
            sk = p + row
            count = data.get(sk, 0)
            if sign < 0 and count <= 0:
                continue  # deleting a row that is not there: nothing to undo
            rows = parts.get(p)
            if rows is None:
                rows = parts[p] = SortedRows()
            if p not in pending:
                pending[p] = self.outputs(rows.slice(0, None))
            if sign > 0:
                rows.insert(key(row), row)
                state.put(sk, count + 1)
            else:
                rows.remove(key(row))
                if count == 1:
                    state.delete(sk)
                else:
                    state.put(sk, count - 1)

    def outputs(self, rows: list[tuple]) -> list[tuple]:
        """Each row of one partition (in order) with its window values appended."""
        if not rows:
            return []
        cols = [window_values(c, rows, self._peer_of) for c in self.calls]
        return [r + tuple(c[i] for c in cols) for i, r in enumerate(rows)]

    def _flush(self) -> list[Chunk]:
        parts = self._parts if self._parts is not None else {}
        builder, out = ChunkBuilder(self.chunk_size), []
        for p, old in self._pending.items():
            rows = parts.get(p)
            new = self.outputs(rows.slice(0, None)) if rows is not None else []
            if rows is not None and not len(rows):
                del parts[p]
            if old == new:
                continue
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
            if len(builder.rows) >= self.chunk_size:
                out.extend(builder.take())
        self._pending = {}
        out.extend(builder.take())
        return out

    def _watermark_out(self, wm: Watermark) -> Watermark | None:
        # Re-emitted rows may be older than the watermark: only partition columns
        # keep their promise downstream.
        return wm if wm.column in self.partition else None

    def _on_watermark(self, wm: Watermark) -> None:
        pass

    def execute(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        return run_per_epoch(self, input)


def _peer_ends(rows: list[tuple], peer_of: Callable[[tuple], tuple]) -> list[int]:
    """For each row, the index of the last row with the same ORDER BY values."""
    n = len(rows)
    ends = [0] * n
    i = 0
    while i < n:
        j = i
        pk = peer_of(rows[i])
        while j + 1 < n and peer_of(rows[j + 1]) == pk:
            j += 1
        for k in range(i, j + 1):
            ends[k] = j
        i = j + 1
    return ends


def _frames(call: Any, rows: list[tuple], peer_of: Callable[[tuple], tuple]
            ) -> list[tuple[int, int]]:
    """(first, last) row index of each row's frame (first > last: empty)."""
    n = len(rows)
    mode, start, end = call.frame
    if mode == "range":
        if end is None:
            return [(0, n - 1)] * n
        return [(0, e) for e in _peer_ends(rows, peer_of)]
    return [(0 if start is None else max(0, i + start),
             n - 1 if end is None else min(n - 1, i + end)) for i in range(n)]


def window_values(call: Any, rows: list[tuple], peer_of: Callable[[tuple], tuple]
                  ) -> list[Any]:
    """One window function's value for each row of a partition, in order."""
    n, kind = len(rows), call.kind
    if kind == "row_number":
        return list(range(1, n + 1))
    if kind in ("rank", "dense_rank"):
        out, rank, dense, prev = [], 0, 0, None
        for i, r in enumerate(rows):
            pk = peer_of(r)
            if i == 0 or pk != prev:
                rank, dense, prev = i + 1, dense + 1, pk
            out.append(rank if kind == "rank" else dense)
        return out
    if kind in ("lag", "lead"):
        step = -call.offset if kind == "lag" else call.offset
        a = call.arg
        return [rows[i + step][a] if 0 <= i + step < n else None for i in range(n)]
    values = [1] * n if kind == "count_star" else [r[call.arg] for r in rows]
    frames = _frames(call, rows, peer_of)
    if kind in ("min", "max"):
        return _extreme(values, frames, min if kind == "min" else max)
    if kind in ("sum", "avg") and call.result_type.is_float:
        return _float_sums(kind, values, frames)
    # sum / count / avg from prefix sums over the non-NULL values; numeric 'NaN' is
    # counted apart, so that it makes NaN only the frames that hold it
    pre_sum: list[Any] = [0]
    pre_cnt = [0]
    pre_nan = [0]
    for v in values:
        nan = v is not None and v != v
        pre_sum.append(pre_sum[-1] + v if v is not None and not nan else pre_sum[-1])
        pre_cnt.append(pre_cnt[-1] + (v is not None))
        pre_nan.append(pre_nan[-1] + nan)
    out: list[Any] = []
    numeric = call.result_type.name == "numeric"
    as_float = call.result_type.is_float
    for lo, hi in frames:
        cnt = pre_cnt[hi + 1] - pre_cnt[lo] if lo <= hi else 0
        if kind in ("count", "count_star"):
            out.append(cnt)
            continue
        if cnt == 0:
            out.append(None)
            continue
        if pre_nan[hi + 1] - pre_nan[lo]:
            out.append(NUMERIC_NAN)
            continue
        total = pre_sum[hi + 1] - pre_sum[lo]
        if kind == "sum":
            out.append(decimal.Decimal(total) if numeric and not isinstance(total, float)
                       else total)
        elif as_float:
            out.append(float(total) / cnt)
        else:
            out.append(decimal.Decimal(total) / decimal.Decimal(cnt))
    return out


# Every finite double is an integer multiple of 2**-1074: prefix sums kept as integers
# in that unit subtract exactly, so a frame's sum is the exact sum of its values
# rounded once (1e300 + 1 - 1e300 is 1, as in HashAgg), whatever lies outside it.
_FLOAT_UNIT_BITS = 1074
_FLOAT_UNIT = 1 << _FLOAT_UNIT_BITS
_INF = float("inf")


def _float_sums(kind: str, values: list[Any], frames: list[tuple[int, int]]) -> list[Any]:
    """sum / avg of double precision frames. NaN and infinities are counted apart
    from the finite values, so a frame without them is not poisoned by them; a frame
    with a NaN, or with both infinities, sums to SQL's NaN (planner/nan.py)."""
    # prefix columns: non-NULL count, exact finite total, NaN, +inf, -inf counts
    cnt, tot, nan, pos, neg = [0], [0], [0], [0], [0]
    for v in values:
        c, t, a, p, m = cnt[-1], tot[-1], nan[-1], pos[-1], neg[-1]
        if v is not None:
            c += 1
            if v != v:
                a += 1
            elif v == _INF:
                p += 1
            elif v == -_INF:
                m += 1
            else:
                num, den = v.as_integer_ratio()  # den is a power of two
                t += num << (_FLOAT_UNIT_BITS + 1 - den.bit_length())
        cnt.append(c), tot.append(t), nan.append(a), pos.append(p), neg.append(m)
    out: list[Any] = []
    for lo, hi in frames:
        end = hi + 1
        n = cnt[end] - cnt[lo] if lo < end else 0
        if n == 0:
            out.append(None)
        elif nan[end] - nan[lo] or (pos[end] - pos[lo] and neg[end] - neg[lo]):
            out.append(NAN)
        elif pos[end] - pos[lo] or neg[end] - neg[lo]:
            out.append(_INF if pos[end] - pos[lo] else -_INF)
        else:
            try:  # int / int is correctly rounded
                out.append((tot[end] - tot[lo]) / (_FLOAT_UNIT * (n if kind == "avg" else 1)))
            except OverflowError:
                out.append(_INF if tot[end] > tot[lo] else -_INF)
    return out


def _extreme(values: list[Any], frames: list[tuple[int, int]],
             pick: Callable[..., Any]) -> list[Any]:
    out: list[Any] = []
    for lo, hi in frames:
        present = [v for v in values[lo:hi + 1] if v is not None] if lo <= hi else []
        out.append(pick(present) if present else None)
    return out
