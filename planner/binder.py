"""Binder: a sqlglot query AST -> a typed logical plan, names resolved against the
catalog. Queries, set operations, SELECT lists and ORDER BY / LIMIT are planned
here; FROM, joins and subquery predicates in `planner.bind_from`, aggregation in
`planner.bind_aggregate`, name scopes in `planner.bind_scope`; scalar expressions
are bound by `planner.expressions`."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from planner import expressions as X
from planner import types as T
from planner.bind_aggregate import AggregateBinder
from planner.bind_from import FromClauseBinder
from planner.bind_scope import Ctx, Scope, ScopeColumn, bind_predicate, bind_scalar, position_of
from planner.binder_helpers import (_and_all, _col, _contains_agg, _explicit_nulls,
                                    _is_subquery_predicate, _window_of, conjuncts, output_name)
from planner.catalog import Catalog
from planner.corresponding import corresponding_positions, is_by_name
from planner.errors import ProgrammingError, not_supported
from planner.inline_ctes import inline_ctes
from planner.logical import (Field, LogicalDistinct, LogicalFilter, LogicalNode, LogicalProject,
                             LogicalTopN, LogicalUnion)
from planner.over_window import bind_over_window, needs_over_window
from planner.window import EOWC_META, temporal_conjunct


class Binder(FromClauseBinder, AggregateBinder):
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.dependencies: list[int] = []
        self.eowc = False  # the view ends with EMIT ON WINDOW CLOSE
        self._view_depth = 0  # plain views being expanded

    # ------------------------------------------------------------- queries
    def bind_query(self, q: exp.Expression) -> tuple[LogicalNode, list[str]]:
        if q.meta.get(EOWC_META):
            self.eowc = True
        if isinstance(q, exp.Subquery):
            plan, names = self.bind_query(q.this)
            return self._order_limit(q, plan, names)
        if isinstance(q, exp.Union):
            return self._bind_union(q)
        if isinstance(q, (exp.Except, exp.Intersect)):
            raise not_supported(f"{q.key.upper()} in a streaming query", position_of(q))
        if q.args.get("with_"):
            return self.bind_query(inline_ctes(q))
        if isinstance(q, exp.Select):
            return self._bind_select(q)
        raise not_supported(f"{q.key.upper()} as a query", position_of(q))

    def _bind_union(self, q: exp.Union) -> tuple[LogicalNode, list[str]]:
        left, names = self.bind_query(q.this)
        right, right_names = self.bind_query(q.expression)
        if is_by_name(q):
            lpos, rpos = corresponding_positions(q, names, right_names)
            left, right = _pick_columns(left, lpos), _pick_columns(right, rpos)
            names = [names[i] for i in lpos]
        ls, rs = left.schema, right.schema
        if len(ls) != len(rs):
            raise ProgrammingError("each UNION query must have the same number of columns",
                                   "42601", position_of(q))
        types = []
        for a, b in zip(ls, rs):
            t = T.common_supertype(a.type, b.type)
            if t is None:
                raise ProgrammingError(f"UNION types {a.type} and {b.type} cannot be matched",
                                       "42804", position_of(q))
            types.append(t)
        inputs = []
        for plan in (left, right):
            sch = plan.schema
            if any(f.type != t for f, t in zip(sch, types)):
                exprs = [X.cast(X.InputRef(i, f.type, f.name), t) for i, (f, t) in
                         enumerate(zip(sch, types))]
                plan = LogicalProject(plan, exprs, [f.name for f in sch])
            inputs.append(plan)
        # Flatten nested UNION ALLs into one node.
        flat: list[LogicalNode] = []
        for plan in inputs:
            flat.extend(plan.inputs_ if isinstance(plan, LogicalUnion) else [plan])
        out: LogicalNode = LogicalUnion(flat)
        if q.args.get("distinct"):
            out = LogicalDistinct(out)
        if not isinstance(out, LogicalUnion) or True:
            out = LogicalProject(out, [X.InputRef(i, t, n) for i, (n, t) in
                                       enumerate(zip(names, types))], names)
        return self._order_limit(q, out, names)

    def _order_limit(self, q: exp.Expression, plan: LogicalNode,
                     names: list[str]) -> tuple[LogicalNode, list[str]]:
        """ORDER BY / LIMIT / OFFSET on a union or parenthesized query (by output column)."""
        limit, offset = self._limit_offset(q)
        order = q.args.get("order")
        if limit is None and not offset:
            return plan, names
        scope = Scope.of(plan, None)
        keys = []
        for o in (order.expressions if order else []):
            keys.append(self._order_key(o, scope, names, plan, None))
        return self._top_n(plan, keys, limit, offset), names

    def _limit_offset(self, q: exp.Expression) -> tuple[int | None, int]:
        limit = offset = None
        if q.args.get("limit") is not None:
            node = q.args["limit"].expression
            limit = self._const_int(node, "LIMIT")
        if q.args.get("offset") is not None:
            offset = self._const_int(q.args["offset"].expression, "OFFSET")
        return limit, offset or 0

    def _const_int(self, node: exp.Expression, what: str) -> int:
        try:
            value = X.eval_const(X.bind_expr(node, Ctx(Scope([]))))
        except ProgrammingError:
            raise not_supported(f"non-constant {what}", position_of(node)) from None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ProgrammingError(f"{what} must be a non-negative integer", "22023",
                                   position_of(node))
        return value

    def _order_key(self, o: exp.Expression, scope: Scope, names: list[str],
                   plan: LogicalNode, extra: list[Any] | None) -> tuple[int, bool, bool]:
        desc = bool(o.args.get("desc")) if isinstance(o, exp.Ordered) else False
        nulls_first = o.args.get("nulls_first") if isinstance(o, exp.Ordered) else None
        if nulls_first is None or (isinstance(o, exp.Ordered) and "nulls_first" not in o.args):
            nulls_first = desc
        # sqlglot sets nulls_first=False by default for ASC; PostgreSQL's default is
        # NULLS LAST for ASC and NULLS FIRST for DESC.
        if isinstance(o, exp.Ordered) and not o.args.get("desc") and o.args.get("nulls_first") is False:
            nulls_first = False
        if isinstance(o, exp.Ordered) and o.args.get("desc") and not _explicit_nulls(o):
            nulls_first = True
        node = o.this if isinstance(o, exp.Ordered) else o
        if isinstance(node, exp.Literal) and not node.is_string:
            k = int(node.this)
            if not 1 <= k <= len(names):
                raise ProgrammingError(f"ORDER BY position {k} is not in select list", "42P10",
                                       position_of(node))
            return k - 1, desc, bool(nulls_first)
        if isinstance(node, exp.Column) and not node.table and node.name in names:
            return names.index(node.name), desc, bool(nulls_first)
        bound = bind_scalar(node, scope, "ORDER BY")
        if isinstance(bound, X.InputRef):
            return bound.index, desc, bool(nulls_first)
        if extra is None:
            raise not_supported("ORDER BY expression that is not an output column",
                                position_of(node))
        extra.append(bound)
        return -len(extra), desc, bool(nulls_first)

    def _top_n(self, plan: LogicalNode, keys: list[tuple[int, bool, bool]], limit: int | None,
               offset: int) -> LogicalNode:
        if not keys:
            # LIMIT without ORDER BY picks any rows; choose a deterministic order.
            keys = [(i, False, False) for i in range(len(plan.schema))]
        return LogicalTopN(plan, keys, limit, offset)

    # ------------------------------------------------------------- SELECT
    def _bind_select(self, sel: exp.Select) -> tuple[LogicalNode, list[str]]:
        where = sel.args.get("where")
        conj = conjuncts(where.this if where is not None else None)
        temporal = [c for c in conj if temporal_conjunct(c) is not None]
        plain = [c for c in conj if not _is_subquery_predicate(c) and c not in temporal]
        subq = [c for c in conj if _is_subquery_predicate(c)]
        plan, scope, rest = self._bind_from(sel, plain)
        for c in temporal:
            plan = self._temporal_filter(c, plan, scope)
        for c in subq:
            plan = self._bind_subquery_predicate(c, plan, scope)
        if rest:
            preds = [bind_predicate(c, scope, "WHERE") for c in rest]
            plan = LogicalFilter(plan, _and_all(preds))
        items = self._expand_stars(sel.expressions, scope)
        if sel.args.get("group") is not None or sel.args.get("having") is not None or any(
                _contains_agg(e) for e in items):
            plan, scope, special = self._bind_aggregate(sel, items, plan, scope)
        else:
            special = None
        windows = [e for e in items if _window_of(e) is not None]
        if needs_over_window(items):
            plan, special = bind_over_window(items, plan, scope, special, bind_scalar,
                                             output_name, _explicit_nulls)
        elif windows:
            plan, scope, special = self._bind_row_number(items, plan, scope, special)
        names = [output_name(e) for e in items]
        exprs = [bind_scalar(e.this if isinstance(e, exp.Alias) else e, scope, "SELECT",
                             special) for e in items]
        distinct = sel.args.get("distinct") is not None
        if distinct and sel.args["distinct"].args.get("on") is not None:
            raise not_supported("DISTINCT ON in a materialized view",
                                position_of(sel.args["distinct"]))
        limit, offset = self._limit_offset(sel)
        order = sel.args.get("order")
        keys: list[tuple[int, bool, bool]] = []
        extra: list[Any] = []
        if order is not None and (limit is not None or offset):
            out_scope = Scope([ScopeColumn(None, n, i, e.type) for i, (n, e) in
                               enumerate(zip(names, exprs))])
            for o in order.expressions:
                node = o.this if isinstance(o, exp.Ordered) else o
                try:
                    k = self._order_key(o, out_scope, names, plan, None)
                except ProgrammingError:
                    if distinct:
                        raise
                    bound = bind_scalar(node, scope, "ORDER BY", special)
                    extra.append(bound)
                    # the helper call below only computes the direction flags
                    flags = o.copy() if isinstance(o, exp.Ordered) else exp.Ordered()
                    flags.set("this", exp.column("_order"))
                    k = (len(exprs) + len(extra) - 1, *self._order_key(
                        flags, Scope([ScopeColumn(None, "_order", 0, bound.type)]), ["_order"],
                        plan, None)[1:])
                keys.append(k)
        plan = LogicalProject(plan, exprs + extra, names + [f"_order{i}" for i in range(len(extra))])
        if distinct:
            plan = LogicalDistinct(plan)
        if limit is not None or offset:
            plan = self._top_n(plan, keys, limit, offset)
            if extra:
                plan = LogicalProject(plan, [X.InputRef(i, e.type, n) for i, (n, e) in
                                             enumerate(zip(names, exprs))], names)
        return plan, names

    def _expand_stars(self, items: list[exp.Expression], scope: Scope) -> list[exp.Expression]:
        out: list[exp.Expression] = []
        for e in items:
            if isinstance(e, exp.Star):
                out.extend(_col(c) for c in scope.columns)
            elif isinstance(e, exp.Column) and isinstance(e.this, exp.Star):
                cols = [c for c in scope.columns if c.table == e.table]
                if not cols:
                    raise ProgrammingError(f'missing FROM-clause entry for table "{e.table}"',
                                           "42P01", position_of(e))
                out.extend(_col(c) for c in cols)
            else:
                out.append(e)
        return out


__all__ = ["Binder", "Scope", "position_of", "Field"]


def _pick_columns(plan: LogicalNode, positions: list[int]) -> LogicalNode:
    """`plan`'s columns at `positions`, in that order."""
    sch = plan.schema
    return LogicalProject(plan, [X.InputRef(i, sch[i].type, sch[i].name) for i in positions],
                          [sch[i].name for i in positions])
