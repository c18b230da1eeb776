"""Aggregation of the binder: GROUP BY / HAVING, aggregate calls, EMIT ON WINDOW
CLOSE, and row_number() OVER as a group top-N."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from planner import expressions as X
from planner import types as T
from planner.aggregates import AggCall
from planner.bind_scope import Scope, bind_predicate, bind_scalar, position_of
from planner.binder_helpers import (AGG_CLASSES, _explicit_nulls, _find_aggs, _strip_alias,
                                    _window_of, output_name)
from planner.errors import GROUPING_ERROR, ProgrammingError, not_supported
from planner.logical import LogicalAgg, LogicalFilter, LogicalNode, LogicalProject, LogicalTopN
from planner.window import LogicalEowcAgg


class AggregateBinder:
    """Binder methods planning aggregation and row_number() windows."""

    # ------------------------------------------------------------- aggregation
    def _bind_aggregate(self, sel: exp.Select, items: list[exp.Expression],
                        plan: LogicalNode, scope: Scope):
        group = sel.args.get("group")
        group_nodes: list[exp.Expression] = []
        for g in (group.expressions if group is not None else []):
            if isinstance(g, exp.Literal) and not g.is_string:
                k = int(g.this)
                if not 1 <= k <= len(items):
                    raise ProgrammingError(f"GROUP BY position {k} is not in select list",
                                           "42P10", position_of(g))
                g = items[k - 1]
                g = g.this if isinstance(g, exp.Alias) else g
            elif isinstance(g, exp.Column) and not g.table and scope.lookup(g) is None:
                aliased = [e.this for e in items if isinstance(e, exp.Alias) and e.alias == g.name]
                if aliased:
                    g = aliased[0]
            group_nodes.append(g)
        if group is not None and (group.args.get("rollup") or group.args.get("cube")
                                  or group.args.get("grouping_sets")):
            raise not_supported("ROLLUP / CUBE / GROUPING SETS", position_of(group))
        group_exprs = [bind_scalar(g, scope, "GROUP BY") for g in group_nodes]
        pre: list[Any] = list(group_exprs)
        pre_names = [output_name(g) for g in group_nodes]
        calls: list[AggCall] = []
        call_nodes: list[exp.Expression] = []
        having = sel.args.get("having")
        order = sel.args.get("order")
        sources = list(items) + ([having.this] if having is not None else []) + (
            [o for o in order.expressions] if order is not None else [])
        for src in sources:
            for node in _find_aggs(src):
                if any(node == n for n in call_nodes):
                    continue
                calls.append(self._agg_call(node, scope, pre, pre_names))
                call_nodes.append(node)
        g = len(group_exprs)
        agg = LogicalAgg(LogicalProject(plan, pre, pre_names), list(range(g)), calls,
                         [output_name(n) for n in call_nodes])
        if self.eowc:
            agg = self._eowc_agg(agg, group_exprs, group)
        group_sql = [e.to_sql() for e in group_exprs]

        def special(node: exp.Expression) -> Any:
            for j, n in enumerate(call_nodes):
                if node == n:
                    return X.InputRef(g + j, calls[j].result_type, output_name(n))
            if isinstance(node, (exp.Literal, exp.Null, exp.Boolean)):
                return None
            try:
                bound = bind_scalar(node, scope, "GROUP BY")
            except ProgrammingError:
                return None
            sql = bound.to_sql()
            for i, gs in enumerate(group_sql):
                if sql == gs:
                    return X.InputRef(i, group_exprs[i].type, pre_names[i])
            if isinstance(node, exp.Column):
                raise ProgrammingError(
                    f'column "{node.sql()}" must appear in the GROUP BY clause or be used in '
                    f"an aggregate function", GROUPING_ERROR, position_of(node))
            return None

        out_scope = Scope([])
        result: LogicalNode = agg
        if having is not None:
            pred = bind_predicate(having.this, out_scope, "HAVING", special)
            result = LogicalFilter(result, pred)
        return result, out_scope, special

    def _eowc_agg(self, agg: LogicalAgg, group_exprs: list[Any],
                  group: exp.Expression | None) -> LogicalAgg:
        """EMIT ON WINDOW CLOSE: the group key must hold a window column, whose
        watermark closes groups."""
        for i, e in enumerate(group_exprs):
            if isinstance(e, X.InputRef) and e.name in ("window_start", "window_end"):
                return LogicalEowcAgg(agg.input, agg.group_key, agg.calls, agg.call_names, i)
        raise not_supported("EMIT ON WINDOW CLOSE without GROUP BY window_start or window_end",
                            position_of(group))

    def _agg_call(self, node: exp.Expression, scope: Scope, pre: list[Any],
                  pre_names: list[str]) -> AggCall:
        filter_col = None
        if isinstance(node, exp.Filter):
            cond = node.expression.this if isinstance(node.expression, exp.Where) else node.expression
            pre.append(bind_scalar(cond, scope, "FILTER"))
            pre_names.append("_filter")
            filter_col = len(pre) - 1
            node = node.this
        kind = AGG_CLASSES.get(type(node))
        if kind is None:
            raise not_supported(f"aggregate function {node.sql_name().lower()}",
                                position_of(node))
        arg_node = node.this
        distinct = False
        if isinstance(arg_node, exp.Distinct):
            distinct = True
            if len(arg_node.expressions) != 1:
                raise not_supported("DISTINCT over several arguments", position_of(node))
            arg_node = arg_node.expressions[0]
        order_by: tuple[tuple[int, bool], ...] = ()
        if isinstance(arg_node, exp.Order):
            keys = []
            for o in arg_node.expressions:
                pre.append(bind_scalar(o.this, scope, "aggregate ORDER BY"))
                pre_names.append("_order")
                keys.append((len(pre) - 1, bool(o.args.get("desc"))))
            order_by = tuple(keys)
            arg_node = arg_node.this
        if kind == "count" and (arg_node is None or isinstance(arg_node, exp.Star)):
            return AggCall("count_star", None, T.INT64, filter_col=filter_col)
        arg = bind_scalar(arg_node, scope, "aggregate argument")
        if kind in ("bool_and", "bool_or") and arg.type != T.BOOLEAN:
            raise ProgrammingError(f"function {kind}({arg.type}) does not exist", "42883",
                                   position_of(node))
        if kind in ("sum", "avg") and not arg.type.is_numeric and arg.type != T.INTERVAL:
            raise ProgrammingError(f"function {kind}({arg.type}) does not exist", "42883",
                                   position_of(node))
        pre.append(arg)
        pre_names.append(output_name(arg_node))
        arg_idx = len(pre) - 1
        sep = None
        if kind == "string_agg":
            if arg.type != T.VARCHAR:
                pre[arg_idx] = X.cast(arg, T.VARCHAR)
            sep_node = node.args.get("separator")
            pre.append(bind_scalar(sep_node, scope) if sep_node is not None
                       else X.Literal(",", T.VARCHAR))
            pre_names.append("_sep")
            sep = len(pre) - 1
        result_type = X.agg_result_type(kind, pre[arg_idx].type)
        arg_type = pre[arg_idx].type
        if kind in ("sum", "min", "max") and arg_type.name == "numeric" and \
                arg_type.scale is not None:
            # PostgreSQL keeps the input's scale in sum/min/max of numeric.
            result_type = T.numeric(38, arg_type.scale)
        return AggCall(kind, arg_idx, result_type, distinct, sep, order_by, filter_col)

    # ------------------------------------------------------------- row_number()
    def _bind_row_number(self, items, plan, scope, special):
        """row_number() OVER (PARTITION BY p ORDER BY o) becomes a group top-N without
        a limit; a filter `rn <= n` above it later sets the limit."""
        wins = [(i, _window_of(e)) for i, e in enumerate(items) if _window_of(e) is not None]
        if len(wins) > 1:
            raise not_supported("several window functions in one SELECT", position_of(wins[1][1]))
        idx, win = wins[0]
        fn = win.this
        if not (isinstance(fn, exp.RowNumber) or (isinstance(fn, exp.Anonymous)
                                                  and str(fn.this).lower() == "row_number")):
            raise not_supported(f"window function {fn.sql()}", position_of(win))
        if win.args.get("spec") is not None:
            raise not_supported("window frame clause", position_of(win))
        others = [e for i, e in enumerate(items) if i != idx]
        base = [bind_scalar(e.this if isinstance(e, exp.Alias) else e, scope, "SELECT", special)
                for e in others]
        part = [bind_scalar(p, scope, "PARTITION BY", special)
                for p in (win.args.get("partition_by") or [])]
        order = win.args.get("order")
        ords = []
        exprs = list(base)
        for p in part:
            exprs.append(p)
        part_idx = list(range(len(base), len(base) + len(part)))
        for o in (order.expressions if order is not None else []):
            b = bind_scalar(o.this, scope, "ORDER BY", special)
            exprs.append(b)
            desc = bool(o.args.get("desc"))
            nf = o.args.get("nulls_first")
            nulls_first = desc if not _explicit_nulls(o) else bool(nf)
            ords.append((len(exprs) - 1, desc, nulls_first))
        names = [output_name(e) for e in others] + [f"_p{i}" for i in range(len(part))] + [
            f"_o{i}" for i in range(len(ords))]
        rn_name = output_name(items[idx])
        proj = LogicalProject(plan, exprs, names)
        top = LogicalTopN(proj, ords or [(i, False, False) for i in range(len(exprs))], None, 0,
                          part_idx, True, rn_name)
        # The SELECT list is re-bound over the top-N output: others by position, the
        # window function by the row-number column.
        sch = top.schema
        rn_ref = X.InputRef(len(exprs), T.INT64, rn_name)
        positions = {id(e): i for i, e in enumerate(others)}

        def special2(node: exp.Expression) -> Any:
            if node is items[idx] or node is win or node is _strip_alias(items[idx]):
                return rn_ref
            for e in others:
                if node is e or node is _strip_alias(e):
                    i = positions[id(e)]
                    return X.InputRef(i, sch[i].type, sch[i].name)
            return None

        return top, Scope([]), special2
