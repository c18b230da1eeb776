"""Logical rewrites, applied in order by `optimize()`.

Predicate pushdown below joins and constant folding happen while binding; the
rules here work on the bound tree.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from planner import expressions as X
from planner.logical import (LogicalFilter, LogicalNode, LogicalProject, LogicalTopN,
                             with_inputs)


def _split_and(e: Any) -> list[Any]:
    if isinstance(e, X.Call) and e.name == "AND":
        return _split_and(e.args[0]) + _split_and(e.args[1])
    return [e]


def _rn_limit(pred: Any, rn_index: int) -> int | None:
    """The limit implied by `rn <= c`, `rn < c`, `rn = 1` (or c >= rn ...)."""
    if not isinstance(pred, X.Call) or len(pred.args) != 2:
        return None
    a, b = pred.args
    op = pred.name
    if isinstance(b, X.InputRef) and isinstance(a, X.Literal):
        a, b = b, a
        op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
    if not (isinstance(a, X.InputRef) and a.index == rn_index and isinstance(b, X.Literal)
            and isinstance(b.value, int) and not isinstance(b.value, bool)):
        return None
    if op == "<=":
        return max(b.value, 0)
    if op == "<":
        return max(b.value - 1, 0)
    if op == "=" and b.value == 1:
        return 1
    return None


def fuse_row_number_filter(node: LogicalNode) -> LogicalNode:
    """Filter(rn <= n) over a row_number() top-N without a limit sets its limit
    (a group top-N that keeps only n rows per group).

    The row number column stays in the output, so the filter itself is kept (it is
    then always true) only when other conjuncts remain."""
    if isinstance(node, LogicalFilter):
        child = node.input
        proj = None
        if isinstance(child, LogicalProject) and isinstance(child.input, LogicalTopN):
            proj, top = child, child.input
        elif isinstance(child, LogicalTopN):
            top = child
        else:
            return node
        if not top.row_number or top.limit is not None:
            return node
        rn = len(top.input.schema)
        if proj is not None:
            refs = [i for i, e in enumerate(proj.exprs)
                    if isinstance(e, X.InputRef) and e.index == rn]
            if not refs:
                return node
            rn_out = refs[0]
        else:
            rn_out = rn
        rest, limit = [], None
        for c in _split_and(node.predicate):
            n = _rn_limit(c, rn_out)
            if n is not None and limit is None:
                limit = n
            else:
                rest.append(c)
        if limit is None:
            return node
        new_top = replace(top, limit=limit)
        out: LogicalNode = replace(proj, input=new_top) if proj is not None else new_top
        if rest:
            pred = rest[0]
            for c in rest[1:]:
                pred = X.Call("AND", (pred, c), pred.type)
            out = LogicalFilter(out, pred)
        return out
    return node


def substitute(e: Any, exprs: list[Any]) -> Any:
    """e with every InputRef(i) replaced by exprs[i], in every kind of expression."""
    return e.transform(lambda n: exprs[n.index] if isinstance(n, X.InputRef) else n)


def merge_projects(node: LogicalNode) -> LogicalNode:
    """Project(Project(x)) -> one Project, when the inner one only picks columns
    (as the column selection above a scan does): one pass over each chunk instead of two.

    >>> from planner.types import INT32
    >>> inner = LogicalProject(None, [X.InputRef(2, INT32, "c")], ["c"])
    >>> outer = LogicalProject(inner, [X.Call("+", (X.InputRef(0, INT32, "c"),
    ...     X.Literal(1, INT32)), INT32)], ["c1"])
    >>> merge_projects(outer).exprs[0].to_sql()
    '(c + 1)'
    """
    if isinstance(node, LogicalProject) and isinstance(node.input, LogicalProject):
        inner = node.input
        if all(isinstance(e, X.InputRef) for e in inner.exprs):
            return LogicalProject(inner.input, [substitute(e, inner.exprs) for e in node.exprs],
                                  node.names)
    return node


RULES: tuple[Callable[[LogicalNode], LogicalNode], ...] = (merge_projects,
                                                          fuse_row_number_filter)


def optimize(node: LogicalNode) -> LogicalNode:
    """Apply every rule bottom-up."""
    node = with_inputs(node, [optimize(i) for i in node.inputs])
    for rule in RULES:
        node = rule(node)
    return node
