"""Runtime helpers the compiled expressions call: arithmetic with PostgreSQL's rules,
casts, LIKE. They take non-NULL arguments (the compiled code checks NULLs inline) and
raise DataError with the SQLSTATE PostgreSQL uses; streaming mode turns those into NULL.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import math
import re
from collections.abc import Callable
from typing import Any

from planner.errors import (DIVISION_BY_ZERO, INVALID_PARAMETER, INVALID_TEXT,
                            NUMERIC_OUT_OF_RANGE, DataError)
from planner.nan import NAN, NUMERIC_NAN
from planner.types import DataType, Interval, coerce, to_real

D = decimal.Decimal
# Wide enough for PostgreSQL's numeric results we produce (division keeps >= 16 digits).
NUMERIC_CTX = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN,
                              traps=[decimal.InvalidOperation, decimal.DivisionByZero,
                                     decimal.Overflow])

REAL_MAX = 3.4028234663852886e38  # the largest finite real (float4)

INT_BOUNDS = {"smallint": (-(1 << 15), (1 << 15) - 1), "integer": (-(1 << 31), (1 << 31) - 1),
              "bigint": (-(1 << 63), (1 << 63) - 1)}

# Exceptions a row may raise that streaming mode maps to NULL.
ROW_ERRORS = (DataError, ArithmeticError, ValueError, OverflowError)


def out_of_range(type_name: str) -> DataError:
    return DataError(f"{type_name} out of range", NUMERIC_OUT_OF_RANGE)


def div_zero() -> DataError:
    return DataError("division by zero", DIVISION_BY_ZERO)


def raise_overflow(type_name: str) -> Any:
    raise out_of_range(type_name)


# ---------------------------------------------------------------- arithmetic

def int_div(a: int, b: int) -> int:
    """Integer division truncating toward zero (7/2=3, -7/2=-3)."""
    if b == 0:
        raise div_zero()
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def int_mod(a: int, b: int) -> int:
    """Remainder with the sign of the dividend (-7 % 3 = -1)."""
    if b == 0:
        raise div_zero()
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def float_div(a: float, b: float) -> float:
    if b == 0:
        if math.isnan(a):  # NaN / 0 is NaN, as in PostgreSQL
            return NAN
        raise div_zero()
    return a / b


def float_mod(a: float, b: float) -> float:
    if b == 0:
        raise div_zero()
    return math.fmod(a, b)


def _scale(d: D) -> int:
    exp = d.as_tuple().exponent
    return -exp if isinstance(exp, int) and exp < 0 else 0


def _base10000(d: D) -> tuple[int, int]:
    """(weight, first digit) of d in PostgreSQL's base-10000 numeric representation."""
    if d == 0:
        return 0, 0
    weight = d.adjusted() // 4
    return weight, int(abs(d).scaleb(-4 * weight))


def numeric_div(a: D, b: D) -> D:
    """Numeric division with PostgreSQL's result scale (select_div_scale): at least 16
    significant digits, and no fewer decimals than either input."""
    a, b = D(a), D(b)
    if a.is_nan() or b.is_nan():  # NaN / 0 is NaN, as in PostgreSQL
        return NUMERIC_NAN
    if b == 0:
        raise div_zero()
    w1, f1 = _base10000(a)
    w2, f2 = _base10000(b)
    qweight = w1 - w2 - (1 if f1 < f2 else 0)
    rscale = min(max(16 - qweight * 4, _scale(a), _scale(b), 0), 1000)
    return NUMERIC_CTX.divide(a, b).quantize(D(1).scaleb(-rscale),
                                             rounding=decimal.ROUND_HALF_UP,
                                             context=NUMERIC_CTX)


def numeric_mod(a: D, b: D) -> D:
    if D(a).is_nan() or D(b).is_nan():
        return NUMERIC_NAN
    if b == 0:
        raise div_zero()
    return NUMERIC_CTX.remainder(D(a), D(b))


def interval_div(a: Interval, b: Any) -> Interval:
    if b == 0:
        raise div_zero()
    return a * (1 / float(b))


def date_diff(a: dt.date, b: dt.date) -> int:
    return (a - b).days


def ts_diff(a: dt.datetime, b: dt.datetime) -> Interval:
    """timestamp - timestamp as PostgreSQL shows it: whole days plus a time part."""
    delta = a - b
    micros = delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds
    days, rest = divmod(abs(micros), 86_400_000_000)
    sign = -1 if micros < 0 else 1
    return Interval(0, sign * days, sign * rest)


def add_days(d: dt.date, n: int) -> dt.date:
    return d + dt.timedelta(days=n)


def ts_sub_interval(t: Any, iv: Interval) -> Any:
    return t + (-iv)


def date_add_time(d: dt.date, t: dt.time) -> dt.datetime:
    return dt.datetime.combine(d, t)


_DAY_US = 86_400_000_000


def time_add_interval(t: dt.time, iv: Interval, sign: int = 1) -> dt.time:
    """time +/- interval: only the interval's time part counts and the result wraps
    around midnight, as in PostgreSQL ('23:00' + '2 hours' is '01:00')."""
    us = ((t.hour * 3600 + t.minute * 60 + t.second) * 1_000_000 + t.microsecond
          + sign * iv.micros) % _DAY_US
    s, us = divmod(us, 1_000_000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return dt.time(h, m, s, us)


def time_sub_interval(t: dt.time, iv: Interval) -> dt.time:
    return time_add_interval(t, iv, -1)


# ---------------------------------------------------------------- comparison helpers

def interval_key(v: Any) -> Any:
    """Intervals compare by their normalized length (a month is 30 days)."""
    return v.total_micros() if isinstance(v, Interval) else v


def greatest(*args: Any) -> Any:
    vals = [a for a in args if a is not None]
    return max(vals, key=interval_key) if vals else None


def least(*args: Any) -> Any:
    vals = [a for a in args if a is not None]
    return min(vals, key=interval_key) if vals else None


# ---------------------------------------------------------------- LIKE

def like_regex(pattern: str, escape: str | None = "\\", case_insensitive: bool = False
               ) -> re.Pattern[str]:
    """Translate a LIKE pattern (% and _, with an escape character) to a regex."""
    if escape is not None and len(escape) > 1:
        raise DataError("invalid escape string", "22025")
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if escape and c == escape:
            i += 1
            if i == len(pattern):
                raise DataError("LIKE pattern must not end with escape character", "22025")
            out.append(re.escape(pattern[i]))
        elif c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        else:
            out.append(re.escape(c))
        i += 1
    flags = re.DOTALL | (re.IGNORECASE if case_insensitive else 0)
    return re.compile("".join(out), flags)


@functools.lru_cache(maxsize=256)
def _cached_like(pattern: str, escape: str | None, ci: bool) -> re.Pattern[str]:
    return like_regex(pattern, escape, ci)


def like(s: str, pattern: str, escape: str | None = "\\") -> bool:
    return _cached_like(pattern, escape or None, False).fullmatch(s) is not None


def ilike(s: str, pattern: str, escape: str | None = "\\") -> bool:
    return _cached_like(pattern, escape or None, True).fullmatch(s) is not None


# ---------------------------------------------------------------- casts

def _bool_to_int(v: bool) -> int:
    return 1 if v else 0


def _wrap_coerce(t: DataType) -> Callable[[Any], Any]:
    def conv(v: Any) -> Any:
        try:
            return coerce(v, t)
        except OverflowError as e:
            raise DataError(str(e), NUMERIC_OUT_OF_RANGE) from None
        except (ValueError, decimal.InvalidOperation) as e:
            raise DataError(str(e), INVALID_TEXT) from None
    return conv


def _numeric_to_int(t: DataType) -> Callable[[Any], int]:
    lo, hi = INT_BOUNDS[t.name]

    def conv(v: Any) -> int:
        if isinstance(v, float):
            if v != v or v in (math.inf, -math.inf):
                raise out_of_range(t.name)
            r = round(v)  # float -> int rounds half to even, as PostgreSQL's rint
        else:
            r = int(D(v).to_integral_value(rounding=decimal.ROUND_HALF_UP))
        if not lo <= r <= hi:
            raise out_of_range(t.name)
        return r
    return conv


def _int_narrow(t: DataType) -> Callable[[int], int]:
    lo, hi = INT_BOUNDS[t.name]

    def conv(v: int) -> int:
        if not lo <= v <= hi:
            raise out_of_range(t.name)
        return v
    return conv


def _to_bool_from_int(v: int) -> bool:
    return v != 0


def caster(src: DataType, dst: DataType) -> Callable[[Any], Any] | None:
    """The conversion function from `src` to `dst`; None when values need no change."""
    s, d = src.name, dst.name
    if src == dst or s == "unknown" and d == "varchar":
        return None
    if s == d and d != "numeric":
        return None
    if src.is_integer and dst.is_integer:
        rank = ("smallint", "integer", "bigint")
        return None if rank.index(s) <= rank.index(d) else _int_narrow(dst)
    if d == "real" and (src.is_numeric and s != "real"):
        return _to_real
    if src.is_integer and dst.is_float:
        return float
    if src.is_integer and d == "numeric" and dst.precision is None:
        return D
    if (src.is_float or s == "numeric") and dst.is_integer:
        return _numeric_to_int(dst)
    if s == "numeric" and dst.is_float:
        return float
    if src.is_float and dst.is_float:
        return None
    if s == "boolean" and dst.is_integer:
        return _bool_to_int
    if src.is_integer and d == "boolean":
        return _to_bool_from_int
    if d == "varchar":
        return _wrap_coerce(dst)
    return _wrap_coerce(dst)


def _to_real(v: Any) -> float:
    return to_real(float(v))


def castable(src: DataType, dst: DataType) -> bool:
    """Whether an explicit CAST from src to dst exists (PostgreSQL's cast catalog, roughly)."""
    s, d = src.name, dst.name
    if s == d or s == "unknown" or s == "varchar" or d == "varchar":
        return True
    if src.is_numeric and dst.is_numeric:
        return True
    if {s, d} <= {"boolean", "integer", "smallint", "bigint"} and "boolean" in (s, d):
        return s == "integer" or d == "integer"
    dates = ("date", "timestamp", "timestamptz")
    if s in dates and d in dates:
        return True
    if s in ("timestamp", "timestamptz") and d == "time":
        return True
    if s == "time" and d == "interval" or s == "interval" and d == "time":
        return True
    return False


def check_int_arg(v: Any, name: str) -> int:
    if not isinstance(v, int):
        raise DataError(f"{name} must be an integer", INVALID_PARAMETER)
    return v


def is_distinct(a: Any, b: Any) -> bool:
    """a IS DISTINCT FROM b: NULLs compare equal to each other."""
    if a is None or b is None:
        return (a is None) != (b is None)
    return not interval_key(a) == interval_key(b)  # SQL's NaN equals NaN


def in_list(x: Any, items: tuple[Any, ...]) -> bool | None:
    """x IN (items): TRUE on a match, else NULL if x or any item is NULL, else FALSE."""
    if x is None:
        return None
    k = interval_key(x)
    saw_null = False
    for v in items:
        if v is None:
            saw_null = True
        elif interval_key(v) == k:
            return True
    return None if saw_null else False
