"""Plan rewrites reach every expression kind and every plan node kind."""

from __future__ import annotations

from planner import expressions as X
from planner.catalog import TABLE, ColumnDef, Relation
from planner.expressions.udf import UdfCall, UserFunction
from planner.logical import LogicalProject, LogicalScan
from planner.optimizer import optimize, substitute
from planner.types import INT32, TIMESTAMP, Interval
from planner.window import LogicalHopWindow, LogicalTemporalFilter
from sqlstream.database import Database

TIMES_100 = "CREATE FUNCTION f(x INT) RETURNS INT LANGUAGE python AS $$ def f(x): return x * 100 $$"


def _scan() -> LogicalScan:
    rel = Relation(1, "t", TABLE, [ColumnDef("a", INT32), ColumnDef("b", INT32),
                                   ColumnDef("ts", TIMESTAMP)], [], "", options={})
    return LogicalScan(rel, [0, 1, 2])


def _picks(child: object, cols: list[int]) -> LogicalProject:
    schema = child.schema  # type: ignore[attr-defined]
    return LogicalProject(child, [X.InputRef(i, schema[i].type, schema[i].name) for i in cols],
                          [schema[i].name for i in cols])


def test_substitute_reaches_inside_udf_calls_and_case() -> None:
    f = UserFunction("f", (INT32,), INT32, "def f(x): return x")
    ref0 = X.InputRef(0, INT32, "b")
    e = X.Case(((X.Call("IS NULL", (ref0,), INT32), UdfCall(f, (ref0,), INT32)),),
               X.Cast(ref0, INT32), INT32)
    b = X.InputRef(1, INT32, "b")
    out = substitute(e, [b])
    assert out.input_refs() == [1]
    assert out == X.Case(((X.Call("IS NULL", (b,), INT32), UdfCall(f, (b,), INT32)),),
                         X.Cast(b, INT32), INT32)


def test_rules_reach_below_hop_window_and_temporal_filter() -> None:
    # Project(Project(scan)) merges into one projection, also under these nodes.
    below = _picks(_picks(_scan(), [2, 1, 0]), [0, 1])
    hop = optimize(LogicalHopWindow(below, 0, Interval(0, 0, 60_000_000),
                                    Interval(0, 0, 120_000_000)))
    assert isinstance(hop.input, LogicalProject)
    assert isinstance(hop.input.input, LogicalScan)
    assert [e.index for e in hop.input.exprs] == [2, 1]
    tf = optimize(LogicalTemporalFilter(below, 0, Interval(0, 0, 60_000_000)))
    assert isinstance(tf.input, LogicalProject) and isinstance(tf.input.input, LogicalScan)


def test_udf_over_a_subquery_reads_the_right_column() -> None:
    db = Database.open(None)
    try:
        s = db.session()
        s.execute("CREATE TABLE t (a INT, b INT)")
        s.execute(TIMES_100)
        s.execute("CREATE MATERIALIZED VIEW v AS SELECT f(b) AS y FROM (SELECT b FROM t) s")
        s.execute("INSERT INTO t VALUES (1, 2), (3, 4)")
        s.execute("FLUSH")
        assert s.execute("SELECT y FROM v ORDER BY y")[0].rows == [(200,), (400,)]
        assert s.execute("SELECT f(b) FROM (SELECT b FROM t) s ORDER BY 1")[0].rows == \
            [(200,), (400,)]
    finally:
        db.close()
