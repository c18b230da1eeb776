"""Plain views (`CREATE VIEW`): a named query stored in the catalog and expanded
into every query that reads it, as PostgreSQL and RisingWave do. A materialized
view over a plain view is planned over the view's own inputs, so it is maintained
incrementally like one written out in full; a batch SELECT reads the expansion."""

from __future__ import annotations

from sqlglot import exp

from planner.catalog import VIEW, Catalog, Relation
from planner.errors import ProgrammingError, not_supported
from planner.window import EOWC_META, parse_view

# A view expanding into itself (through OR REPLACE) must not loop forever.
_MAX_DEPTH = 32


def view_query(rel: Relation) -> exp.Expression:
    """The query of a plain view, freshly parsed from its CREATE VIEW text."""
    assert rel.definition is not None
    tree = parse_view(rel.definition)
    query = tree.expression if isinstance(tree, exp.Create) else tree
    return query


def create_parts(tree: exp.Create) -> tuple[str, list[str] | None, exp.Expression]:
    """Name, optional column list and query of a CREATE VIEW statement."""
    target = tree.this
    names = None
    if isinstance(target, exp.Schema):
        names = [e.name for e in target.expressions]
        target = target.this
    query = tree.expression
    if query is None:
        raise ProgrammingError("CREATE VIEW needs AS followed by a query", "42601", 1)
    if query.meta.get(EOWC_META):
        raise not_supported("EMIT ON WINDOW CLOSE in a plain view (use CREATE MATERIALIZED "
                            "VIEW)", 1)
    return target.name, names, query


def referenced(query: exp.Expression, catalog: Catalog) -> list[Relation]:
    """The catalog relations a query names (CTE names excluded), in order of appearance."""
    ctes = {c.alias for c in query.find_all(exp.CTE)}
    out: list[Relation] = []
    for table in query.find_all(exp.Table):
        if not table.name or isinstance(table.this, exp.Func):
            continue
        if not table.db and table.name in ctes:
            continue
        key = f"{table.db}.{table.name}" if table.db and table.db != "public" else table.name
        rel = catalog.get(key)
        if rel is not None and rel not in out:
            out.append(rel)
    return out


def subquery_for(rel: Relation, alias: str) -> exp.Subquery:
    """`(view query) AS alias(col, ...)`: the view as a derived table, its output
    columns named as the catalog records them."""
    cols = [exp.to_identifier(c.name, quoted=True) for c in rel.visible_columns]
    return exp.Subquery(this=view_query(rel),
                        alias=exp.TableAlias(this=exp.to_identifier(alias), columns=cols))


def expand_views(tree: exp.Expression, catalog: Catalog, depth: int = 0) -> exp.Expression:
    """The query with every plain view it names replaced by its definition (for batch
    translation). `tree` is changed in place and returned."""
    if depth > _MAX_DEPTH:
        raise ProgrammingError("infinite recursion detected in rules for a view", "42P17")
    ctes = {c.alias for c in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        if not table.name or isinstance(table.this, exp.Func):
            continue
        if not table.db and table.name in ctes:
            continue
        if table.db and table.db != "public":
            continue
        rel = catalog.get(table.name)
        if rel is None or rel.kind != VIEW:
            continue
        sub = subquery_for(rel, table.alias_or_name)
        expand_views(sub.this, catalog, depth + 1)
        table.replace(sub)
    return tree


__all__ = ["create_parts", "expand_views", "referenced", "subquery_for", "view_query"]
