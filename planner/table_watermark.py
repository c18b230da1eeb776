"""`WATERMARK FOR col AS col - INTERVAL '...'` in the column list of a table that
takes DML (RisingWave's syntax; the table must be APPEND ONLY): the table emits a
watermark `max(col) - delay` after the rows of each statement and drops rows
older than the watermark, as a source with a watermark does."""

from __future__ import annotations

from sqlglot import exp

from planner import expressions as X
from planner import types as T
from planner.binder import Ctx, Scope, position_of
from planner.catalog import ColumnDef
from planner.errors import UNDEFINED_COLUMN, ProgrammingError, not_supported


def table_watermark(node: exp.WatermarkColumnConstraint,
                    columns: list[ColumnDef]) -> tuple[str, int]:
    """(column, delay in microseconds) of a WATERMARK clause."""
    col = node.this.name
    expr = node.expression
    if isinstance(expr, exp.Paren):
        expr = expr.this
    delay = 0
    if isinstance(expr, exp.Sub) and isinstance(expr.this, exp.Column) \
            and expr.this.name == col:
        value = X.eval_const(X.bind_expr(expr.expression, Ctx(Scope([]), clause="WATERMARK")))
        if not isinstance(value, T.Interval) or value.months:
            raise not_supported("a WATERMARK delay that is not an interval of fixed length",
                                position_of(expr.expression))
        delay = value.total_micros()
    elif not (isinstance(expr, exp.Column) and expr.name == col):
        raise not_supported("a WATERMARK expression other than col - INTERVAL '...'",
                            position_of(expr))
    found = next((c for c in columns if c.name == col), None)
    if found is None:
        raise ProgrammingError(f'column "{col}" named in WATERMARK does not exist',
                               UNDEFINED_COLUMN, position_of(node))
    if found.type not in (T.TIMESTAMP, T.TIMESTAMPTZ, T.DATE):
        raise ProgrammingError(f'WATERMARK column "{col}" must be a timestamp, not '
                               f"{found.type}", "42804", position_of(node))
    return col, delay


__all__ = ["table_watermark"]
