"""HashAgg's accumulators: one per aggregate kind, over a group's flat state list
(see executor.operators.hash_agg for the layout).

Each gives its initial slots (as Python source), apply(g, o, item, sign) for one
row, bulk(g, o, items) for a group's inserted non-empty items of one chunk, and
result(g, o).
"""

from __future__ import annotations

import decimal
from itertools import islice
from typing import Any, Callable, NamedTuple

from executor.operators.top_n.order import sort_key
from planner.aggregates import AggCall
from planner.nan import NAN, NUMERIC_NAN

try:  # C: counts[v] = counts.get(v, 0) + 1 for every v (what Counter.update uses)
    from _collections import _count_elements
except ImportError:  # pragma: no cover
    def _count_elements(counts: dict, items: list) -> None:
        get = counts.get
        for v in items:
            counts[v] = get(v, 0) + 1


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
