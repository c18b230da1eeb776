"""HashAgg: grouped and simple (no GROUP BY) aggregation, fully retractable.

State: one StateTable entry per group, key = the group key values (so the key
starts with the distribution key), value = a list
`[row_count, last_emitted_row_or_None, call_states, distinct_counts]`.
Every aggregate keeps enough to undo a row exactly: counts, running sums,
value -> count maps for min/max, item -> count maps for string_agg, and for
DISTINCT calls a value -> count map that forwards only 0<->1 transitions.
When every call is count(*) without FILTER, each call's count is the row count,
so a group is just `[row_count, last_emitted_row_or_None, None, None]`: one
object per group instead of four, which matters for windowed counts that create
and drop groups all the time (each surviving object costs the garbage collector).

Output is emitted at barriers: the net change of each group touched in the
epoch (INSERT for a new group, DELETE for a vanished one, an adjacent U-/U+
pair for a changed one). The row a group last emitted is kept in its state, so
after a restart nothing is emitted twice; a simple aggregation's single row is
inserted at the first barrier and recorded the same way.
"""

from __future__ import annotations

import decimal
from collections import Counter
from operator import itemgetter
from typing import Any, AsyncIterator, Callable

from executor.message import (DELETE, INSERT, SIGN, UPDATE_DELETE, UPDATE_INSERT,
                              Chunk, Message, Watermark)
from executor.operators.per_epoch import run_per_epoch
from executor.operators.top_n.order import sort_key
from planner.aggregates import AggCall
from planner.nan import NAN, NUMERIC_NAN
from storage.state_table import StateTable

_SKIP = object()  # an input row that does not feed a call (NULL argument, FILTER false)

# Indexes into a group's state list.
_ROWS, _OUT, _CALLS, _DISTINCT = 0, 1, 2, 3


# -- one accumulator per aggregate kind: new() -> state list, apply(), result()

def _new_count() -> list:
    return [0]


def _apply_count(st: list, item: Any, sign: int) -> None:
    st[0] += sign


def _count_result(st: list) -> int:
    return st[0]


def _new_sum() -> list:
    return [0, None]  # non-null count, running total (None while empty)


def _apply_sum(st: list, v: Any, sign: int) -> None:
    n = st[0] + sign
    st[0] = n
    if n == 0:
        st[1] = None  # restart exactly: no float residue after full retraction
    elif st[1] is None:
        st[1] = v if sign > 0 else -v
    else:
        st[1] = st[1] + v if sign > 0 else st[1] - v


def _new_numeric_sum() -> list:
    return [0, None, 0]  # non-null count, total of the other values, NaN count


def _apply_numeric_sum(st: list, v: Any, sign: int) -> None:
    """A sum that a NaN makes NaN only while the NaN row is present (numeric NaN
    arithmetic would stick after the row's retraction)."""
    if v != v:
        if len(st) == 2:  # group state checkpointed before NaNs were counted
            st.append(0)
        st[0] += sign
        st[2] += sign
        if st[0] == 0:
            st[1] = None
        return
    _apply_sum(st, v, sign)


def _numeric_sum_result(st: list) -> Any:
    if st[0] <= 0:
        return None
    return NUMERIC_NAN if len(st) > 2 and st[2] else st[1]


# Every finite double is an integer multiple of 2**-1074, so float sums are kept as
# exact integers in that unit: retracting a row then leaves no rounding residue
# (1e300 + 1 - 1e300 is 1, not 0), and the result does not depend on row order.
_FLOAT_UNIT_BITS = 1074
_FLOAT_UNIT = 1 << _FLOAT_UNIT_BITS
_INF = float("inf")


def _new_float_sum() -> list:
    return [0, 0, 0, 0, 0]  # non-null count, exact total in units, +inf, -inf and NaN counts


def _apply_float_sum(st: list, v: Any, sign: int) -> None:
    st[0] += sign
    if v != v:
        st[4] += sign
    elif v == _INF:
        st[2] += sign
    elif v == -_INF:
        st[3] += sign
    else:
        num, den = v.as_integer_ratio()  # den is a power of two
        st[1] += sign * (num << (_FLOAT_UNIT_BITS + 1 - den.bit_length()))


def _float_total(st: list, n: int = 1) -> float | None:
    """The exact total (divided by n), rounded once to the nearest double."""
    if st[0] <= 0:
        return None
    if st[4] or (st[2] and st[3]):
        return NAN
    if st[2] or st[3]:
        return _INF if st[2] else -_INF
    try:
        return st[1] / (_FLOAT_UNIT * n)  # int / int is correctly rounded
    except OverflowError:
        return _INF if st[1] > 0 else -_INF


def _new_extreme() -> list:
    return [{}, None]  # value -> count, cached extreme (None = recompute)


def _make_apply_extreme(is_min: bool) -> Callable[[list, Any, int], None]:
    def apply(st: list, v: Any, sign: int) -> None:
        counts = st[0]
        c = counts.get(v, 0) + sign
        if c == 0:
            del counts[v]
            if st[1] is not None and st[1] == v:
                st[1] = None
        else:
            counts[v] = c
            cur = st[1]
            if sign > 0 and cur is not None and (v < cur if is_min else v > cur):
                st[1] = v
    return apply


def _make_extreme_result(is_min: bool) -> Callable[[list], Any]:
    pick = min if is_min else max

    def result(st: list) -> Any:
        counts = st[0]
        if not counts:
            return None
        if st[1] is None:
            st[1] = pick(counts)
        return st[1]
    return result


def _new_bool() -> list:
    return [0, 0]  # count of true, count of false


def _apply_bool(st: list, v: Any, sign: int) -> None:
    st[0 if v else 1] += sign


def _bool_and(st: list) -> Any:
    return None if st[0] == 0 and st[1] == 0 else st[1] == 0


def _bool_or(st: list) -> Any:
    return None if st[0] == 0 and st[1] == 0 else st[0] > 0


def _new_multiset() -> list:
    return [{}]  # item -> count


def _apply_multiset(st: list, item: Any, sign: int) -> None:
    counts = st[0]
    c = counts.get(item, 0) + sign
    if c == 0:
        del counts[item]
    else:
        counts[item] = c


def _avg_result(call: AggCall) -> Callable[[list], Any]:
    as_float = call.result_type.is_float

    def result(st: list) -> Any:
        n, total = st[0], st[1]
        if len(st) > 2 and st[2] and n > 0:
            return NUMERIC_NAN
        if n <= 0 or total is None:
            return None
        if as_float:
            return float(total) / n
        if isinstance(total, (int, decimal.Decimal)):
            return decimal.Decimal(total) / decimal.Decimal(n)
        if isinstance(total, float):
            return total / n
        return total * (1 / n)  # interval
    return result


def _string_agg_result(call: AggCall) -> Callable[[list], Any]:
    k = len(call.order_by)
    # Items are (order values..., value, separator); PostgreSQL puts NULLs last
    # for ASC and first for DESC; ties fall back to the value.
    key = sort_key([(i, desc, desc) for i, (_, desc) in enumerate(call.order_by)], k + 2)

    def result(st: list) -> Any:
        counts = st[0]
        if not counts:
            return None
        parts: list[str] = []
        for item in sorted(counts, key=key):
            sep = item[k + 1]
            for _ in range(counts[item]):
                if parts:
                    parts.append("" if sep is None else sep)
                parts.append(item[k])
        return "".join(parts)
    return result


def _extractor(call: AggCall) -> Callable[[tuple], Any]:
    """Row -> the item the call accumulates, or _SKIP."""
    f, arg = call.filter_col, call.arg
    if call.kind == "count_star" or arg is None:
        if f is None:
            return lambda row: ()
        return lambda row: () if row[f] is True else _SKIP
    if call.kind == "string_agg":
        cols = [c for c, _ in call.order_by]
        sep = call.separator

        def item(row: tuple) -> Any:
            v = row[arg]
            if v is None or (f is not None and row[f] is not True):
                return _SKIP
            return tuple(row[c] for c in cols) + (v, None if sep is None else row[sep])
        return item
    if f is None:
        return lambda row: _SKIP if row[arg] is None else row[arg]
    return lambda row: _SKIP if row[arg] is None or row[f] is not True else row[arg]


def _accumulator(call: AggCall) -> tuple[Callable[[], list], Callable[[list, Any, int], None],
                                         Callable[[list], Any]]:
    kind = call.kind
    if kind in ("count_star", "count"):
        return _new_count, _apply_count, _count_result
    if kind in ("sum", "avg") and call.result_type.is_float:
        if kind == "sum":
            return _new_float_sum, _apply_float_sum, _float_total
        return _new_float_sum, _apply_float_sum, lambda st: _float_total(st, st[0])
    if kind == "sum":
        return _new_numeric_sum, _apply_numeric_sum, _numeric_sum_result
    if kind == "avg":
        return _new_numeric_sum, _apply_numeric_sum, _avg_result(call)
    if kind in ("min", "max"):
        is_min = kind == "min"
        return _new_extreme, _make_apply_extreme(is_min), _make_extreme_result(is_min)
    if kind == "bool_and":
        return _new_bool, _apply_bool, _bool_and
    if kind == "bool_or":
        return _new_bool, _apply_bool, _bool_or
    if kind == "string_agg":
        return _new_multiset, _apply_multiset, _string_agg_result(call)
    raise ValueError(f"unknown aggregate kind {kind!r}")


def _same(row: tuple) -> tuple:
    return row


def _cut(ops: list[int], rows: list[tuple], cap: int) -> list[Chunk]:
    """Chunks of at most `cap` rows (at least 2), none ending between a U- and its U+."""
    cap = max(cap, 2)
    out: list[Chunk] = []
    i, n = 0, len(rows)
    while n - i > cap:
        j = i + cap
        if ops[j - 1] == UPDATE_DELETE:
            j -= 1
        out.append(Chunk(ops[i:j], rows[i:j]))
        i = j
    if i < n:
        out.append(Chunk(ops[i:] if i else ops, rows[i:] if i else rows))
    return out


class HashAgg:
    """Aggregates per group; output row = group key values + one value per call.

    State table: key = group key values, dist_len = len(group_key)."""

    def __init__(self, group_key: list[int], calls: list[AggCall], state: StateTable,
                 chunk_size: int = 1024) -> None:
        self.group_key = list(group_key)
        self.calls = list(calls)
        self.state = state
        self.chunk_size = chunk_size
        self._news: list[Callable[[], list]] = []
        # (index, extract, apply, distinct) per call
        self._plan: list[tuple[int, Callable[[tuple], Any], Callable[[list, Any, int], None],
                               bool]] = []
        self._results: list[Callable[[list], Any]] = []
        for i, call in enumerate(self.calls):
            new, apply, result = _accumulator(call)
            self._news.append(new)
            self._plan.append((i, _extractor(call), apply, call.distinct))
            self._results.append(result)
        gk = self.group_key
        self._group_of: Callable[[tuple], tuple] = (
            itemgetter(*gk) if len(gk) > 1  # a tuple, built in C
            else eval(f"lambda r: ({''.join(f'r[{c}], ' for c in gk)})"))  # noqa: S307
        # Only count(*) without FILTER: a group's change is its net row count, so a
        # chunk is first counted per group and each group's state touched once.
        self._whole_row_key = self.group_key == list(range(len(self.group_key)))
        self._counts_only = bool(calls) and all(
            c.kind == "count_star" and c.filter_col is None and not c.distinct
            for c in self.calls)
        # key, group -> output row (one compiled expression, no generator per row)
        args = "".join("g[0], " if self._counts_only
                       else f"g[2][{i}][0], " if r is _count_result else f"_r{i}(g[2][{i}]), "
                       for i, r in enumerate(self._results))
        self._row_of: Callable[[tuple, list], tuple] = eval(  # noqa: S307
            f"lambda k, g: k + ({args})", {f"_r{i}": r for i, r in enumerate(self._results)})
        self._pending: dict[tuple, Any] = {}  # groups touched this epoch, in order
        self._cleaned: dict[int, Any] = {}  # key position -> last watermark cleaned to

    def _new_group(self) -> list:
        if self._counts_only:
            return [0, None, None, None]
        return [0, None, [new() for new in self._news],
                [{} if call.distinct else None for call in self.calls]]

    def _apply(self, chunk: Chunk) -> None:
        if self._counts_only:
            self._apply_counts(chunk)
            return
        data, state, pending = self.state.data, self.state, self._pending
        group_of, plan = self._group_of, self._plan
        for op, row in zip(chunk.ops, chunk.rows):
            sign = SIGN[op]
            key = group_of(row)
            group = data.get(key)
            if group is None:
                group = self._new_group()
                state.put(key, group)
            pending[key] = None
            group[_ROWS] += sign
            calls, distincts = group[_CALLS], group[_DISTINCT]
            for i, extract, apply, distinct in plan:
                item = extract(row)
                if item is _SKIP:
                    continue
                if distinct:
                    seen = distincts[i]
                    c = seen.get(item, 0) + sign
                    if c == 0:
                        del seen[item]
                    else:
                        seen[item] = c
                    # Only the first copy in and the last copy out change the result.
                    if not ((sign > 0 and c == 1) or (sign < 0 and c == 0)):
                        continue
                apply(calls[i], item, sign)

    def _apply_counts(self, chunk: Chunk) -> None:
        """`_apply` for count(*) calls only: net rows per group, then one state touch
        per group."""
        ops, rows, group_of = chunk.ops, chunk.rows, self._group_of
        if rows and self._whole_row_key and len(rows[0]) == len(self.group_key):
            group_of = _same  # the rows are their group keys: no key tuple per row
        if ops.count(INSERT) == len(ops):
            deltas: dict[tuple, int] = Counter(map(group_of, rows) if group_of is not _same
                                               else rows)
        else:
            deltas = {}
            get = deltas.get
            for op, row in zip(ops, rows):
                key = group_of(row)
                deltas[key] = get(key, 0) + SIGN[op]
        # Groups are written into the state dict directly: _flush marks every
        # pending group dirty (or deletes it), so no write here goes unrecorded.
        # (A group checkpointed with call states, by an older version, keeps them
        # unused: the output reads the row count.)
        data = self.state.data
        for key, d in deltas.items():
            group = data.get(key)
            if group is None:
                data[key] = [d, None, None, None]
            else:
                group[_ROWS] += d
        self._pending.update(deltas)  # (only the keys matter)

    def _output_row(self, key: tuple, group: list) -> tuple | None:
        if self.group_key and group[_ROWS] <= 0:
            return None
        return self._row_of(key, group)

    def _flush(self) -> list[Chunk]:
        """Net change of every touched group, as chunks that never split a U-/U+ pair."""
        state = self.state
        if not self.group_key and () not in state:
            state.put((), self._new_group())
            self._pending[()] = None
        pending, self._pending = self._pending, {}
        data, output_row = state.data, self._output_row
        ops: list[int] = []
        rows: list[tuple] = []
        kept: list[tuple] = []
        gone: list[tuple] = []
        for key in pending:
            group = data.get(key)
            if group is None:
                continue
            old, new = group[_OUT], output_row(key, group)
            if old != new:
                if old is None:
                    ops.append(INSERT)
                    rows.append(new)  # type: ignore[arg-type]
                elif new is None:
                    ops.append(DELETE)
                    rows.append(old)
                else:
                    ops += (UPDATE_DELETE, UPDATE_INSERT)
                    rows += (old, new)
            if new is None and group[_ROWS] == 0:
                gone.append(key)
            else:
                group[_OUT] = new
                kept.append(key)
        state.mark_dirty_all(kept)
        for key in gone:
            state.delete(key)
        return _cut(ops, rows, self.chunk_size)

    def _forget_below(self, key_pos: int, value: Any) -> None:
        """Drop the state of groups whose key column `key_pos` is below a watermark:
        no row can reach them any more (a window that has closed), and their output
        rows stay where they are downstream. Bounded state for windowed aggregates."""
        if self._cleaned.get(key_pos) == value:
            return
        self._cleaned[key_pos] = value
        state = self.state
        done = [key for key in state.data
                if key[key_pos] is not None and key[key_pos] < value]
        for key in done:
            state.delete(key)

    def _watermark_out(self, wm: Watermark) -> Watermark | None:
        # Only group columns survive; output column = position in the key.
        if wm.column not in self.group_key:
            return None
        out_col = self.group_key.index(wm.column)
        return Watermark(out_col, wm.value)

    def _on_watermark(self, wm: Watermark) -> None:
        self._forget_below(wm.column, wm.value)

    def execute(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        return run_per_epoch(self, input)
