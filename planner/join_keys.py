"""Equi-join keys of a join condition, including keys that are expressions.

`a.x = b.y` is a hash key as it stands. `mod(b.auction, 10000) = s.key` or
`a.n::numeric = b.d` are keys too: each side of the equality reads one input
only, so the input computes it as an extra column (a projection below the
join), the join hashes on that column, and a projection above drops it again.
Without this such a condition is a filter over every pair of rows: a nested
loop whose cost grows with the product of both sides.

>>> from planner.logical import LogicalValues
>>> from planner.types import INT32, INT64
>>> left = LogicalValues([(1, 2)], [Field("a", INT32), Field("b", INT32)])
>>> right = LogicalValues([(3,)], [Field("k", INT64)])
>>> mod = X.Call("%", (X.InputRef(0, INT32, "a"), X.Literal(10, INT32)), INT32)
>>> eq = X.Call("=", (X.Cast(mod, INT64), X.InputRef(2, INT64, "k")), T.BOOLEAN)
>>> out = plan_join(left, right, "inner", [eq], 2)
>>> join = out.input
>>> join.left_keys, join.right_keys, [f.name for f in out.schema]
([2], [0], ['a', 'b', 'k'])
"""

from __future__ import annotations

from typing import Any

from planner import expressions as X
from planner import types as T
from planner.logical import Field, LogicalJoin, LogicalNode, LogicalProject
from planner.optimizer import substitute
from planner.plan_shape import shape


def _integer_key(e: Any) -> Any:
    """A column widened from one integer type to another compares and hashes as the
    column itself (Python ints), so `int_col = bigint_col` is still an equi-join key."""
    if (isinstance(e, X.Cast) and isinstance(e.arg, X.InputRef) and e.type.is_integer
            and e.arg.type.is_integer):
        return e.arg
    return e


def _side(e: Any, right_offset: int) -> str | None:
    """'l' or 'r' when every column e reads is on one side (and it reads one)."""
    refs = e.input_refs()
    if not refs:
        return None
    if refs[-1] < right_offset:
        return "l"
    if refs[0] >= right_offset:
        return "r"
    return None


def _and_all(preds: list[Any]) -> Any:
    out = preds[0]
    for p in preds[1:]:
        out = X.Call("AND", (out, p), T.BOOLEAN)
    return out


def _refs(fields: list[Field], start: int = 0) -> list[X.InputRef]:
    return [X.InputRef(start + i, f.type, f.name) for i, f in enumerate(fields)]


def plan_join(left: LogicalNode, right: LogicalNode, kind: str, conds: list[Any],
              right_offset: int) -> LogicalNode:
    """The join of `left` and `right` under the bound conjuncts `conds` (columns
    numbered over left + right, the right ones from `right_offset`)."""
    assert right_offset == len(left.schema)
    lk: list[int] = []
    rk: list[int] = []
    pairs: list[tuple[Any, Any]] = []  # (left expression, right expression) keys
    rest = []
    for bound in conds:
        if isinstance(bound, X.Call) and bound.name == "=" and len(bound.args) == 2:
            a, b = (_integer_key(x) for x in bound.args)
            sides = (_side(a, right_offset), _side(b, right_offset))
            if sides == ("r", "l"):
                a, b, sides = b, a, ("l", "r")
            if sides == ("l", "r"):
                if isinstance(a, X.InputRef) and isinstance(b, X.InputRef):
                    lk.append(a.index)
                    rk.append(b.index - right_offset)
                    continue
                if shape() >= 2:
                    pairs.append((a, b))
                    continue
        rest.append(bound)
    if not pairs:
        return LogicalJoin(left, right, kind, lk, rk, _and_all(rest) if rest else None)
    return _expression_keys(left, right, kind, lk, rk, pairs, rest)


def _expression_keys(left: LogicalNode, right: LogicalNode, kind: str, lk: list[int],
                     rk: list[int], pairs: list[tuple[Any, Any]],
                     rest: list[Any]) -> LogicalNode:
    ls, rs = left.schema, right.schema
    lw, rw = len(ls), len(rs)
    right_exprs = _refs(ls) + _refs(rs)  # original numbering -> the right input's columns
    l_extra: list[Any] = []
    r_extra: list[Any] = []
    for a, b in pairs:  # a key that is a column already needs no extra column
        if isinstance(a, X.InputRef):
            lk.append(a.index)
        else:
            lk.append(lw + len(l_extra))
            l_extra.append(a)
        if isinstance(b, X.InputRef):
            rk.append(b.index - lw)
        else:
            rk.append(rw + len(r_extra))
            r_extra.append(substitute(b, right_exprs))
    nl = len(l_extra)
    left2 = LogicalProject(left, _refs(ls) + l_extra,
                           [f.name for f in ls] + [f"_key{i}" for i in range(nl)])
    right2 = LogicalProject(right, _refs(rs) + r_extra,
                            [f.name for f in rs] + [f"_key{i}" for i in range(len(r_extra))])
    # The rest of the condition: right columns move past the left side's key columns.
    cond = substitute(_and_all(rest), _refs(ls) + _refs(rs, lw + nl)) if rest else None
    join = LogicalJoin(left2 if l_extra else left, right2 if r_extra else right, kind,
                       lk, rk, cond)
    keep = _refs(ls) if kind in ("semi", "anti") else _refs(ls) + _refs(rs, lw + nl)
    return LogicalProject(join, keep, [r.name for r in keep])
