"""Constant folding and constant evaluation (plan-time, strict errors)."""

from __future__ import annotations

from typing import Any

from planner.errors import DataError, InternalError
from planner.expressions.compiler import compile_scalar
from planner.expressions.nodes import BoundExpr, Call, Case, Cast, InputRef, Literal
from planner.expressions.runtime import ROW_ERRORS


def eval_const(expr: BoundExpr) -> Any:
    """The value of an expression that reads no input column; data errors raise
    DataError with their SQLSTATE."""
    if isinstance(expr, Literal):
        return expr.value
    if expr.input_refs():
        raise InternalError(f"not a constant expression: {expr.to_sql()}")
    try:
        return compile_scalar(expr, strict=True)(())
    except DataError:
        raise
    except ROW_ERRORS as e:
        raise DataError(str(e), "22000") from None


def fold_constants(expr: BoundExpr) -> BoundExpr:
    """`expr` with every constant subtree replaced by its value. A subtree whose
    evaluation fails stays as it is, so the error surfaces per row at run time."""
    if isinstance(expr, (Literal, InputRef)):
        return expr
    if isinstance(expr, Call):
        args = tuple(fold_constants(a) for a in expr.args)
        node: BoundExpr = Call(expr.name, args, expr.type)
        children = args
    elif isinstance(expr, Cast):
        arg = fold_constants(expr.arg)
        node, children = Cast(arg, expr.type), (arg,)
    elif isinstance(expr, Case):
        whens = tuple((fold_constants(c), fold_constants(r)) for c, r in expr.whens)
        else_ = fold_constants(expr.else_)
        node = Case(whens, else_, expr.type)
        children = node.children()
    else:
        return expr
    if all(isinstance(c, Literal) for c in children):
        try:
            return Literal(eval_const(node), expr.type)
        except DataError:
            return node
    return node
