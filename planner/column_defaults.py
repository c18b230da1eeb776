"""Column DEFAULT values: a constant or an expression without column references
(`now()`, `1 + 2`, `'x' || 'y'`), checked when the table is created, kept as SQL
text in the catalog and evaluated at every INSERT that leaves the column out or
writes DEFAULT, as PostgreSQL does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from planner import expressions as X
from planner import types as T
from planner.binder import Ctx, Scope, position_of
from planner.errors import FEATURE_NOT_SUPPORTED, ProgrammingError
from planner.parse import DIALECT, parse


def default_sql(node: exp.Expression, type_: T.DataType, column: str) -> str:
    """The SQL text of a DEFAULT expression, after checking it binds and casts to the
    column's type."""
    if node.find(exp.Column):
        raise ProgrammingError("cannot use column reference in DEFAULT expression",
                               FEATURE_NOT_SUPPORTED, position_of(node.find(exp.Column)))
    if node.find(exp.Select, exp.AggFunc):
        raise ProgrammingError("cannot use subquery or aggregate function in DEFAULT "
                               "expression", FEATURE_NOT_SUPPORTED, position_of(node))
    bound = X.bind_expr(with_time_now(node), Ctx(Scope([]), clause="DEFAULT"))
    X.cast(bound, type_, position_of(node))
    del column
    return node.sql(dialect=DIALECT)


# The time functions a DEFAULT may call, with the type of their value.
_TIME_NOW: dict[type, str] = {exp.CurrentTimestamp: "timestamptz", exp.CurrentDate: "date",
                              exp.Localtimestamp: "timestamp", exp.CurrentTime: "timetz"}


def with_time_now(node: exp.Expression) -> exp.Expression:
    """The expression with now(), current_date and the like replaced by the current
    time as typed literals: a default is evaluated when a row is inserted."""
    if not node.find(*_TIME_NOW):
        return node
    now = dt.datetime.now(dt.UTC)

    def repl(n: exp.Expression) -> exp.Expression:
        kind = _TIME_NOW.get(type(n))
        if kind is None:
            return n
        text = {"date": now.date().isoformat(), "timetz": now.time().isoformat(),
                "timestamp": now.replace(tzinfo=None).isoformat(sep=" ")}.get(
                    kind, now.isoformat(sep=" "))
        return exp.cast(exp.Literal.string(text), "time" if kind == "timetz" else kind)

    return node.copy().transform(repl)


def compile_default(sql: str, type_: T.DataType) -> Callable[[], Any]:
    """A function returning the value of a stored DEFAULT expression now."""
    select = parse(f"SELECT {sql}")
    assert isinstance(select, exp.Select)
    node = select.expressions[0]
    if node.find(*_TIME_NOW):
        return lambda: X.eval_const(X.cast(X.bind_expr(with_time_now(node), Ctx(
            Scope([]), clause="DEFAULT")), type_))
    bound = X.cast(X.bind_expr(node, Ctx(Scope([]), clause="DEFAULT")), type_)
    if isinstance(bound, X.Literal):
        value = X.eval_const(bound)
        return lambda: value
    return lambda: X.eval_const(bound)


def is_default_keyword(node: exp.Expression) -> bool:
    """`DEFAULT` written in place of a value in INSERT ... VALUES."""
    return isinstance(node, exp.Var) and node.name.upper() == "DEFAULT"


__all__ = ["compile_default", "default_sql", "is_default_keyword", "with_time_now"]
