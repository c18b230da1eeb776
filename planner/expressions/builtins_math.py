"""Math functions with PostgreSQL's semantics: numeric rounds half away from zero,
double precision rounds half to even, domain errors raise with PostgreSQL's SQLSTATE."""

from __future__ import annotations

import decimal
import math
from typing import Any

from planner.errors import DataError
from planner.expressions.runtime import NUMERIC_CTX, out_of_range

D = decimal.Decimal


def _q(n: int) -> D:
    return D(1).scaleb(-n)


def _sig16(r: D, *inputs: Any) -> D:
    """A transcendental numeric result cut to about 16 significant digits (and no fewer
    decimals than the inputs), the precision PostgreSQL shows for them."""
    if not r:
        return D(0)
    scales = [-d.as_tuple().exponent for d in inputs if isinstance(d, D)
              and isinstance(d.as_tuple().exponent, int)]
    scale = max([16 - (r.adjusted() + 1), 0, *scales])
    return r.quantize(_q(scale), rounding=decimal.ROUND_HALF_UP, context=NUMERIC_CTX)


def round0(x: Any) -> Any:
    if isinstance(x, D):
        return x.to_integral_value(rounding=decimal.ROUND_HALF_UP)
    if isinstance(x, float):
        return float(round(x)) if math.isfinite(x) else x
    return x


def round_n(x: D, n: int) -> D:
    return D(x).quantize(_q(n), rounding=decimal.ROUND_HALF_UP, context=NUMERIC_CTX)


def trunc0(x: Any) -> Any:
    if isinstance(x, D):
        return x.to_integral_value(rounding=decimal.ROUND_DOWN)
    return float(math.trunc(x)) if math.isfinite(x) else x


def trunc_n(x: D, n: int) -> D:
    return D(x).quantize(_q(n), rounding=decimal.ROUND_DOWN, context=NUMERIC_CTX)


def floor(x: Any) -> Any:
    if isinstance(x, D):
        return x.to_integral_value(rounding=decimal.ROUND_FLOOR)
    return float(math.floor(x)) if math.isfinite(x) else x


def ceil(x: Any) -> Any:
    if isinstance(x, D):
        return x.to_integral_value(rounding=decimal.ROUND_CEILING)
    return float(math.ceil(x)) if math.isfinite(x) else x


def sign(x: Any) -> Any:
    s = (x > 0) - (x < 0)
    if isinstance(x, D):
        return D(s)
    return float(s)


def sqrt(x: Any) -> Any:
    if x < 0:
        raise DataError("cannot take square root of a negative number", "2201F")
    if isinstance(x, D):
        return _sig16(NUMERIC_CTX.sqrt(x), x)
    return math.sqrt(x)


def cbrt(x: float) -> float:
    return math.cbrt(x)


def exp(x: Any) -> Any:
    try:
        if isinstance(x, D):
            return _sig16(NUMERIC_CTX.exp(x), x)
        return math.exp(x)
    except (OverflowError, decimal.Overflow):
        raise out_of_range("value") from None


def _log_check(x: Any) -> None:
    if x == 0:
        raise DataError("cannot take logarithm of zero", "2201E")
    if x < 0:
        raise DataError("cannot take logarithm of a negative number", "2201E")


def ln(x: Any) -> Any:
    _log_check(x)
    if isinstance(x, D):
        return _sig16(NUMERIC_CTX.ln(x), x)
    return math.log(x)


def log10(x: Any) -> Any:
    _log_check(x)
    if isinstance(x, D):
        return _sig16(NUMERIC_CTX.log10(x), x)
    return math.log10(x)


def log_base(b: Any, x: Any) -> Any:
    _log_check(b)
    _log_check(x)
    if isinstance(x, D):
        lb = NUMERIC_CTX.ln(D(b))
        if lb == 0:
            raise DataError("division by zero", "22012")
        return _sig16(NUMERIC_CTX.divide(NUMERIC_CTX.ln(x), lb), b, x)
    lb = math.log(b)
    if lb == 0:
        raise DataError("division by zero", "22012")
    return math.log(x) / lb


def power(a: Any, b: Any) -> Any:
    if a == 0 and b < 0:
        raise DataError("zero raised to a negative power is undefined", "2201F")
    if a < 0 and b != int(b):
        raise DataError("a negative number raised to a non-integer power yields a complex "
                        "result", "2201F")
    try:
        if isinstance(a, D) or isinstance(b, D):
            if D(b) == D(b).to_integral_value():
                return NUMERIC_CTX.power(D(a), int(b))
            return _sig16(NUMERIC_CTX.power(D(a), D(b)), a, b)
        r = math.pow(a, b)
    except (OverflowError, decimal.Overflow):
        raise out_of_range("value") from None
    return r


def pi() -> float:
    return math.pi
