"""`CREATE TABLE name [(columns)] AS query`: the parts of the statement, and the
INSERT that fills the new table with the query's rows."""

from __future__ import annotations

from sqlglot import exp

from planner.errors import ProgrammingError


def ctas_parts(tree: exp.Create) -> tuple[str, list[str] | None, exp.Expression, exp.Insert]:
    target = tree.this
    names = None
    if isinstance(target, exp.Schema):
        if any(not isinstance(e, exp.Identifier) for e in target.expressions):
            raise ProgrammingError("CREATE TABLE AS takes column names without types",
                                   "42601", 1)
        names = [e.name for e in target.expressions]
        target = target.this
    query = tree.expression
    if not isinstance(query, (exp.Select, exp.Union, exp.Except, exp.Intersect, exp.Values,
                              exp.Subquery)):
        raise ProgrammingError("CREATE TABLE AS needs a query", "42601", 1)
    insert = exp.Insert(this=exp.Table(this=exp.to_identifier(target.name)),
                        expression=query.copy())
    return target.name, names, query, insert


__all__ = ["ctas_parts"]
