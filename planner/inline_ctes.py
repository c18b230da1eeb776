"""Inline non-recursive common table expressions: every reference to a CTE becomes a
subquery in FROM, so a streaming query with WITH is planned like one written with
subqueries (each reference gets its own operators; nothing is shared)."""

from __future__ import annotations

from sqlglot import exp

from planner.errors import not_supported


def inline_ctes(query: exp.Expression) -> exp.Expression:
    """The query without its WITH clause, CTE references replaced by subqueries.

    >>> import sqlglot
    >>> q = sqlglot.parse_one("WITH s AS (SELECT a FROM t) SELECT a FROM s WHERE a > 1")
    >>> inline_ctes(q).sql()
    'SELECT a FROM (SELECT a FROM t) AS s WHERE a > 1'
    >>> q = sqlglot.parse_one("WITH s(x) AS (SELECT a FROM t) SELECT x FROM s AS u")
    >>> inline_ctes(q).sql()
    'SELECT x FROM (SELECT a AS x FROM t) AS u'
    """
    with_ = query.args.get("with_")
    if with_ is None:
        return query
    if with_.args.get("recursive"):
        raise not_supported("WITH RECURSIVE in a streaming query")
    query = query.copy()
    query.set("with_", None)
    bodies: dict[str, exp.Expression] = {}
    for cte in with_.expressions:
        body = _replace_references(cte.this.copy(), bodies)
        columns = cte.args["alias"].columns if cte.args.get("alias") else []
        if columns:
            body = _rename_outputs(body, [c.name for c in columns], cte)
        bodies[cte.alias] = body
    return _replace_references(query, bodies)


def _replace_references(node: exp.Expression, bodies: dict[str, exp.Expression]
                        ) -> exp.Expression:
    for table in list(node.find_all(exp.Table)):
        if table.db or table.name not in bodies or not isinstance(table.this, exp.Identifier):
            continue
        alias = table.alias or table.name
        sub = exp.Subquery(this=bodies[table.name].copy(),
                           alias=exp.TableAlias(this=exp.to_identifier(alias)))
        if table is node:
            return sub
        table.replace(sub)
    return node


def _rename_outputs(body: exp.Expression, names: list[str], cte: exp.CTE) -> exp.Expression:
    """WITH s(a, b) AS (SELECT ...): the body's outputs take the listed names."""
    if not isinstance(body, exp.Select) or any(isinstance(e, exp.Star) for e in body.expressions):
        raise not_supported("a column list on this WITH query")
    if len(names) > len(body.expressions):
        from planner.errors import ProgrammingError
        raise ProgrammingError(f'WITH query "{cte.alias}" has {len(body.expressions)} columns '
                               f"available but {len(names)} columns specified", "42P10")
    outs = []
    for i, e in enumerate(body.expressions):
        if i < len(names):
            e = exp.alias_(e.this if isinstance(e, exp.Alias) else e, names[i])
        outs.append(e)
    body.set("expressions", outs)
    return body
