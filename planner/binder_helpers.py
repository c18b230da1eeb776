"""Small helpers of the binder: AST shape tests and plan-building shortcuts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlglot import exp

from planner import expressions as X
from planner import types as T
from planner.logical import LogicalFilter, LogicalNode, LogicalProject

if TYPE_CHECKING:
    from planner.binder import ScopeColumn


AGG_CLASSES: dict[type, str] = {
    exp.Count: "count", exp.Sum: "sum", exp.Avg: "avg", exp.Min: "min", exp.Max: "max",
    exp.LogicalAnd: "bool_and", exp.LogicalOr: "bool_or", exp.GroupConcat: "string_agg",
    exp.ArrayAgg: "array_agg",
}


def is_agg(node: exp.Expression) -> bool:
    return isinstance(node, exp.AggFunc) or (isinstance(node, exp.Filter)
                                              and isinstance(node.this, exp.AggFunc))


def conjuncts(node: exp.Expression | None) -> list[exp.Expression]:
    if node is None:
        return []
    if isinstance(node, exp.And):
        return conjuncts(node.this) + conjuncts(node.expression)
    if isinstance(node, exp.Paren):
        return conjuncts(node.this)
    return [node]


def output_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Alias):
        return node.alias
    if isinstance(node, exp.Column):
        return node.name
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.IntDiv):
        return "div"  # div(a, b), which sqlglot reads as CAST(a // b AS DECIMAL)
    if isinstance(node, exp.Cast):
        return output_name(node.this) if isinstance(node.this, exp.Column) else node.to.sql().lower()
    if isinstance(node, exp.Window):
        return output_name(node.this)
    if isinstance(node, exp.Filter):
        return output_name(node.this)
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    if isinstance(node, exp.Func):
        name = AGG_CLASSES.get(type(node)) or node.sql_name().lower()
        return {"logical_and": "bool_and", "logical_or": "bool_or",
                "group_concat": "string_agg"}.get(name, name)
    return "?column?"



class _FixedCtx:
    def __init__(self, mapping: dict[str, Any]) -> None:
        self.mapping = mapping

    def resolve(self, node: exp.Expression) -> Any:
        if isinstance(node, exp.Column):
            return self.mapping[node.name]
        return None


def _explicit_nulls(o: exp.Expression) -> bool:
    text = o.sql(dialect="postgres").upper()
    return "NULLS FIRST" in text or "NULLS LAST" in text


def _strip_alias(e: exp.Expression) -> exp.Expression:
    return e.this if isinstance(e, exp.Alias) else e


def _window_of(e: exp.Expression) -> exp.Window | None:
    e = _strip_alias(e)
    return e if isinstance(e, exp.Window) else None


def _col(c: ScopeColumn) -> exp.Column:
    return exp.Column(this=exp.to_identifier(c.name, quoted=True),
                      table=exp.to_identifier(c.table, quoted=True) if c.table else None)


def _rename(plan: LogicalNode, names: list[str]) -> LogicalNode:
    sch = plan.schema
    if [f.name for f in sch] == names:
        return plan
    return LogicalProject(plan, [X.InputRef(i, f.type, n) for i, (f, n) in
                                 enumerate(zip(sch, names))], names)


def _item_of(index: int, offsets: list[int]) -> int:
    for i in range(len(offsets) - 1):
        if offsets[i] <= index < offsets[i + 1]:
            return i
    return len(offsets) - 2


def _add_filter(plan: LogicalNode, pred: Any) -> LogicalNode:
    if isinstance(plan, LogicalFilter):
        return LogicalFilter(plan.input, _and_all([plan.predicate, pred]))
    return LogicalFilter(plan, pred)


def _and_all(preds: list[Any]) -> Any:
    out = preds[0]
    for p in preds[1:]:
        out = X.Call("AND", (out, p), T.BOOLEAN)
    return out


def _is_subquery_predicate(c: exp.Expression) -> bool:
    node = c.this if isinstance(c, exp.Not) else c
    return isinstance(node, exp.Exists) or (isinstance(node, exp.In)
                                            and node.args.get("query") is not None)


def _contains_agg(e: exp.Expression) -> bool:
    return any(True for _ in _find_aggs(e))


def _find_aggs(e: exp.Expression):
    """Aggregate calls in e, outermost first, not descending into subqueries."""
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, (exp.Subquery, exp.Select)) and node is not e:
            continue
        if isinstance(node, exp.Window):
            stack.extend(a for a in node.args.get("partition_by") or [])
            continue
        if is_agg(node):
            yield node
            continue
        stack.extend(reversed(list(node.iter_expressions())))


