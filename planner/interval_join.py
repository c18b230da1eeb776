"""Interval join bounds: which state rows of a stream join a watermark lets go.

A conjunct of a join's extra condition such as `l.ts <= r.ts + INTERVAL '10' SECOND`
bounds a time column of one side from above by a time column of the other side
plus a constant. A watermark `w` on the upper-bounded column (`l.ts` here) promises
that no later row of that side has `l.ts < w`; such a row can then only match rows
of the other side with `r.ts + 10 s >= l.ts >= w`, so rows with `r.ts + 10 s < w`
never match again and the join may forget them (RisingWave's and Flink's interval
join state cleaning). Each bound is a tuple

    (side, col, other_col, offset_us, strict)

read as: a row of `side` (0 left, 1 right) is no longer needed once
`row[col] + offset_us < w` (`<=` when `strict`) for a watermark `w` on column
`other_col` of the other side. Columns are indices within each side's own row.

>>> from planner import expressions as X
>>> from planner.types import TIMESTAMP, INTERVAL, BOOLEAN, Interval
>>> l, r = X.InputRef(0, TIMESTAMP, "l.ts"), X.InputRef(2, TIMESTAMP, "r.ts")
>>> ten = X.Literal(Interval(0, 0, 10_000_000), INTERVAL)
>>> low = X.Call(">=", (l, X.Call("-", (r, ten), TIMESTAMP)), BOOLEAN)
>>> high = X.Call("<=", (l, r), BOOLEAN)
>>> interval_bounds(X.Call("AND", (low, high), BOOLEAN), 2)
[(0, 0, 0, 10000000, False), (1, 0, 0, 0, False)]
"""

from __future__ import annotations

from planner import expressions as X
from planner.types import Interval

Bound = tuple[int, int, int, int, bool]

_TIMES = ("timestamp", "timestamptz")
_COMPARISONS = ("<", "<=", ">", ">=", "=")


def interval_bounds(condition: X.BoundExpr | None, left_width: int) -> list[Bound]:
    """The bounds found in the top-level conjuncts of a join condition over
    `left_row + right_row` (empty when none: the join keeps all its rows)."""
    out: list[Bound] = []
    for conj in _conjuncts(condition):
        if not (isinstance(conj, X.Call) and conj.name in _COMPARISONS and len(conj.args) == 2):
            continue
        a, b = conj.args
        if conj.name in (">", ">="):
            a, b = b, a
        ta, tb = _term(a), _term(b)
        if ta is None or tb is None:
            continue
        (ca, oa, ty_a), (cb, ob, ty_b) = ta, tb
        if ty_a != ty_b:
            continue
        sa, sb = int(ca >= left_width), int(cb >= left_width)
        if sa == sb:
            continue
        strict = conj.name in ("<", ">")
        col_a, col_b = ca - sa * left_width, cb - sb * left_width
        # a + oa <= b + ob: column a is bounded above by b + (ob - oa); a row of b's
        # side goes once b + ob - oa < watermark of a.
        bounds = [(sb, col_b, col_a, ob - oa, strict)]
        if conj.name == "=":  # and b <= a + (oa - ob) as well
            bounds.append((sa, col_a, col_b, oa - ob, False))
        for bound in bounds:
            if bound not in out:
                out.append(bound)
    return out


def _conjuncts(e: X.BoundExpr | None) -> list[X.BoundExpr]:
    if e is None:
        return []
    if isinstance(e, X.Call) and e.name == "AND":
        return [c for arg in e.args for c in _conjuncts(arg)]
    return [e]


def _term(e: X.BoundExpr) -> tuple[int, int, str] | None:
    """`col`, `col + const` or `col - const` over a time column, as (column, offset in
    microseconds, type name); None for anything else."""
    if isinstance(e, X.InputRef):
        return (e.index, 0, e.type.name) if e.type.name in _TIMES else None
    if not (isinstance(e, X.Call) and e.name in ("+", "-") and len(e.args) == 2):
        return None
    x, y = e.args
    if e.name == "+" and isinstance(x, X.Literal):
        x, y = y, x
    if not (isinstance(x, X.InputRef) and x.type.name in _TIMES and e.type == x.type
            and isinstance(y, X.Literal)):
        return None
    micros = _fixed_micros(y.value, x.type.name)
    if micros is None:
        return None
    return x.index, micros if e.name == "+" else -micros, x.type.name


def _fixed_micros(value: object, time_type: str) -> int | None:
    """An interval of fixed length in microseconds: no months, and no days on a
    timestamptz (a day there follows the time zone's clock changes)."""
    if not isinstance(value, Interval) or value.months:
        return None
    if value.days and time_type != "timestamp":
        return None
    return value.days * 86_400_000_000 + value.micros
