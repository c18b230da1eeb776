"""Sort keys for rows: ORDER BY entries turned into one compiled key function.

A key orders NULLs where the entry asks and reverses DESC columns of any
comparable type (so strings and dates sort descending too); a whole-row
tie-break makes the order total, so results never depend on arrival order.
"""

from __future__ import annotations

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


def _reverse(v: Any) -> Any:
    """Reversed-order stand-in for a value: negation for plain numbers (fast to
    compare), a Desc wrapper for anything else. A column holds one type, so all
    non-NULL values of a column take the same branch."""
    if type(v) in _NEGATABLE:
        return -v
    return v if v is None else Desc(v)


_NEGATABLE = (int, float, decimal.Decimal)


def sort_key(order_by: Sequence[tuple[int, bool, bool]], width: int) -> Callable[[tuple], tuple]:
    """Key function over rows of `width` columns for entries (column, descending,
    nulls_first), followed by every column (NULLs last) as the tie-break; width 0
    leaves ties unbroken. The key is one flat tuple of (is-null flag, value) pairs.

    >>> key = sort_key([(0, True, False)], 2)
    >>> sorted([(1, 'a'), (None, 'b'), (3, 'c'), (1, None)], key=key)
    [(3, 'c'), (1, 'a'), (1, None), (None, 'b')]
    """
    parts = []
    for col, desc, nulls_first in order_by:
        parts.append(f"r[{col}] is not None" if nulls_first else f"r[{col}] is None")
        parts.append(f"_R(r[{col}])" if desc else f"r[{col}]")
    for col in range(width):
        parts.append(f"r[{col}] is None, r[{col}]")
    src = f"lambda r: ({', '.join(parts)}{',' if parts else ''})"
    return eval(src, {"_R": _reverse})  # noqa: S307 - compiled once per operator
