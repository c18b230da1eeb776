"""SQL's NaN: equal to every NaN and larger than every other number.

PostgreSQL (and DuckDB, which answers batch reads) sorts, groups, joins and compares
NaN that way; Python's float('nan') is unequal to itself and unordered, and each
float('nan') object is a different dict key. So values of a double precision or
numeric column never hold a Python NaN: every NaN that enters (type coercion of
DML values and source fields) or is computed (compiled expressions) becomes one of
the two singletons below, whose comparisons follow SQL. Operators then need no NaN
cases of their own: dict keys (GROUP BY, DISTINCT, join keys, min/max counts),
tuple equality, `==`, `<`, `max()`, `min()` and `sorted()` all do the right thing,
and pickling a singleton (checkpointed state) gives the same singleton back.

`!=` is deliberately left as the float's (and Decimal's) own, so `v != v` remains
the test for "v is a NaN" that code written for plain floats relies on; SQL's `<>`
is compiled as `not a == b`.

>>> NAN == float("nan"), NAN < 1.0, 1.0 < NAN, float("inf") < NAN, max([NAN, 2.0, 1e308])
(True, False, True, True, nan)
>>> sorted([NAN, 1.0, float("-inf"), 0.5])
[-inf, 0.5, 1.0, nan]
>>> len({NAN, canonical_float(float("inf") - float("inf"))})
1
"""

from __future__ import annotations

import decimal
from typing import Any

_NAN_HASH = 0x7FF8_0000_0000  # any constant: a NaN equals only NaNs


def _is_nan(v: Any) -> bool:
    """v is a float or Decimal NaN (of any spelling); False for everything else."""
    if isinstance(v, float):
        return v != v
    return isinstance(v, decimal.Decimal) and v.is_nan()


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, decimal.Decimal)) and not isinstance(v, bool)


class SqlNaN(float):
    """The double precision NaN. One instance: NAN."""

    __slots__ = ()

    def __new__(cls) -> SqlNaN:
        return NAN if "NAN" in globals() else float.__new__(cls, "nan")

    def __eq__(self, other: object) -> bool:
        return _is_nan(other)

    def __hash__(self) -> int:
        return _NAN_HASH

    def __lt__(self, other: object) -> bool:
        return False if _is_number(other) else NotImplemented

    def __le__(self, other: object) -> bool:
        return _is_nan(other) if _is_number(other) else NotImplemented

    def __gt__(self, other: object) -> bool:
        return not _is_nan(other) if _is_number(other) else NotImplemented

    def __ge__(self, other: object) -> bool:
        return True if _is_number(other) else NotImplemented

    def __reduce__(self) -> str:
        return "NAN"  # pickled by name: unpickling gives the singleton back

    def __copy__(self) -> SqlNaN:
        return self

    def __deepcopy__(self, memo: Any) -> SqlNaN:
        return self


class SqlNumericNaN(decimal.Decimal):
    """The numeric NaN (numeric 'NaN'). One instance: NUMERIC_NAN."""

    __slots__ = ()

    def __new__(cls) -> SqlNumericNaN:
        if "NUMERIC_NAN" in globals():
            return NUMERIC_NAN
        return decimal.Decimal.__new__(cls, "NaN")

    __eq__ = SqlNaN.__eq__
    __hash__ = SqlNaN.__hash__
    __lt__ = SqlNaN.__lt__
    __le__ = SqlNaN.__le__
    __gt__ = SqlNaN.__gt__
    __ge__ = SqlNaN.__ge__

    def __reduce__(self) -> str:
        return "NUMERIC_NAN"

    def __copy__(self) -> SqlNumericNaN:
        return self

    def __deepcopy__(self, memo: Any) -> SqlNumericNaN:
        return self


NAN: SqlNaN = SqlNaN()
NUMERIC_NAN: SqlNumericNaN = SqlNumericNaN()


def canonical_float(v: Any) -> Any:
    """v, or NAN when v is a float NaN (None passes through)."""
    return NAN if v != v else v


def canonical_numeric(v: Any) -> Any:
    """v, or NUMERIC_NAN when v is a quiet Decimal NaN (None passes through)."""
    return NUMERIC_NAN if v is not None and v.is_qnan() else v


def canonical(v: Any) -> Any:
    """Any value with a float or numeric NaN replaced by its singleton."""
    if isinstance(v, float):
        return NAN if v != v else v
    if isinstance(v, decimal.Decimal) and v.is_qnan():
        return NUMERIC_NAN
    return v
