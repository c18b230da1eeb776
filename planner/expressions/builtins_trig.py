"""Trigonometric and hyperbolic functions with PostgreSQL's semantics: arguments
outside a function's domain raise 22003 ("input is out of range"), NaN gives NaN,
and the degree variants (sind, cosd, ...) are exact where the result is a
"nice" value (sind(30) = 0.5, tand(45) = 1, cotd(0) = Infinity), as PostgreSQL's
are. The same functions answer batch queries (registered in DuckDB), so a view
and a SELECT agree."""

from __future__ import annotations

import math

from planner.errors import DataError

_INF = math.inf


def _out_of_range() -> DataError:
    return DataError("input is out of range", "22003")


def _finite(x: float) -> None:
    if math.isinf(x):
        raise _out_of_range()


def _unit(x: float) -> None:
    if not math.isnan(x) and not -1.0 <= x <= 1.0:
        raise _out_of_range()


def sin(x: float) -> float:
    _finite(x)
    return math.sin(x)


def cos(x: float) -> float:
    _finite(x)
    return math.cos(x)


def tan(x: float) -> float:
    _finite(x)
    return math.tan(x)


def cot(x: float) -> float:
    _finite(x)
    t = math.tan(x)
    return _INF if t == 0 else 1.0 / t


def asin(x: float) -> float:
    _unit(x)
    return math.asin(x)


def acos(x: float) -> float:
    _unit(x)
    return math.acos(x)


def atan(x: float) -> float:
    return math.atan(x)


def atan2(y: float, x: float) -> float:
    return math.atan2(y, x)


def sinh(x: float) -> float:
    try:
        return math.sinh(x)
    except OverflowError:
        return math.copysign(_INF, x)


def cosh(x: float) -> float:
    try:
        return math.cosh(x)
    except OverflowError:
        return _INF


def tanh(x: float) -> float:
    return math.tanh(x)


def asinh(x: float) -> float:
    return math.asinh(x)


def acosh(x: float) -> float:
    if x < 1.0:
        raise _out_of_range()
    return math.acosh(x)


def atanh(x: float) -> float:
    _unit(x)
    if abs(x) == 1.0:
        return math.copysign(_INF, x)
    return math.atanh(x)


def degrees(x: float) -> float:
    return math.degrees(x)


def radians(x: float) -> float:
    return math.radians(x)


# ---------------------------------------------------------------- degrees
# The degree variants work in the first quadrant, scaled by the values at 30, 45
# and 60 degrees so that those come out exact, as PostgreSQL computes them.
_RAD = math.pi / 180.0
_SIN_30 = math.sin(30.0 * _RAD)
_ONE_MINUS_COS_60 = 1.0 - math.cos(60.0 * _RAD)
_ASIN_0_5 = math.asin(0.5)
_ACOS_0_5 = math.acos(0.5)
_ATAN_1 = math.atan(1.0)


def _sind_0_to_30(x: float) -> float:
    return (math.sin(x * _RAD) / _SIN_30) / 2.0


def _cosd_0_to_60(x: float) -> float:
    return 1.0 - ((1.0 - math.cos(x * _RAD)) / _ONE_MINUS_COS_60) / 2.0


def _sind_q1(x: float) -> float:
    return _sind_0_to_30(x) if x <= 30.0 else _cosd_0_to_60(90.0 - x)


def _cosd_q1(x: float) -> float:
    return _cosd_0_to_60(x) if x <= 60.0 else _sind_0_to_30(90.0 - x)


_TAN_45 = _sind_q1(45.0) / _cosd_q1(45.0)
_COT_45 = _cosd_q1(45.0) / _sind_q1(45.0)


def _first_quadrant(x: float, odd_past_90: bool) -> tuple[float, float]:
    """x folded into [0, 90] and the sign of the result; `odd_past_90`: the function
    changes sign when reflected about 90 degrees (cosine, tangent, cotangent)."""
    x = math.fmod(x, 360.0)
    sign = 1.0
    if x < 0.0:
        x, sign = -x, -sign
    if x > 180.0:
        x, sign = 360.0 - x, -sign
    if x > 90.0:
        x = 180.0 - x
        if odd_past_90:
            sign = -sign
    return x, sign


def _degrees_arg(x: float) -> bool:
    """Check an argument of sind and the like; False when it is NaN (result NaN)."""
    _finite(x)
    return not math.isnan(x)


def sind(x: float) -> float:
    if not _degrees_arg(x):
        return x
    r, sign = _first_quadrant(x, False)
    return sign * _sind_q1(r)


def cosd(x: float) -> float:
    if not _degrees_arg(x):
        return x
    x = abs(math.fmod(x, 360.0))
    if x > 180.0:
        x = 360.0 - x
    sign = 1.0
    if x > 90.0:
        x, sign = 180.0 - x, -1.0
    return sign * _cosd_q1(x)


def tand(x: float) -> float:
    if not _degrees_arg(x):
        return x
    r, sign = _first_quadrant(x, True)
    c = _cosd_q1(r)
    return sign * (_INF if c == 0.0 else (_sind_q1(r) / c) / _TAN_45)


def cotd(x: float) -> float:
    if not _degrees_arg(x):
        return x
    r, sign = _first_quadrant(x, True)
    s_ = _sind_q1(r)
    return sign * (_INF if s_ == 0.0 else (_cosd_q1(r) / s_) / _COT_45)


def _asind_q1(x: float) -> float:
    if x <= 0.5:
        return (math.asin(x) / _ASIN_0_5) * 30.0
    return 90.0 - (math.acos(x) / _ACOS_0_5) * 60.0


def _acosd_q1(x: float) -> float:
    if x <= 0.5:
        return 90.0 - (math.asin(x) / _ASIN_0_5) * 30.0
    return (math.acos(x) / _ACOS_0_5) * 60.0


def asind(x: float) -> float:
    _unit(x)
    if math.isnan(x):
        return x
    return _asind_q1(x) if x >= 0.0 else -_asind_q1(-x)


def acosd(x: float) -> float:
    _unit(x)
    if math.isnan(x):
        return x
    return _acosd_q1(x) if x >= 0.0 else 90.0 + _asind_q1(-x)


def atand(x: float) -> float:
    return (math.atan(x) / _ATAN_1) * 45.0


def atan2d(y: float, x: float) -> float:
    return (math.atan2(y, x) / _ATAN_1) * 45.0


__all__ = [
    "acos",
    "acosd",
    "acosh",
    "asin",
    "asind",
    "asinh",
    "atan",
    "atan2",
    "atan2d",
    "atand",
    "atanh",
    "cos",
    "cosd",
    "cosh",
    "cot",
    "cotd",
    "degrees",
    "radians",
    "sin",
    "sind",
    "sinh",
    "tan",
    "tand",
    "tanh",
]
