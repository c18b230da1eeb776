"""Aggregate calls as the planner hands them to the aggregate operators."""

from __future__ import annotations

from dataclasses import dataclass

from planner.types import DataType

# count_star, count, sum, avg, min, max, bool_and, bool_or, string_agg, array_agg
AGG_KINDS = ("count_star", "count", "sum", "avg", "min", "max", "bool_and", "bool_or",
             "string_agg", "array_agg")


@dataclass(frozen=True, slots=True)
class AggCall:
    """One aggregate over the operator's input columns.

    kind: one of AGG_KINDS. arg: input column index (None for count_star).
    distinct: aggregate over distinct non-null values. result_type: output type.
    separator: for string_agg, the input column holding the separator.
    order_by: for string_agg and array_agg, (input column, descending) pairs ordering
    the values;
    when empty the values are concatenated in ascending value order (deterministic).
    filter_col: input column holding a boolean FILTER (WHERE ...) condition, or None.
    """

    kind: str
    arg: int | None
    result_type: DataType
    distinct: bool = False
    separator: int | None = None
    order_by: tuple[tuple[int, bool], ...] = ()
    filter_col: int | None = None

    def __str__(self) -> str:
        arg = "*" if self.arg is None else f"${self.arg}"
        d = "DISTINCT " if self.distinct else ""
        name = "count" if self.kind == "count_star" else self.kind
        extra = f", ${self.separator}" if self.separator is not None else ""
        return f"{name}({d}{arg}{extra})"
