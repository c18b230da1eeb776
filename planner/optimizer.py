"""Logical rewrites, applied in order by `optimize()`.

Predicate pushdown below joins and constant folding happen while binding; the
rules here work on the bound tree.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from planner import expressions as X
from planner.logical import (LogicalAgg, LogicalDistinct, LogicalFilter, LogicalJoin,
                             LogicalNode, LogicalProject, LogicalTopN, LogicalUnion)
from planner.over_window import LogicalOverWindow


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
    """e with every InputRef(i) replaced by exprs[i]."""
    if isinstance(e, X.InputRef):
        return exprs[e.index]
    if isinstance(e, X.Call):
        return replace(e, args=tuple(substitute(a, exprs) for a in e.args))
    if isinstance(e, X.Cast):
        return replace(e, arg=substitute(e.arg, exprs))
    if isinstance(e, X.Case):
        return replace(e, whens=tuple((substitute(c, exprs), substitute(r, exprs))
                                      for c, r in e.whens),
                       else_=substitute(e.else_, exprs))
    return e


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


def dedupe_top_n_columns(node: LogicalNode) -> LogicalNode:
    """Project(TopN(Project)) where the inner projection repeats a column (row_number()
    adds its PARTITION BY and ORDER BY columns to the row even when they are plain
    columns already in it): the top-N sorts and groups on the first copy and the
    copies leave the row, so every row the top-N keeps and checkpoints is narrower.
    Equal columns compare equal, so the whole-row tie-break orders rows the same way.

    >>> from planner.types import INT32
    >>> a, b = X.InputRef(0, INT32, "a"), X.InputRef(1, INT32, "b")
    >>> inner = LogicalProject(None, [a, b, X.InputRef(0, INT32, "_p0")], ["a", "b", "_p0"])
    >>> top = LogicalTopN(inner, [(1, True, True)], 1, 0, [2], True, "rn")
    >>> refs = [a, b, X.InputRef(2, INT32, "_p0"), X.InputRef(3, INT32, "rn")]
    >>> out = dedupe_top_n_columns(LogicalProject(top, refs, ["a", "b", "p", "rn"]))
    >>> out.input.group_key, out.input.input.names, [e.index for e in out.exprs]
    ([0], ['a', 'b'], [0, 1, 0, 2])
    """
    if not (isinstance(node, LogicalProject) and isinstance(node.input, LogicalTopN)
            and isinstance(node.input.input, LogicalProject)
            and all(isinstance(e, X.InputRef) for e in node.exprs)):
        return node
    top, inner = node.input, node.input.input
    first: dict[tuple[int, Any], int] = {}
    keep: list[int] = []
    new_index: list[int] = []
    for i, e in enumerate(inner.exprs):
        if isinstance(e, X.InputRef) and (e.index, e.type) in first:
            new_index.append(new_index[first[(e.index, e.type)]])
            continue
        if isinstance(e, X.InputRef):
            first[(e.index, e.type)] = i
        new_index.append(len(keep))
        keep.append(i)
    if len(keep) == len(inner.exprs):
        return node
    if top.row_number:
        new_index.append(len(keep))  # the row number column follows the row
    new_inner = LogicalProject(inner.input, [inner.exprs[i] for i in keep],
                               [inner.names[i] for i in keep])
    new_top = replace(top, input=new_inner,
                      order=[(new_index[c], desc, nf) for c, desc, nf in top.order],
                      group_key=[new_index[c] for c in top.group_key])
    refs = [X.InputRef(new_index[i], f.type, f.name) for i, f in enumerate(top.schema)]
    return LogicalProject(new_top, [substitute(e, refs) for e in node.exprs], node.names)


RULES: tuple[Callable[[LogicalNode], LogicalNode], ...] = (merge_projects,
                                                          fuse_row_number_filter,
                                                          dedupe_top_n_columns)


def _map_children(node: LogicalNode, f: Callable[[LogicalNode], LogicalNode]) -> LogicalNode:
    if isinstance(node, (LogicalProject, LogicalFilter, LogicalAgg, LogicalTopN,
                         LogicalDistinct, LogicalOverWindow)):
        return replace(node, input=f(node.input))
    if isinstance(node, LogicalJoin):
        return replace(node, left=f(node.left), right=f(node.right))
    if isinstance(node, LogicalUnion):
        return replace(node, inputs_=[f(i) for i in node.inputs_])
    return node


def optimize(node: LogicalNode) -> LogicalNode:
    """Apply every rule bottom-up."""
    node = _map_children(node, optimize)
    for rule in RULES:
        node = rule(node)
    return node
