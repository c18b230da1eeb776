"""EXPLAIN of a batch query: its plan in the stream plans' style, in terms of the
user's relations and expressions.

A batch query is answered by DuckDB, whose own plan speaks of its internal tables
and rewrites (`EXPLAIN (VERBOSE)` still shows it). This plan is what the query
asks for, in the order it is evaluated: scans of the relations named, joins,
filters, aggregation, window functions, projection, DISTINCT, sort and limit.
CTEs are shown where they are read; subqueries in FROM as their own plans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from planner.catalog import Catalog
from planner.corresponding import rewrite_corresponding


@dataclass
class BatchNode:
    """One operator of the plan: its line, and its inputs in order."""

    label: str
    inputs: list[BatchNode] = field(default_factory=list)


def explain_batch(tree: exp.Expression, catalog: Catalog) -> list[str]:
    """The lines of the batch plan of a query.

    >>> from planner.catalog import Catalog
    >>> import sqlglot
    >>> q = sqlglot.parse_one("SELECT k, count(*) AS n FROM t WHERE v > 1 GROUP BY k "
    ...                       "ORDER BY n DESC LIMIT 3", read="postgres")
    >>> print("\\n".join(explain_batch(q, Catalog())))
    BatchTopN { order: [n DESC], limit: 3 }
    └─ BatchProject { exprs: [k, count(*) AS n] }
       └─ BatchHashAgg { group_key: [k], aggs: [count(*)] }
          └─ BatchFilter { predicate: v > 1 }
             └─ BatchScan { table: t }
    """
    # CORRESPONDING unions are shown as they run: positional, over the chosen columns.
    tree = rewrite_corresponding(tree.copy(), lambda name: _column_names(catalog, name))
    planner = _Planner(catalog, tree)
    lines: list[str] = []
    _render(planner.query(tree), "", lines, root=True)
    return lines


def _column_names(catalog: Catalog, name: str) -> list[str] | None:
    rel = catalog.get(name)
    return None if rel is None else [c.name for c in rel.columns if not c.hidden]


def _render(node: BatchNode, indent: str, out: list[str], root: bool = False) -> None:
    out.append(node.label if root else f"{indent}└─ {node.label}")
    child_indent = indent if root else indent + "   "
    for child in node.inputs:
        _render(child, child_indent, out)


def _sql(node: Any) -> str:
    return node.sql(dialect="postgres", normalize_functions="lower")


def _list(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


class _Planner:
    def __init__(self, catalog: Catalog, tree: exp.Expression) -> None:
        self.catalog = catalog
        self.tree = tree
        self.ctes: dict[str, exp.Expression] = {}

    # ------------------------------------------------------------ queries
    def query(self, node: exp.Expression) -> BatchNode:
        with_ = node.args.get("with_")
        if with_ is not None:
            for cte in with_.expressions:
                self.ctes[cte.alias_or_name] = cte.this
        if isinstance(node, exp.Subquery):
            return self._order_limit(node, self.query(node.this))
        if isinstance(node, exp.SetOperation):
            return self._order_limit(node, self._set_operation(node))
        if isinstance(node, exp.Values):
            return BatchNode(f"BatchValues {{ rows: {len(node.expressions)} }}")
        if isinstance(node, exp.Select):
            return self._select(node)
        return BatchNode(f"BatchQuery {{ sql: {_sql(node)} }}")

    def _set_operation(self, node: exp.SetOperation) -> BatchNode:
        kind = {exp.Union: "BatchUnion", exp.Except: "BatchExcept",
                exp.Intersect: "BatchIntersect"}.get(type(node), "BatchUnion")
        distinct = node.args.get("distinct")
        all_ = "false" if distinct or distinct is None and kind != "BatchUnion" else "true"
        inputs: list[BatchNode] = []
        for side in (node.this, node.expression):
            # a chain of the same operation reads as one node with several inputs
            if type(side) is type(node) and side.args.get("distinct") == distinct \
                    and not side.args.get("order") and not side.args.get("limit"):
                inputs.extend(self._set_operation(side).inputs)
            else:
                inputs.append(self.query(side))
        return BatchNode(f"{kind} {{ all: {all_} }}", inputs)

    def _select(self, sel: exp.Select) -> BatchNode:
        node = self._from(sel)
        where = sel.args.get("where")
        if where is not None:
            node = BatchNode(f"BatchFilter {{ predicate: {_sql(where.this)} }}", [node])
        node = self._aggregate(sel, node)
        having = sel.args.get("having")
        if having is not None:
            node = BatchNode(f"BatchFilter {{ predicate: {_sql(having.this)} }}", [node])
        windows = [w for e in sel.expressions for w in e.find_all(exp.Window)]
        if windows:
            node = BatchNode("BatchOverWindow { window_functions: "
                             f"{_list([_sql(w) for w in windows])} }}", [node])
        exprs = [_sql(e) for e in sel.expressions]
        node = BatchNode(f"BatchProject {{ exprs: {_list(exprs)} }}", [node])
        distinct = sel.args.get("distinct")
        if distinct is not None:
            on = distinct.args.get("on")
            keys = _list([_sql(e) for e in on.expressions]) if on is not None else "all columns"
            node = BatchNode(f"BatchDistinct {{ keys: {keys} }}", [node])
        return self._order_limit(sel, node)

    def _aggregate(self, sel: exp.Select, node: BatchNode) -> BatchNode:
        group = sel.args.get("group")
        aggs: list[str] = []
        for e in [*sel.expressions, *([sel.args["having"]] if sel.args.get("having") else [])]:
            for agg in e.find_all(exp.AggFunc):
                if agg.find_ancestor(exp.Window) is None and _sql(agg) not in aggs:
                    aggs.append(_sql(agg))
        if group is not None:
            keys = [_sql(k) for k in group.expressions]
            return BatchNode(f"BatchHashAgg {{ group_key: {_list(keys)}, aggs: {_list(aggs)} }}",
                             [node])
        if aggs:
            return BatchNode(f"BatchSimpleAgg {{ aggs: {_list(aggs)} }}", [node])
        return node

    def _order_limit(self, q: exp.Expression, node: BatchNode) -> BatchNode:
        order = q.args.get("order")
        limit = q.args.get("limit")
        offset = q.args.get("offset")
        parts = []
        if order is not None:
            parts.append(f"order: {_list([_sql(o) for o in order.expressions])}")
        if limit is not None:
            parts.append(f"limit: {_sql(limit.expression)}")
        if offset is not None:
            parts.append(f"offset: {_sql(offset.expression)}")
        if not parts:
            return node
        kind = ("BatchTopN" if order is not None and limit is not None
                else "BatchSort" if order is not None else "BatchLimit")
        return BatchNode(f"{kind} {{ {', '.join(parts)} }}", [node])

    # ------------------------------------------------------------ FROM
    def _from(self, sel: exp.Select) -> BatchNode:
        from_ = sel.args.get("from_")
        if from_ is None:
            return BatchNode("BatchValues { rows: 1 }")
        node = self._item(from_.this, sel)
        for join in sel.args.get("joins") or []:
            node = self._join(join, node, self._item(join.this, sel))
        return node

    def _join(self, join: exp.Join, left: BatchNode, right: BatchNode) -> BatchNode:
        side = (join.args.get("side") or "").lower()
        kind = (join.args.get("kind") or "").lower()
        on = join.args.get("on")
        using = join.args.get("using")
        jtype = side or ("cross" if kind == "cross" or (on is None and not using) else "inner")
        if kind in ("semi", "anti"):
            jtype = f"{side + ' ' if side else ''}{kind}"
        if using:
            cond = f"using({', '.join(_sql(u) for u in using)})"
            return BatchNode(f"BatchHashJoin {{ type: {jtype}, condition: {cond} }}",
                             [left, right])
        if on is None:
            return BatchNode(f"BatchNestedLoopJoin {{ type: {jtype} }}", [left, right])
        equi = any(isinstance(c, exp.EQ) and isinstance(c.this, exp.Column)
                   and isinstance(c.expression, exp.Column) for c in _conjuncts(on))
        op = "BatchHashJoin" if equi else "BatchNestedLoopJoin"
        return BatchNode(f"{op} {{ type: {jtype}, condition: {_sql(on)} }}", [left, right])

    def _item(self, item: exp.Expression, sel: exp.Select) -> BatchNode:
        alias = item.alias if isinstance(item, (exp.Table, exp.Subquery)) else ""
        if isinstance(item, exp.Subquery):
            return self.query(item.this)
        if isinstance(item, exp.Table) and isinstance(item.this, exp.Func):
            return BatchNode(f"BatchTableFunction {{ function: {_sql(item.this)} }}")
        if isinstance(item, exp.Unnest):
            return BatchNode(f"BatchTableFunction {{ function: {_sql(item)} }}")
        if not isinstance(item, exp.Table):
            return BatchNode(f"BatchTableFunction {{ function: {_sql(item)} }}")
        name = item.name
        if not item.db and name in self.ctes:
            return self.query(self.ctes[name])
        key = f"{item.db}.{name}" if item.db and item.db != "public" else name
        parts = [f"table: {key}"]
        if alias and alias != name:
            parts.append(f"alias: {alias}")
        rel = self.catalog.get(key)
        if rel is not None:
            used = _columns_used(sel, alias or name, [c.name for c in rel.visible_columns],
                                 self._unqualified_owner(sel, rel.name))
            if used is not None:
                parts.append(f"columns: {_list(used)}")
        return BatchNode(f"BatchScan {{ {', '.join(parts)} }}")

    def _unqualified_owner(self, sel: exp.Select, name: str) -> bool:
        """Whether unqualified column names may belong to relation `name`: it is the
        only relation in this SELECT's FROM."""
        from_ = sel.args.get("from_")
        return from_ is not None and not sel.args.get("joins") \
            and isinstance(from_.this, exp.Table) and from_.this.name == name


def _conjuncts(cond: exp.Expression) -> list[exp.Expression]:
    if isinstance(cond, exp.And):
        return _conjuncts(cond.this) + _conjuncts(cond.expression)
    if isinstance(cond, exp.Paren):
        return _conjuncts(cond.this)
    return [cond]


def _columns_used(sel: exp.Select, qualifier: str, names: list[str],
                  unqualified: bool) -> list[str] | None:
    """The columns of a scanned relation the SELECT reads, in the relation's order;
    None when it reads them all (`*`, `t.*`)."""
    wanted: set[str] = set()
    for node in sel.walk():
        if node.find_ancestor(exp.Select) is not sel and node is not sel:
            continue  # a column of a subquery's own relations
        if isinstance(node, exp.Star) and not isinstance(node.parent, (exp.Count, exp.Column)):
            return None
        if isinstance(node, exp.Column):
            if isinstance(node.this, exp.Star):
                if node.table == qualifier:
                    return None
                continue
            if node.table == qualifier or (not node.table and unqualified) \
                    or (not node.table and node.name in names and not unqualified):
                wanted.add(node.name)
    for join in sel.args.get("joins") or []:
        wanted.update(u.name for u in join.args.get("using") or [])
    return [n for n in names if n in wanted]
