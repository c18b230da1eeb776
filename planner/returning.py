"""`INSERT / UPDATE / DELETE ... RETURNING`: the expressions bound over the
table's row (hidden columns excluded from `*`), evaluated on the rows the
statement wrote (inserted or new rows) or removed (deleted rows)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from planner import expressions as X
from planner import types as T
from planner.binder import Ctx, Scope, ScopeColumn, output_name, position_of
from planner.catalog import Relation
from planner.column_defaults import with_time_now
from planner.errors import FEATURE_NOT_SUPPORTED, ProgrammingError


@dataclass
class Returning:
    names: list[str]
    types: list[T.DataType]
    project: Callable[[list[tuple]], list[tuple]]


def bind_returning(rel: Relation, alias: str, node: exp.Expression | None) -> Returning | None:
    """The RETURNING list of a DML statement on `rel`, or None when it has none."""
    if node is None:
        return None
    cols = [ScopeColumn(alias, c.name, i, c.type) for i, c in enumerate(rel.columns)
            if not c.hidden]
    if alias != rel.name:  # the table is reachable under its own name too
        cols += [ScopeColumn(rel.name, c.name, c.index, c.type) for c in cols]
    ctx = Ctx(Scope(cols), clause="RETURNING")
    names: list[str] = []
    exprs: list[Any] = []
    for item in node.expressions:
        target = item.this if isinstance(item, exp.Alias) else item
        if isinstance(target, exp.Star) or (isinstance(target, exp.Column)
                                            and isinstance(target.this, exp.Star)):
            for i, c in enumerate(rel.columns):
                if not c.hidden:
                    names.append(c.name)
                    exprs.append(X.InputRef(i, c.type, c.name))
            continue
        if target.find(exp.Select, exp.AggFunc):
            raise ProgrammingError("cannot use subquery or aggregate function in RETURNING",
                                   FEATURE_NOT_SUPPORTED, position_of(target))
        exprs.append(X.bind_expr(with_time_now(target), ctx))
        names.append(output_name(item))
    project = X.compile_projection(exprs, strict=True)
    return Returning(names, [e.type for e in exprs], project)


__all__ = ["Returning", "bind_returning"]
