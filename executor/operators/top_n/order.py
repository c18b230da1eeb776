"""Sort keys for rows: ORDER BY entries turned into one compiled key function.

A key orders NULLs where the entry asks and reverses DESC columns of any
comparable type (so strings and dates sort descending too); a whole-row
tie-break makes the order total, so results never depend on arrival order.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any, Callable, Sequence


class Desc:
    """Wraps a value so that it compares in reverse; None only meets None."""

    __slots__ = ("v",)

    def __init__(self, v: Any) -> None:
        self.v = v

    def __lt__(self, other: Desc) -> bool:
        return other.v < self.v

    def __gt__(self, other: Desc) -> bool:
        return other.v > self.v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Desc) and self.v == other.v

    __hash__ = None  # type: ignore[assignment]


class _First:
    """Below every value it meets and equal only to itself: the reversed stand-in of
    SQL's NaN (planner/nan.py), which is above every number and equal to itself."""

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        return other is not self

    def __le__(self, other: object) -> bool:
        return True

    def __gt__(self, other: object) -> bool:
        return False

    def __ge__(self, other: object) -> bool:
        return other is self

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "-NaN"


_NAN_REVERSED = _First()


def _reverse(v: Any) -> Any:
    """Reversed-order stand-in for a value: negation for plain numbers (fast to
    compare), the negated distance from a fixed point for dates and timestamps (a
    timedelta: compared in C, unlike a wrapper), a Desc wrapper for anything else. A
    column holds one type, so all non-NULL values of a column take the same branch,
    except SQL's NaN (a float or Decimal subclass whose negation would be an
    unordered NaN), which becomes a stand-in below every negated number. Booleans
    are wrapped, not negated: they are ints to Python but not numbers to SQL."""
    t = type(v)
    if t in _NEGATABLE:
        return -v
    if v is None:
        return v
    if t is datetime.datetime:
        return (_EPOCH if v.tzinfo is None else _EPOCH_TZ) - v
    if t is datetime.date:
        return _DATE_EPOCH - v
    return _NAN_REVERSED if isinstance(v, _NAN_TYPES) else Desc(v)


_NEGATABLE = (int, float, decimal.Decimal)
_NAN_TYPES = (float, decimal.Decimal)  # their subclasses here: planner/nan.py's NaNs
_EPOCH = datetime.datetime(2000, 1, 1)
_EPOCH_TZ = _EPOCH.replace(tzinfo=datetime.timezone.utc)
_DATE_EPOCH = _EPOCH.date()


def _order_parts(order_by: Sequence[tuple[int, bool, bool]], base: int) -> list[str]:
    parts = []
    for col, desc, nulls_first in order_by:
        v = f"r[{col + base}]"
        parts.append(f"{v} is not None" if nulls_first else f"{v} is None")
        # Negating an int inline saves a call per row for the most common DESC column.
        parts.append(f"(-{v} if type({v}) is int else _R({v}))" if desc else v)
    return parts


def _tie_parts(width: int, base: int) -> list[str]:
    return [f"r[{c}] is None, r[{c}]" for c in range(base, base + width)]


def _compile(parts: list[str]) -> Callable[[tuple], tuple]:
    src = f"lambda r: ({', '.join(parts)}{',' if parts else ''})"
    return eval(src, {"_R": _reverse})  # noqa: S307 - compiled once per operator


def sort_key(order_by: Sequence[tuple[int, bool, bool]], width: int,
             base: int = 0) -> Callable[[tuple], tuple]:
    """Key function over rows of `width` columns for entries (column, descending,
    nulls_first), followed by every column (NULLs last) as the tie-break; width 0
    leaves ties unbroken. With `base`, column 0 is at index `base` of the tuple (state
    keys that start with the group key). The key is one flat tuple of (is-null flag, value) pairs.

    >>> key = sort_key([(0, True, False)], 2)
    >>> sorted([(1, 'a'), (None, 'b'), (3, 'c'), (1, None)], key=key)
    [(3, 'c'), (1, 'a'), (1, None), (None, 'b')]
    >>> from planner.nan import NAN
    >>> sorted([(1.5, 'a'), (NAN, 'b'), (float('inf'), 'c')], key=key)
    [(nan, 'b'), (inf, 'c'), (1.5, 'a')]
    >>> sorted([(False,), (True,), (None,)], key=sort_key([(0, True, True)], 0))
    [(None,), (True,), (False,)]
    """
    return _compile(_order_parts(order_by, base) + _tie_parts(width, base))


def order_cmp(order_by: Sequence[tuple[int, bool, bool]],
              base: int = 0) -> Callable[[tuple, tuple], int]:
    """Three-way comparison of two tuples by the ORDER BY entries alone (-1: the first
    sorts before the second), agreeing with order_key, without building keys: no
    allocation for a row that is only compared and then dropped.

    >>> from planner.nan import NAN
    >>> cmp = order_cmp([(0, True, False)])
    >>> cmp((NAN,), (1.0,)), cmp((None,), (1.0,)), cmp((2,), (2,)), cmp((1,), (2,))
    (-1, 1, 0, 1)
    """
    lines = ["def cmp(a, b):"]
    for col, desc, nulls_first in order_by:
        c = col + base
        first, second = (-1, 1) if nulls_first else (1, -1)
        # `==` first: SQL's NaN equals itself, and None only meets None there.
        lines += [f"    x = a[{c}]", f"    y = b[{c}]", "    if not x == y:",
                  f"        if x is None: return {first}",
                  f"        if y is None: return {second}",
                  f"        return -1 if x {'>' if desc else '<'} y else 1"]
    lines.append("    return 0")
    scope: dict[str, Any] = {}
    exec("\n".join(lines), scope)  # noqa: S102 - compiled once per operator
    return scope["cmp"]  # type: ignore[no-any-return]


def order_key(order_by: Sequence[tuple[int, bool, bool]],
              base: int = 0) -> Callable[[tuple], tuple]:
    """The ORDER BY part of `sort_key` alone, over tuples whose column 0 is at index
    `base` (state keys that start with the group key)."""
    return _compile(_order_parts(order_by, base))


def tie_key(width: int, base: int = 0) -> Callable[[tuple], tuple]:
    """The tie-break part of `sort_key` alone: order_key(t) + tie_key(t) == sort_key(t)
    for the same `base`, so (order key, then tie key) orders rows as sort_key does."""
    return _compile(_tie_parts(width, base))
