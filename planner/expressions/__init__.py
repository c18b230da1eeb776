"""Scalar expressions: binding sqlglot nodes to typed trees (PostgreSQL's rules), the
function table, constant folding, and compilation to Python over row tuples."""

from planner.expressions.agg_types import agg_result_type
from planner.expressions.binder import BindContext, bind_expr, position_of, sql_type
from planner.expressions.compiler import compile_filter, compile_projection, compile_scalar
from planner.expressions.folding import eval_const, fold_constants
from planner.expressions.functions import FUNCTION_NAMES, FUNCTIONS
from planner.expressions.nodes import BoundExpr, Call, Case, Cast, InputRef, Literal
from planner.expressions.operators import (bind_arith, bind_compare, bind_function,
                                           bind_logic, cast, is_untyped)

__all__ = [
    "FUNCTIONS", "FUNCTION_NAMES", "BindContext", "BoundExpr", "Call", "Case", "Cast",
    "InputRef", "Literal", "agg_result_type", "bind_arith", "bind_compare", "bind_expr",
    "bind_function", "bind_logic", "cast", "compile_filter", "compile_projection",
    "compile_scalar", "eval_const", "fold_constants", "is_untyped", "position_of",
    "sql_type",
]
