"""Code generation for operators (+ - * / %, unary minus, comparisons, ||), chosen by the
argument types the binder settled on."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from planner.expressions import runtime as rt
from planner.expressions.nodes import Call
from planner.types import add_interval

if TYPE_CHECKING:
    from planner.expressions.compiler import _Gen

_PY_COMPARE = {"=": "==", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_NCTX_METHOD = {"+": "add", "-": "subtract", "*": "multiply"}


def _time_diff(a: dt.time, b: dt.time) -> Any:
    day = dt.date(2000, 1, 1)
    return rt.ts_diff(dt.datetime.combine(day, a), dt.datetime.combine(day, b))


def _date_sub_days(d: dt.date, n: int) -> dt.date:
    return d - dt.timedelta(days=n)


# (op, left type, right type) -> (helper, may fail per row)
_TEMPORAL: dict[tuple[str, str, str], tuple[Callable[..., Any], bool]] = {
    ("+", "date", "integer"): (rt.add_days, True),
    ("-", "date", "integer"): (_date_sub_days, True),
    ("-", "date", "date"): (rt.date_diff, False),
    ("+", "date", "time"): (rt.date_add_time, False),
    ("+", "timestamp", "interval"): (add_interval, True),
    ("+", "timestamptz", "interval"): (add_interval, True),
    ("-", "timestamp", "interval"): (rt.ts_sub_interval, True),
    ("-", "timestamptz", "interval"): (rt.ts_sub_interval, True),
    ("-", "timestamp", "timestamp"): (rt.ts_diff, False),
    ("-", "timestamptz", "timestamptz"): (rt.ts_diff, False),
    ("-", "time", "time"): (_time_diff, False),
    ("+", "time", "interval"): (rt.time_add_interval, False),
    ("-", "time", "interval"): (rt.time_sub_interval, False),
    ("/", "interval", "*"): (rt.interval_div, True),
}

_NUMERIC_HELPERS: dict[tuple[str, str], Callable[..., Any]] = {
    ("/", "int"): rt.int_div, ("%", "int"): rt.int_mod,
    ("/", "numeric"): rt.numeric_div, ("%", "numeric"): rt.numeric_mod,
    ("/", "float"): rt.float_div, ("%", "float"): rt.float_mod,
}


def _kind(t: Any) -> str:
    if t.is_integer:
        return "int"
    if t.is_float:
        return "float"
    return t.name


_INTERVAL_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul,
                 "/": operator.truediv, "%": operator.mod}


def gen_operator(g: _Gen, e: Call) -> str | None:
    """Source for an operator call, or None when `e` is not an operator."""
    op = e.name
    if op in _PY_COMPARE:
        py = _PY_COMPARE[op]
        if e.args[0].type.name == "interval":
            return g.guarded(e.args, lambda a: f"{a[0]}.total_micros() {py} "
                                               f"{a[1]}.total_micros()")
        if op == "<>":  # not `!=`: SQL's NaN equals NaN (planner/nan.py)
            return g.guarded(e.args, lambda a: f"not {a[0]} == {a[1]}")
        return g.guarded(e.args, lambda a: f"{a[0]} {py} {a[1]}")
    if op == "||":
        return g.guarded(e.args, lambda a: f"{a[0]} + {a[1]}")
    if op == "neg":
        return g.guarded(e.args, lambda a: g.range_checked(f"-{a[0]}", e.type.name),
                         not e.type.is_integer)
    if op not in ("+", "-", "*", "/", "%"):
        return None
    lt, rtp = e.args[0].type, e.args[1].type
    if lt.is_numeric and rtp.is_numeric:
        kind = _kind(lt)
        prop = kind != "int"  # NaN in, NaN out: only this call's result needs SQL's NaN
        helper = _NUMERIC_HELPERS.get((op, kind))
        if helper is not None:
            name = g.func(helper, True)
            return g.guarded(e.args, lambda a: g.range_checked(
                f"{name}({a[0]}, {a[1]})", e.type.name, nullable=not g.strict), prop)
        if kind == "numeric":
            method = g.const(getattr(rt.NUMERIC_CTX, _NCTX_METHOD[op]), "f")
            return g.guarded(e.args, lambda a: f"{method}({a[0]}, {a[1]})", prop)
        return g.guarded(e.args, lambda a: g.range_checked(f"{a[0]} {op} {a[1]}",
                                                           e.type.name), prop)
    entry = _TEMPORAL.get((op, lt.name, rtp.name)) or _TEMPORAL.get((op, lt.name, "*"))
    if entry is not None:
        fn, fallible = entry
        name = g.func(fn, fallible)
        return g.guarded(e.args, lambda a: f"{name}({a[0]}, {a[1]})")
    # interval +/- interval, interval * number: Interval's own operators, which fail
    # per row on overflow (an interval out of range).
    name = g.func(_INTERVAL_OPS[op], True)
    return g.guarded(e.args, lambda a: f"{name}({a[0]}, {a[1]})")
