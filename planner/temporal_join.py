"""`JOIN t FOR SYSTEM_TIME AS OF PROCTIME()`: a join with a side table, as RisingWave
spells its temporal (lookup) join.

It is planned as an ordinary join over the table's contents, so a later change to the
side table also updates the rows it joined with earlier; a lookup join would leave
them as they were. The two agree whenever the side table does not change while the
stream runs (the way Nexmark's q13 uses it).
"""

from __future__ import annotations

from sqlglot import exp

from planner.catalog import TABLE, Relation
from planner.errors import not_supported
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
