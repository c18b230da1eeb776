"""HashAgg's per-call row extractors and the source of its generated insert-only
chunk path (compiled by HashAgg._compile)."""

from __future__ import annotations

from typing import Any, Callable

from planner.aggregates import AggCall

_SKIP = object()  # an input row that does not feed a call (NULL argument, FILTER false)


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
