"""Sort keys for rows: ORDER BY entries turned into one compiled key function.

A key orders NULLs where the entry asks and reverses DESC columns of any
comparable type (so strings and dates sort descending too); a whole-row
tie-break makes the order total, so results never depend on arrival order.
"""

from __future__ import annotations

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


def _null_safe(row: tuple) -> tuple:
    return tuple((v is None, v) for v in row)


def sort_key(order_by: Sequence[tuple[int, bool, bool]],
             tie_break: bool = True) -> Callable[[tuple], tuple]:
    """Key function over a row for entries (column, descending, nulls_first).

    >>> key = sort_key([(0, True, False)])
    >>> sorted([(1, 'a'), (None, 'b'), (3, 'c')], key=key)
    [(3, 'c'), (1, 'a'), (None, 'b')]
    """
    parts = []
    for col, desc, nulls_first in order_by:
        flag = f"r[{col}] is not None" if nulls_first else f"r[{col}] is None"
        value = f"_D(r[{col}])" if desc else f"r[{col}]"
        parts.append(f"({flag}, {value})")
    if tie_break:
        parts.append("_N(r)")
    src = f"lambda r: ({', '.join(parts)}{',' if len(parts) == 1 else ''})"
    return eval(src, {"_D": Desc, "_N": _null_safe})  # noqa: S307 - compiled once per operator
