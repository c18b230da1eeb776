"""`JOIN t FOR SYSTEM_TIME AS OF PROCTIME()`: a processing-time temporal (lookup) join,
as RisingWave spells it.

Each left (probe) row is joined once, when it arrives, with the rows the table holds
then; a later change to the table changes no row already emitted (RisingWave's and
Flink's semantics). The binder marks the join (`LogicalJoin.temporal`); the stream
plan runs it as a TemporalJoin operator. A batch query reads every table at one
instant, so there it is an ordinary join.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlglot import exp

from planner.catalog import TABLE, Relation
from planner.errors import not_supported
from planner.logical import LogicalJoin, LogicalProject
from planner.expressions.binder import position_of


def check_system_time(node: exp.Table, rel: Relation) -> None:
    """Accept `FOR SYSTEM_TIME AS OF PROCTIME()` on a table; refuse other versions."""
    version = node.args.get("version")
    if version is None:
        return
    at = version.expression
    proctime = isinstance(at, exp.Anonymous) and str(at.this).lower() == "proctime" \
        and not at.expressions
    if str(version.args.get("kind", "")).upper() != "AS OF" or not proctime:
        raise not_supported("FOR SYSTEM_TIME other than AS OF PROCTIME()", position_of(node))
    if rel.kind != TABLE:
        raise not_supported(f"FOR SYSTEM_TIME AS OF PROCTIME() on a {rel.kind} (only on a "
                            "table)", position_of(node))


def is_temporal(node: exp.Expression) -> bool:
    """Whether a FROM item carries FOR SYSTEM_TIME (checked by `check_system_time`)."""
    return isinstance(node, exp.Table) and node.args.get("version") is not None


def mark_temporal(plan: Any, join: exp.Join) -> Any:
    """The join just planned for `join`, marked temporal: its right side is the
    versioned table. Only inner and left joins look rows up."""
    node = plan.input if isinstance(plan, LogicalProject) else plan
    if not isinstance(node, LogicalJoin):
        raise not_supported("FOR SYSTEM_TIME AS OF PROCTIME() in this join", position_of(join))
    if node.kind not in ("inner", "left"):
        raise not_supported(f"a {node.kind.upper()} temporal join (only INNER and LEFT)",
                            position_of(join))
    if not node.left_keys:
        raise not_supported("a temporal join without an equality on the table's columns",
                            position_of(join))
    marked = replace(node, temporal=True)
    return replace(plan, input=marked) if isinstance(plan, LogicalProject) else marked
