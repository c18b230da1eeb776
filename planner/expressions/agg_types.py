"""Result types of aggregate functions (PostgreSQL's rules)."""

from __future__ import annotations

from planner.errors import UNDEFINED_FUNCTION, ProgrammingError
from planner.types import BOOLEAN, DECIMAL, FLOAT64, INT64, VARCHAR, DataType


def agg_result_type(kind: str, arg: DataType | None) -> DataType:
    """count -> bigint; sum(smallint/int) -> bigint, sum(bigint/numeric) -> numeric,
    sum(real/double) -> same; avg(exact) -> numeric, avg(float) -> double; min/max -> arg;
    bool_and/or -> boolean; string_agg -> varchar."""
    if kind in ("count", "count_star"):
        return INT64
    if kind in ("bool_and", "bool_or"):
        return BOOLEAN
    if kind == "string_agg":
        return VARCHAR
    if kind == "array_agg" and arg is not None:
        from planner.types import array_of
        out = array_of(arg)
        if out is None:
            raise ProgrammingError(f"could not find array type for data type {arg}",
                                   UNDEFINED_FUNCTION)
        return out
    if arg is None:
        raise ProgrammingError(f"function {kind}() does not exist", UNDEFINED_FUNCTION)
    if kind in ("min", "max"):
        return arg
    name = arg.name
    if kind == "sum":
        if name in ("smallint", "integer"):
            return INT64
        if name in ("bigint", "numeric"):
            return DECIMAL
        if arg.is_float or name == "interval":
            return arg
    if kind == "avg":
        if arg.is_integer or name == "numeric":
            return DECIMAL
        if arg.is_float:
            return FLOAT64
        if name == "interval":
            return arg
    raise ProgrammingError(f"function {kind}({arg}) does not exist", UNDEFINED_FUNCTION)
