"""HashAgg: hand-written cases, a DuckDB differential test with restarts."""

from __future__ import annotations

import math
from decimal import Decimal

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from executor.message import Chunk, Watermark
from executor.operators.hash_agg import HashAgg
from planner.aggregates import AggCall
from planner.types import BOOLEAN, DECIMAL, FLOAT64, INT32, INT64, VARCHAR
from storage.state_table import StateTable
from tests.executor.harness import MockSource, chunks_between_barriers, multiset, run
from tests.executor.operators.support import (StateSink, accumulated_inputs, check_invariants,
                                              draw_epochs, draw_schedule, run_with_restart)

COUNT_STAR = AggCall("count_star", None, INT64)


def agg(group_key: list[int], calls: list[AggCall]) -> HashAgg:
    return HashAgg(group_key, calls, StateTable("t", dist_len=len(group_key)))


def epochs_of(op: HashAgg, src: MockSource) -> list[Chunk]:
    msgs = run(op.execute, src)
    check_invariants(msgs)
    return chunks_between_barriers(msgs)


def test_grouped_count_sum_emits_update_pairs_at_barrier() -> None:
    src = MockSource()
    src.push_chunk("""
         I I
       + 1 10
       + 1 5
       + 2 7
    """).push_barrier()
    src.push_chunk("""
         I I
       - 1 10
       + 2 1
       - 2 1
    """).push_barrier()
    src.push_chunk("""
         I I
       - 1 5
    """).push_barrier()
    out = epochs_of(agg([0], [COUNT_STAR, AggCall("sum", 1, INT64)]), src)
    assert multiset(out[0]) == {(1, 2, 15): 1, (2, 1, 7): 1}
    # group 2 changed and changed back within the epoch: nothing for it
    assert out[1].ops == Chunk.from_pretty("U- 1 2 15\nU+ 1 1 5").ops
    assert out[1].rows == [(1, 2, 15), (1, 1, 5)]
    assert out[2].to_pretty() == "- 1 1 5"


def test_min_max_retract_to_next_value() -> None:
    src = MockSource()
    src.push_chunk("""
         I I
       + 1 3
       + 1 9
       + 1 3
       + 1 5
    """).push_barrier()
    src.push_chunk("- 1 9\n- 1 3").push_barrier()
    src.push_chunk("- 1 3").push_barrier()
    calls = [AggCall("min", 1, INT32), AggCall("max", 1, INT32)]
    out = epochs_of(agg([0], calls), src)
    assert multiset(out[0]) == {(1, 3, 9): 1}
    assert multiset(out[1]) == {(1, 3, 9): -1, (1, 3, 5): 1}
    assert multiset(out[2]) == {(1, 3, 5): -1, (1, 5, 5): 1}


def test_nulls_ignored_and_empty_aggregates() -> None:
    src = MockSource()
    src.push_chunk("""
         I I F T B
       + 1 . . . .
    """).push_barrier()
    calls = [COUNT_STAR, AggCall("count", 1, INT64), AggCall("sum", 1, INT64),
             AggCall("avg", 2, FLOAT64), AggCall("min", 3, VARCHAR),
             AggCall("bool_and", 4, BOOLEAN), AggCall("string_agg", 3, VARCHAR)]
    out = epochs_of(agg([0], calls), src)
    assert multiset(out[0]) == {(1, 1, 0, None, None, None, None, None): 1}


def test_sum_types_and_avg_result_types() -> None:
    src = MockSource()
    src.push_chunk(Chunk.inserts([(1, Decimal("1.5"), 0.5), (2, Decimal("2.25"), 1.0),
                                  (4, None, 1.0)])).push_barrier()
    calls = [AggCall("sum", 0, INT64), AggCall("sum", 1, DECIMAL), AggCall("sum", 2, FLOAT64),
             AggCall("avg", 0, DECIMAL), AggCall("avg", 1, DECIMAL), AggCall("avg", 2, FLOAT64)]
    [row] = list(multiset(epochs_of(agg([], calls), src)[0]))
    assert row == (7, Decimal("3.75"), 2.5, Decimal(7) / Decimal(3), Decimal("1.875"), 2.5 / 3)
    assert type(row[0]) is int and type(row[1]) is Decimal and type(row[2]) is float
    assert str(row[3]).startswith("2.33333333333333")


def test_float_sum_and_avg_leave_no_residue_after_retraction() -> None:
    """A float sum kept as a running float would answer 0.0 here (1e300 + 1 - 1e300)."""
    src = MockSource()
    src.push_chunk(Chunk.inserts([(1, 1e300), (1, 1.0), (2, 0.1), (2, 0.2)])).push_barrier()
    src.push_chunk(Chunk.deletes([(1, 1e300), (2, 0.2)])).push_barrier()
    src.push_chunk(Chunk.inserts([(1, float("inf")), (2, float("nan"))])).push_barrier()
    src.push_chunk(Chunk.deletes([(1, float("inf")), (2, float("nan"))])).push_barrier()
    calls = [AggCall("sum", 1, FLOAT64), AggCall("avg", 1, FLOAT64)]
    out = epochs_of(agg([0], calls), src)
    after = {row[0]: row[1:] for row, n in multiset(out[1]).items() if n > 0}
    assert after == {1: (1.0, 1.0), 2: (0.1, 0.1)}
    special = {row[0]: row[1:] for row, n in multiset(out[2]).items() if n > 0}
    assert special[1] == (math.inf, math.inf) and all(math.isnan(v) for v in special[2])
    back = {row[0]: row[1:] for row, n in multiset(out[3]).items() if n > 0}
    assert back == {1: (1.0, 1.0), 2: (0.1, 0.1)}


def test_string_agg_separator_order_by_and_distinct() -> None:
    src = MockSource()
    src.push_chunk("""
         T T I
       + b ; 1
       + a ; 2
       + c ; 2
       + a ; 3
       + . ; 9
    """).push_barrier()
    src.push_chunk("- a ; 2").push_barrier()
    calls = [AggCall("string_agg", 0, VARCHAR, separator=1),
             AggCall("string_agg", 0, VARCHAR, separator=1, order_by=((2, True),)),
             AggCall("string_agg", 0, VARCHAR, distinct=True, separator=1)]
    out = epochs_of(agg([], calls), src)
    assert multiset(out[0]) == {("a;a;b;c", "a;a;c;b", "a;b;c"): 1}
    assert multiset(out[1]) == {("a;a;b;c", "a;a;c;b", "a;b;c"): -1,
                                ("a;b;c", "a;c;b", "a;b;c"): 1}


def test_count_distinct_and_filter() -> None:
    src = MockSource()
    src.push_chunk("""
         I I B
       + 1 5 t
       + 1 5 f
       + 1 6 .
    """).push_barrier()
    src.push_chunk("I I B\n- 1 5 t").push_barrier()
    src.push_chunk("I I B\n- 1 5 f").push_barrier()
    calls = [AggCall("count", 1, INT64, distinct=True), AggCall("sum", 1, INT64, distinct=True),
             AggCall("count_star", None, INT64, filter_col=2),
             AggCall("sum", 1, INT64, filter_col=2)]
    out = epochs_of(agg([0], calls), src)
    assert multiset(out[0]) == {(1, 2, 11, 1, 5): 1}
    assert multiset(out[1]) == {(1, 2, 11, 1, 5): -1, (1, 2, 11, 0, None): 1}
    assert multiset(out[2]) == {(1, 2, 11, 0, None): -1, (1, 1, 6, 0, None): 1}


def test_simple_agg_row_exists_without_input_and_survives_restart() -> None:
    sink = StateSink()
    calls = [COUNT_STAR, AggCall("sum", 0, INT64)]
    src = MockSource().push_barrier().push_chunk("+ 4").push_barrier()
    out = epochs_of(HashAgg([], calls, StateTable("t", sink)), src)
    assert multiset(out[0]) == {(0, None): 1}
    assert multiset(out[1]) == {(0, None): -1, (1, 4): 1}
    state = StateTable("t", sink)
    state.load(sink.committed("t"))
    out = epochs_of(HashAgg([], calls, state), MockSource().push_barrier(4).push_barrier(5))
    assert [len(c) for c in out] == [0, 0]  # not inserted a second time
    src = MockSource().push_chunk("- 4").push_barrier(4)
    out = epochs_of(HashAgg([], calls, state), src)
    assert multiset(out[0]) == {(1, 4): -1, (0, None): 1}


def test_watermark_on_group_column_is_remapped_after_output() -> None:
    src = MockSource().push_chunk("+ 7 3").push_watermark(1, 3).push_watermark(0, 1)
    src.push_barrier()
    msgs = run(agg([1], [COUNT_STAR]).execute, src)
    assert isinstance(msgs[0], Chunk) and msgs[0].rows == [(3, 1)]
    assert msgs[1] == Watermark(0, 3)
    assert len(msgs) == 3


def test_output_cut_into_chunks_without_splitting_pairs() -> None:
    src = MockSource().push_chunk(Chunk.inserts([(i, 1) for i in range(5)])).push_barrier()
    src.push_chunk(Chunk.inserts([(i, 1) for i in range(5)])).push_barrier()
    op = HashAgg([0], [COUNT_STAR], StateTable("t", dist_len=1), chunk_size=3)
    msgs = run(op.execute, src)
    check_invariants(msgs, capacity=3)
    out = chunks_between_barriers(msgs)
    assert multiset(out[1]) == {**{(i, 1): -1 for i in range(5)}, **{(i, 2): 1 for i in range(5)}}


# -- differential test against DuckDB

ROW = st.tuples(st.sampled_from([0, 1, 2, None]), st.sampled_from([-2, 0, 1, 3, None]),
                st.sampled_from([-1.5, 0.5, 2.0, None]), st.sampled_from(["a", "b", "c", None]),
                st.sampled_from([True, False, None]), st.just(","))
# (call, DuckDB expression) over columns g, x, y, s, b, p
CALLS = [
    (COUNT_STAR, "count(*)"),
    (AggCall("count", 1, INT64), "count(x)"),
    (AggCall("sum", 1, INT64), "sum(x)"),
    (AggCall("avg", 1, DECIMAL), "avg(x)"),
    (AggCall("min", 1, INT32), "min(x)"),
    (AggCall("max", 1, INT32), "max(x)"),
    (AggCall("sum", 2, FLOAT64), "sum(y)"),
    (AggCall("avg", 2, FLOAT64), "avg(y)"),
    (AggCall("bool_and", 4, BOOLEAN), "bool_and(b)"),
    (AggCall("bool_or", 4, BOOLEAN), "bool_or(b)"),
    (AggCall("string_agg", 3, VARCHAR, separator=5), "string_agg(s, ',' ORDER BY s)"),
    (AggCall("string_agg", 3, VARCHAR, separator=5, order_by=((1, True),)),
     "string_agg(s, ',' ORDER BY x DESC NULLS FIRST, s)"),
    (AggCall("count", 1, INT64, distinct=True), "count(DISTINCT x)"),
    (AggCall("sum", 1, INT64, distinct=True), "sum(DISTINCT x)"),
    (AggCall("count_star", None, INT64, filter_col=4), "count(*) FILTER (WHERE b)"),
    (AggCall("sum", 1, INT64, filter_col=4), "sum(x) FILTER (WHERE b)"),
    (AggCall("min", 3, VARCHAR), "min(s)"),
    (AggCall("max", 3, VARCHAR), "max(s)"),
    (AggCall("string_agg", 3, VARCHAR, distinct=True, separator=5),
     "string_agg(DISTINCT s, ',' ORDER BY s)"),
]
SCHEMA = pa.schema([("g", pa.int64()), ("x", pa.int64()), ("y", pa.float64()),
                    ("s", pa.string()), ("b", pa.bool_()), ("p", pa.string())])


def duckdb_rows(rows: list[tuple], grouped: bool) -> list[tuple]:
    t = pa.Table.from_pylist([dict(zip(SCHEMA.names, r)) for r in rows], schema=SCHEMA)
    exprs = ", ".join(e for _, e in CALLS)
    con = duckdb.connect()
    con.register("t", t)
    sql = f"SELECT g, {exprs} FROM t GROUP BY g" if grouped else f"SELECT {exprs} FROM t"
    return con.execute(sql).fetchall()


def same_value(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (float, Decimal)) or isinstance(b, (float, Decimal)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)  # type: ignore
    return a == b and type(a) is type(b)


@settings(max_examples=60, deadline=None)
@given(st.data(), st.booleans())
def test_matches_duckdb_through_restarts(data: st.DataObject, grouped: bool) -> None:
    epochs = draw_epochs(data, ROW)
    checkpoints, restart_after = draw_schedule(data, len(epochs))
    group_key = [0] if grouped else []
    calls = [c for c, _ in CALLS]
    outputs = run_with_restart(lambda state: HashAgg(group_key, calls, state), epochs,
                               checkpoints, restart_after, dist_len=len(group_key))
    for got, rows in zip(outputs, accumulated_inputs(epochs)):
        assert all(n == 1 for n in got.values()), got
        expected = {r[:len(group_key)]: r for r in duckdb_rows(rows, grouped)}
        actual = {r[:len(group_key)]: r for r in got}
        assert sorted(actual, key=repr) == sorted(expected, key=repr)
        for key, row in actual.items():
            assert len(row) == len(expected[key])
            for a, b in zip(row, expected[key]):
                assert same_value(a, b), (row, expected[key])
