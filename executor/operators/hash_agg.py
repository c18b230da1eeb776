"""HashAgg: grouped and simple (no GROUP BY) aggregation, fully retractable.

State: one StateTable entry per group, key = the group key values (so the key
starts with the distribution key), value = one flat list
`[row_count, None, 0, call slots...]` (few objects per group:
each surviving object costs the garbage collector and the checkpoint's pickling).
Every aggregate keeps enough to undo a row exactly: counts, running sums,
value -> count maps for min/max, item -> count maps for string_agg, and for
DISTINCT calls a value -> count map that forwards only 0<->1 transitions.
When every call is count(*) without FILTER, each call's count is the row count,
so a group is just `[row_count, None, None, None]`. (Older checkpoints hold the
last emitted row in slot 1, and nested call states: both are read.)

A chunk of inserts only is grouped by key first and each call applied to a group's
values at once; a chunk with retractions goes row by row.

Output is emitted at barriers: the net change of each group touched in the
epoch (INSERT for a new group, DELETE for a vanished one, an adjacent U-/U+
pair for a changed one). The row a group last emitted is kept in memory beside
the state: a checkpoint is committed right after its barrier's output, so after a
restart each group's last row is the output of its committed state, and nothing
is emitted twice; a simple aggregation's single row is inserted at the first
barrier and recorded the same way.
"""

from __future__ import annotations

import decimal
from collections import Counter
from itertools import islice
from operator import itemgetter
from typing import Any, AsyncIterator, Callable, NamedTuple

from executor.message import (DELETE, INSERT, SIGN, UPDATE_DELETE, UPDATE_INSERT,
                              Chunk, Message, Watermark, cut)
from executor.operators.per_epoch import run_per_epoch
from executor.operators.top_n.order import sort_key
from planner.aggregates import AggCall
from planner.nan import NAN, NUMERIC_NAN
from storage.state_table import StateTable

try:  # C: counts[v] = counts.get(v, 0) + 1 for every v (what Counter.update uses)
    from _collections import _count_elements
except ImportError:  # pragma: no cover
    def _count_elements(counts: dict, items: list) -> None:
        get = counts.get
        for v in items:
            counts[v] = get(v, 0) + 1

_SKIP = object()  # an input row that does not feed a call (NULL argument, FILTER false)

# A group's state: one flat list [row_count, last_emitted_row_or_None, _FLAT, slots...],
# each call owning consecutive slots from its offset `o` (a DISTINCT call first a
# value -> count dict, then its accumulator's). Groups checkpointed in the older
# layout [row_count, last_row, [call states], [distinct dicts]] are flattened when
# first touched (`_upgrade`); a count(*)-only operator keeps [row_count, last_row,
# None, None].
_ROWS, _OUT, _LAYOUT = 0, 1, 2  # _OUT: None (the last emitted row before the flat layout)
_FLAT = 0  # in slot _LAYOUT: the flat layout (the older one holds a list there)
_FIRST = 3  # the first call's offset


# -- one accumulator per aggregate kind: its initial slots, apply(g, o, item, sign)
#    for one row, bulk(g, o, items) for a group's inserted non-empty items of one
#    chunk, result(g, o)

def _apply_count(g: list, o: int, item: Any, sign: int) -> None:
    g[o] += sign


def _bulk_count(g: list, o: int, items: list) -> None:
    g[o] += len(items)


def _count_result(g: list, o: int) -> int:
    return g[o]  # type: ignore[no-any-return]


# non-null count, running total (None while empty), NaN count
_NUMERIC_SUM_SLOTS = "0, None, 0"


def _apply_numeric_sum(g: list, o: int, v: Any, sign: int) -> None:
    """A sum that a NaN makes NaN only while the NaN row is present (numeric NaN
    arithmetic would stick after the row's retraction)."""
    n = g[o] + sign
    g[o] = n
    if v != v:
        g[o + 2] += sign
        if n == 0:
            g[o + 1] = None
    elif n == 0:
        g[o + 1] = None  # restart exactly: no float residue after full retraction
    elif g[o + 1] is None:
        g[o + 1] = v if sign > 0 else -v
    else:
        g[o + 1] = g[o + 1] + v if sign > 0 else g[o + 1] - v


def _bulk_numeric_sum(g: list, o: int, vs: list) -> None:
    total = g[o + 1]
    # The same additions, in the same order, as row by row (numeric rounding alike).
    s = sum(vs, total) if total is not None else sum(islice(vs, 1, None), vs[0])
    if s != s or g[o] < 0:  # a NaN among them: counted apart, row by row
        for v in vs:
            _apply_numeric_sum(g, o, v, 1)
        return
    g[o] += len(vs)
    g[o + 1] = s


def _numeric_sum_result(g: list, o: int) -> Any:
    if g[o] <= 0:
        return None
    return NUMERIC_NAN if g[o + 2] else g[o + 1]


# Every finite double is an integer multiple of 2**-1074, so float sums are kept as
# exact integers in that unit: retracting a row then leaves no rounding residue
# (1e300 + 1 - 1e300 is 1, not 0), and the result does not depend on row order.
_FLOAT_UNIT_BITS = 1074
_FLOAT_UNIT = 1 << _FLOAT_UNIT_BITS
_INF = float("inf")
# non-null count, exact total in units, +inf, -inf and NaN counts
_FLOAT_SUM_SLOTS = "0, 0, 0, 0, 0"


def _apply_float_sum(g: list, o: int, v: Any, sign: int) -> None:
    g[o] += sign
    if v != v:
        g[o + 4] += sign
    elif v == _INF:
        g[o + 2] += sign
    elif v == -_INF:
        g[o + 3] += sign
    else:
        num, den = v.as_integer_ratio()  # den is a power of two
        g[o + 1] += sign * (num << (_FLOAT_UNIT_BITS + 1 - den.bit_length()))


def _bulk_float_sum(g: list, o: int, vs: list) -> None:
    for v in vs:
        _apply_float_sum(g, o, v, 1)


def _float_total(g: list, o: int, n: int = 1) -> float | None:
    """The exact total (divided by n), rounded once to the nearest double."""
    if g[o] <= 0:
        return None
    if g[o + 4] or (g[o + 2] and g[o + 3]):
        return NAN
    if g[o + 2] or g[o + 3]:
        return _INF if g[o + 2] else -_INF
    try:
        return g[o + 1] / (_FLOAT_UNIT * n)  # int / int is correctly rounded
    except OverflowError:
        return _INF if g[o + 1] > 0 else -_INF


def _float_avg(g: list, o: int) -> float | None:
    return _float_total(g, o, g[o])


# The values, cached extreme (None = recompute). The values are a list while only
# inserts came and they are few (extended in one call, pickled compactly), then a
# value -> count dict (what a retraction needs, and bounded by distinct values).
_EXTREME_SLOTS = "[], None"
_LIST_MAX = 128


def _counts_of(values: list) -> dict:
    counts: dict = {}
    _count_elements(counts, values)
    return counts


def _make_extreme(is_min: bool) -> tuple[Callable[..., None], Callable[..., None],
                                         Callable[[list, int], Any]]:
    pick = min if is_min else max

    def apply(g: list, o: int, v: Any, sign: int) -> None:
        counts = g[o]
        if counts.__class__ is list:
            counts = g[o] = _counts_of(counts)
        c = counts.get(v, 0) + sign
        if c == 0:
            del counts[v]
            if g[o + 1] is not None and g[o + 1] == v:
                g[o + 1] = None
        else:
            counts[v] = c
            cur = g[o + 1]
            if sign > 0 and cur is not None and (v < cur if is_min else v > cur):
                g[o + 1] = v

    def bulk(g: list, o: int, vs: list) -> None:
        values = g[o]
        was_empty = not values
        if values.__class__ is not list:
            _count_elements(values, vs)
        elif len(values) + len(vs) <= _LIST_MAX:
            values += vs
        else:
            g[o] = _counts_of(values + vs)
        m, cur = pick(vs), g[o + 1]
        if was_empty or (cur is not None and (m < cur if is_min else m > cur)):
            g[o + 1] = m

    def result(g: list, o: int) -> Any:
        counts = g[o]
        if not counts:
            return None
        if g[o + 1] is None:
            g[o + 1] = pick(counts)
        return g[o + 1]
    return apply, bulk, result


_BOOL_SLOTS = "0, 0"  # count of true, count of false


def _apply_bool(g: list, o: int, v: Any, sign: int) -> None:
    g[o if v else o + 1] += sign


def _bulk_bool(g: list, o: int, vs: list) -> None:
    t = vs.count(True)
    g[o] += t
    g[o + 1] += len(vs) - t


def _bool_and(g: list, o: int) -> Any:
    return None if g[o] == 0 and g[o + 1] == 0 else g[o + 1] == 0


def _bool_or(g: list, o: int) -> Any:
    return None if g[o] == 0 and g[o + 1] == 0 else g[o] > 0


def _apply_multiset(g: list, o: int, item: Any, sign: int) -> None:
    counts = g[o]
    c = counts.get(item, 0) + sign
    if c == 0:
        del counts[item]
    else:
        counts[item] = c


def _bulk_multiset(g: list, o: int, items: list) -> None:
    _count_elements(g[o], items)


def _avg_result(call: AggCall) -> Callable[[list, int], Any]:
    def result(g: list, o: int) -> Any:
        n, total = g[o], g[o + 1]
        if g[o + 2] and n > 0:
            return NUMERIC_NAN
        if n <= 0 or total is None:
            return None
        if isinstance(total, (int, decimal.Decimal)):
            return decimal.Decimal(total) / decimal.Decimal(n)
        if isinstance(total, float):
            return total / n
        return total * (1 / n)  # interval
    return result


def _string_agg_result(call: AggCall) -> Callable[[list, int], Any]:
    k = len(call.order_by)
    # Items are (order values..., value, separator); PostgreSQL puts NULLs last
    # for ASC and first for DESC; ties fall back to the value.
    key = sort_key([(i, desc, desc) for i, (_, desc) in enumerate(call.order_by)], k + 2)

    def result(g: list, o: int) -> Any:
        counts = g[o]
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


def _array_agg_result(call: AggCall) -> Callable[[list, int], Any]:
    """The values as a list, NULLs included (as PostgreSQL's array_agg keeps them),
    in ORDER BY order; ties, and the order without ORDER BY, by value."""
    k = len(call.order_by)
    key = sort_key([(i, desc, desc) for i, (_, desc) in enumerate(call.order_by)], k + 1)

    def result(g: list, o: int) -> Any:
        counts = g[o]
        if not counts:
            return None
        out: list[Any] = []
        for item in sorted(counts, key=key):
            out.extend([item[k]] * counts[item])
        return tuple(out)  # a tuple: rows stay hashable (the serving store makes it a list)
    return result


class _Acc(NamedTuple):
    slots: str  # the initial slot values, as Python source (a literal list's items)
    apply: Callable[[list, int, Any, int], None]
    bulk: Callable[[list, int, list], None]
    result: Callable[[list, int], Any]


def _accumulator(call: AggCall) -> _Acc:
    kind = call.kind
    if kind in ("count_star", "count"):
        return _Acc("0", _apply_count, _bulk_count, _count_result)
    if kind in ("sum", "avg") and call.result_type.is_float:
        return _Acc(_FLOAT_SUM_SLOTS, _apply_float_sum, _bulk_float_sum,
                    _float_total if kind == "sum" else _float_avg)
    if kind in ("sum", "avg"):
        return _Acc(_NUMERIC_SUM_SLOTS, _apply_numeric_sum, _bulk_numeric_sum,
                    _numeric_sum_result if kind == "sum" else _avg_result(call))
    if kind in ("min", "max"):
        return _Acc(_EXTREME_SLOTS, *_make_extreme(kind == "min"))
    if kind in ("bool_and", "bool_or"):
        return _Acc(_BOOL_SLOTS, _apply_bool, _bulk_bool,
                    _bool_and if kind == "bool_and" else _bool_or)
    if kind == "string_agg":
        return _Acc("{}", _apply_multiset, _bulk_multiset, _string_agg_result(call))
    if kind == "array_agg":
        return _Acc("{}", _apply_multiset, _bulk_multiset, _array_agg_result(call))
    raise ValueError(f"unknown aggregate kind {kind!r}")


def _extractor(call: AggCall) -> Callable[[tuple], Any]:
    """Row -> the item the call accumulates, or _SKIP."""
    f, arg = call.filter_col, call.arg
    if call.kind == "count_star" or arg is None:
        if f is None:
            return lambda row: ()
        return lambda row: () if row[f] is True else _SKIP
    if call.kind == "array_agg":
        cols = [c for c, _ in call.order_by]

        def value(row: tuple) -> Any:
            if f is not None and row[f] is not True:
                return _SKIP
            return tuple(row[c] for c in cols) + (row[arg],)
        return value
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


def _items_code(call: AggCall, i: int) -> str:
    """Source of the list of items call i accumulates from a group's rows `rs`."""
    f, a = call.filter_col, call.arg
    if call.kind in ("string_agg", "array_agg"):
        return f"[x for x in map(_x{i}, rs) if x is not _SKIP]"
    if call.kind == "count_star" or a is None:
        return "[() for r in rs]" if f is None else f"[() for r in rs if r[{f}] is True]"
    test = f"r[{a}] is not None" + ("" if f is None else f" and r[{f}] is True")
    return f"[r[{a}] for r in rs if {test}]"


def _bulk_code(call: AggCall, i: int, o: int, distinct_at: int | None) -> list[str]:
    """Source lines applying a group's inserted rows `rs` (n of them) to call i."""
    f = call.filter_col
    if call.kind == "count_star" and distinct_at is None:
        return [f"g[{o}] += n" if f is None else f"g[{o}] += [r[{f}] for r in rs].count(True)"]
    if call.kind == "count" and distinct_at is None and f is None:
        return [f"g[{o}] += n - [r[{call.arg}] for r in rs].count(None)"]
    lines = [f"v = {_items_code(call, i)}", "if v:"]
    if distinct_at is None:
        return lines + [f"    _b{i}(g, {o}, v)"]
    return lines + [f"    v = _first_copies(g[{distinct_at}], v)", "    if v:",
                    f"        _b{i}(g, {o}, v)"]


def _first_copies(seen: dict, items: list) -> list:
    """Items of a DISTINCT call that were not present yet (every item is counted):
    only the first copy in and the last copy out change the result."""
    out = []
    for x in items:
        c = seen.get(x, 0) + 1
        seen[x] = c
        if c == 1:
            out.append(x)
    return out


def _same(row: tuple) -> tuple:
    return row


class HashAgg:
    """Aggregates per group; output row = group key values + one value per call.

    State table: key = group key values, dist_len = len(group_key)."""

    def __init__(self, group_key: list[int], calls: list[AggCall], state: StateTable,
                 chunk_size: int = 1024) -> None:
        self.group_key = list(group_key)
        self.calls = list(calls)
        self.state = state
        self.chunk_size = chunk_size
        self._accs = [_accumulator(call) for call in self.calls]
        self._offsets: list[int] = []
        self._distinct_at: list[int | None] = []
        o = _FIRST
        for call, acc in zip(self.calls, self._accs):
            self._distinct_at.append(o if call.distinct else None)
            o += call.distinct
            self._offsets.append(o)
            o += acc.slots.count(",") + 1
        # (extract, apply, offset, offset of the DISTINCT dict or -1) per call
        self._plan = [(_extractor(c), a.apply, o, -1 if d is None else d)
                      for c, a, o, d in zip(self.calls, self._accs, self._offsets,
                                            self._distinct_at)]
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
        self._compile()
        self._pending: dict[tuple, Any] = {}  # groups touched this epoch, in order
        # key -> the row the group last emitted. Kept out of the state, whose
        # checkpoints then pickle no output rows (numeric averages cost the most).
        self._emitted: dict[tuple, tuple] = {}
        self._cleaned: dict[int, Any] = {}  # key position -> last watermark cleaned to

    def _compile(self) -> None:
        """Generated code: a new group's list, key + group -> output row, and the
        insert-only chunk path (rows grouped by key, each call applied to a group's
        items at once: counts as list counts, sums as one sum(), min/max as one
        min()/max() and one C-level count of the values)."""
        ns: dict[str, Any] = {"_SKIP": _SKIP, "_first_copies": _first_copies}
        slots, args = [], []
        body = []
        for i, (call, acc, o, d) in enumerate(zip(self.calls, self._accs, self._offsets,
                                                  self._distinct_at)):
            ns.update({f"_r{i}": acc.result, f"_b{i}": acc.bulk, f"_x{i}": self._plan[i][0]})
            slots.append(("{}, " if d is not None else "") + acc.slots)
            args.append("g[0]" if self._counts_only else f"g[{o}]" if acc.result is _count_result
                        else f"_r{i}(g, {o})")
            body += _bulk_code(call, i, o, d)
        self._fresh: Callable[[], list] = eval(  # noqa: S307
            f"lambda: [0, None, {_FLAT}, {', '.join(slots)}]")
        self._row_of: Callable[[tuple, list], tuple] = eval(  # noqa: S307
            f"lambda k, g: k + ({''.join(a + ', ' for a in args)})", ns)
        key = "(" + "".join(f"r[{c}], " for c in self.group_key) + ")"
        src = "\n".join([
            "def _bulk(rows, data, pending, fresh, upgrade):",
            "    groups = {}",
            "    get = groups.get",
            "    for r in rows:",
            f"        k = {key}",
            "        rs = get(k)",
            "        if rs is None:",
            "            groups[k] = [r]",
            "        else:",
            "            rs.append(r)",
            "    dget = data.get",
            "    for k, rs in groups.items():",
            "        g = dget(k)",
            "        if g is None:",
            "            g = data[k] = fresh()",
            f"        elif g[{_LAYOUT}].__class__ is not int:",
            "            g = upgrade(k, g)",
            "        pending[k] = None",
            "        n = len(rs)",
            "        g[0] += n",
            *("        " + line for line in body), ""])
        exec(compile(src, "<hash_agg>", "exec"), ns)  # noqa: S102
        self._bulk = ns["_bulk"]
        self._bulk.__doc__ = src

    def _new_group(self) -> list:
        if self._counts_only:
            return [0, None, None, None]
        return self._fresh()

    def _upgrade(self, key: tuple, group: list) -> list:
        """A group checkpointed in the older layout, flattened and stored back."""
        flat = [group[_ROWS], None, _FLAT]
        states, distincts = group[2], group[3]
        for i, (call, acc) in enumerate(zip(self.calls, self._accs)):
            if call.distinct:
                flat.append(distincts[i])
            flat += states[i]
            if acc.apply is _apply_numeric_sum and len(states[i]) == 2:
                flat.append(0)  # checkpointed before NaNs were counted apart
        self.state.data[key] = flat
        return flat

    def _apply(self, chunk: Chunk) -> None:
        if self._counts_only:
            self._apply_counts(chunk)
        elif DELETE in chunk.ops or UPDATE_DELETE in chunk.ops:
            self._apply_rows(chunk)
        else:
            # New groups are written into the state dict directly: _flush marks every
            # pending group dirty (or deletes it), so no write goes unrecorded.
            self._bulk(chunk.rows, self.state.data, self._pending, self._fresh, self._upgrade)

    def _apply_rows(self, chunk: Chunk) -> None:
        """Row by row, for chunks with retractions."""
        data, pending, fresh = self.state.data, self._pending, self._fresh
        group_of, plan = self._group_of, self._plan
        for op, row in zip(chunk.ops, chunk.rows):
            sign = SIGN[op]
            key = group_of(row)
            g = data.get(key)
            if g is None:
                g = data[key] = fresh()
            elif type(g[_LAYOUT]) is not int:
                g = self._upgrade(key, g)
            pending[key] = None
            g[_ROWS] += sign
            for extract, apply, o, d in plan:
                item = extract(row)
                if item is _SKIP:
                    continue
                if d >= 0:
                    seen = g[d]
                    c = seen.get(item, 0) + sign
                    if c == 0:
                        del seen[item]
                    else:
                        seen[item] = c
                    # Only the first copy in and the last copy out change the result.
                    if not ((sign > 0 and c == 1) or (sign < 0 and c == 0)):
                        continue
                apply(g, o, item, sign)

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
        if not self._counts_only and type(group[_LAYOUT]) is not int:
            group = self._upgrade(key, group)  # (closed windows, untouched since a restart)
        return self._row_of(key, group)

    def _flush(self) -> list[Chunk]:
        """Net change of every touched group, as chunks that never split a U-/U+ pair."""
        state = self.state
        if not self.group_key and () not in state:
            state.put((), self._new_group())
            self._pending[()] = None
        pending, self._pending = self._pending, {}
        data, output_row, emitted = state.data, self._output_row, self._emitted
        ops: list[int] = []
        rows: list[tuple] = []
        kept: list[tuple] = []
        gone: list[tuple] = []
        for key in pending:
            group = data.get(key)
            if group is None:
                continue
            old, new = emitted.get(key), output_row(key, group)
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
            if new is None:
                emitted.pop(key, None)
                if group[_ROWS] == 0:
                    gone.append(key)
                    continue
            else:
                emitted[key] = new
            kept.append(key)
        state.mark_dirty_all(kept)
        for key in gone:
            state.delete(key)
        return cut(ops, rows, self.chunk_size)

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
            self._emitted.pop(key, None)

    def _watermark_out(self, wm: Watermark) -> Watermark | None:
        # Only group columns survive; output column = position in the key.
        if wm.column not in self.group_key:
            return None
        out_col = self.group_key.index(wm.column)
        return Watermark(out_col, wm.value)

    def _on_watermark(self, wm: Watermark) -> None:
        self._forget_below(wm.column, wm.value)

    def _recall_emitted(self) -> None:
        """The rows groups last emitted, after a restart: a checkpoint is committed
        right after the barrier's output, so each group's row then is the output of
        its committed state (older checkpoints also hold the row itself)."""
        for key, group in list(self.state.data.items()):
            row = group[_OUT]
            if row is None:
                row = self._output_row(key, group)
            else:
                group[_OUT] = None
            if row is not None:
                self._emitted[key] = row

    def execute(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        self._recall_emitted()
        return run_per_epoch(self, input)
