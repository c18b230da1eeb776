"""Python values -> sqlglot literal nodes (for bound parameters)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from sqlglot import exp

from planner.types import Interval, to_text


def to_literal(value: Any) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value) if value >= 0 else exp.Neg(
            this=exp.Literal.number(-value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return exp.Cast(this=exp.Literal.string(to_text(value)),
                            to=exp.DataType.build("DOUBLE"))
        lit = exp.Literal.number(repr(abs(value)))
        node: exp.Expression = exp.Cast(this=lit, to=exp.DataType.build("DOUBLE"))
        return exp.Neg(this=node) if value < 0 else node
    if isinstance(value, decimal.Decimal):
        lit = exp.Literal.number(format(abs(value), "f"))
        return exp.Neg(this=lit) if value < 0 else lit
    if isinstance(value, dt.datetime):
        kind = "TIMESTAMPTZ" if value.tzinfo is not None else "TIMESTAMP"
        return exp.Cast(this=exp.Literal.string(value.isoformat(sep=" ")),
                        to=exp.DataType.build(kind))
    if isinstance(value, dt.date):
        return exp.Cast(this=exp.Literal.string(value.isoformat()), to=exp.DataType.build("DATE"))
    if isinstance(value, dt.time):
        return exp.Cast(this=exp.Literal.string(value.isoformat()), to=exp.DataType.build("TIME"))
    if isinstance(value, (Interval, dt.timedelta)):
        return exp.Cast(this=exp.Literal.string(to_text(value)),
                        to=exp.DataType.build("INTERVAL"))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return exp.Cast(this=exp.Literal.string("\\x" + bytes(value).hex()),
                        to=exp.DataType.build("BLOB"))
    return exp.Literal.string(str(value))
