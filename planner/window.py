"""Event-time windows in the planner: the TUMBLE / HOP table functions and
`EMIT ON WINDOW CLOSE`.

`TUMBLE(rel, col, size [, offset])` is `HOP(rel, col, size, size [, offset])`:
each input row appears once per window containing it, with two columns added,
`window_start` and `window_end`. An aggregation grouped by one of them under
`EMIT ON WINDOW CLOSE` emits each window's row once, when a watermark passes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from planner.logical import Field, LogicalAgg, LogicalNode
from planner.parse import parse
from planner.types import Interval

_EMIT = re.compile(r"\s+EMIT\s+ON\s+WINDOW\s+CLOSE\b", re.I)
EOWC_META = "emit_on_window_close"


def parse_view(text: str) -> exp.Expression:
    """Parse a statement that may end its query with EMIT ON WINDOW CLOSE (which
    sqlglot does not know): the clause is cut out and recorded on the query."""
    stripped, n = _EMIT.subn("", text)
    tree = parse(stripped)
    if n:
        query = tree.expression if isinstance(tree, exp.Create) else tree
        if query is not None:
            query.meta[EOWC_META] = True
    return tree


@dataclass
class LogicalHopWindow:
    """Each input row once per hopping window that holds its `time_col` value,
    with window_start and window_end appended."""

    input: LogicalNode
    time_col: int
    slide: Interval
    size: Interval
    offset: Interval = Interval()

    @property
    def schema(self) -> list[Field]:
        t = self.input.schema[self.time_col].type
        return self.input.schema + [Field("window_start", t), Field("window_end", t)]

    @property
    def inputs(self) -> list[LogicalNode]:
        return [self.input]


@dataclass
class LogicalEowcAgg(LogicalAgg):
    """A grouped aggregation emitting each group once, when a watermark on group
    key column `window_col` (a position in the group key) passes its value."""

    window_col: int = 0


def window_micros(iv: Interval, what: str) -> int:
    """An interval of fixed length (no months) in microseconds."""
    from planner.errors import INVALID_PARAMETER, ProgrammingError
    if iv.months:
        raise ProgrammingError(f"window {what} must not be given in months or years",
                               INVALID_PARAMETER)
    return iv.total_micros()


@dataclass
class LogicalTemporalFilter:
    """`col > now() - delay` (or >=): rows enter while inside the moving window and
    leave as time passes."""

    input: LogicalNode
    time_col: int
    delay: Interval
    strict: bool = True

    @property
    def schema(self) -> list[Field]:
        return self.input.schema

    @property
    def inputs(self) -> list[LogicalNode]:
        return [self.input]


def _is_now(node: exp.Expression) -> bool:
    return isinstance(node, exp.CurrentTimestamp) or (
        isinstance(node, exp.Anonymous) and str(node.this).lower() == "now")


def temporal_conjunct(c: exp.Expression) -> tuple[exp.Column, exp.Expression | None, bool] | None:
    """(column, delay interval expression or None, strict) when `c` compares a column
    with now() [- interval], as `col > now() - INTERVAL '1' HOUR`; else None."""
    if isinstance(c, (exp.GT, exp.GTE)):
        col, rhs, strict = c.this, c.expression, isinstance(c, exp.GT)
    elif isinstance(c, (exp.LT, exp.LTE)):
        col, rhs, strict = c.expression, c.this, isinstance(c, exp.LT)
    else:
        return None
    while isinstance(rhs, exp.Paren):
        rhs = rhs.this
    if not isinstance(col, exp.Column):
        return None
    if _is_now(rhs):
        return col, None, strict
    if isinstance(rhs, exp.Sub) and _is_now(rhs.this):
        return col, rhs.expression, strict
    return None
