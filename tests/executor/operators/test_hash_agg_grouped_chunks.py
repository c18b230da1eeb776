"""HashAgg's insert-only chunk path (rows grouped by key, each call applied to a
group's values at once; min/max values kept as a list until a retraction or many
values) against a brute-force recomputation of every aggregate, through restarts;
the same output as the row-by-row path; and groups checkpointed in the older
nested layout (with the last emitted row in the state) still load."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from executor.message import DELETE, INSERT, UPDATE_DELETE, UPDATE_INSERT, Chunk
from executor.operators.hash_agg import _LIST_MAX, HashAgg
from planner.aggregates import AggCall
from planner.nan import NAN, NUMERIC_NAN
from planner.types import BOOLEAN, DECIMAL, FLOAT64, INT64, VARCHAR
from storage.state_table import StateTable
from tests.executor.harness import MockSource, chunks_between_barriers, multiset, run
from tests.executor.operators.support import (StateSink, accumulated_inputs, check_invariants,
                                              draw_schedule, run_with_restart)

# columns: g, x, b, s, d (numeric), y (double)
CALLS = [
    AggCall("count_star", None, INT64),
    AggCall("count_star", None, INT64, filter_col=2),
    AggCall("count", 1, INT64),
    AggCall("min", 1, INT64),
    AggCall("max", 1, INT64),
    AggCall("sum", 1, DECIMAL),
    AggCall("avg", 1, DECIMAL),
    AggCall("count", 1, INT64, distinct=True),
    AggCall("sum", 1, DECIMAL, filter_col=2),
    AggCall("min", 3, VARCHAR),
    AggCall("max", 3, VARCHAR),
    AggCall("bool_or", 2, BOOLEAN),
    AggCall("bool_and", 2, BOOLEAN),
    AggCall("sum", 4, DECIMAL),
    AggCall("max", 4, DECIMAL),
    AggCall("avg", 5, FLOAT64),
    AggCall("min", 5, FLOAT64),
    AggCall("string_agg", 3, VARCHAR, distinct=True, separator=6),
]

ROW = st.tuples(st.sampled_from([0, 1, 2, None]), st.one_of(st.none(), st.integers(-20, 20)),
                st.sampled_from([True, False, None]), st.sampled_from(["a", "b", "c", None]),
                st.sampled_from([Decimal("1.5"), Decimal("-2"), Decimal("0.25"), NUMERIC_NAN,
                                 None]),
                st.sampled_from([0.1, -2.5, 1e300, 3.0, NAN, None]), st.just(","))


def _nan(v: Any) -> bool:
    return v is not None and v != v


def expected_row(key: tuple, rows: list[tuple]) -> tuple:
    """Every aggregate of CALLS over one group's rows, computed from scratch."""
    xs = [r[1] for r in rows if r[1] is not None]
    bs = [r[2] for r in rows if r[2] is not None]
    ss = [r[3] for r in rows if r[3] is not None]
    ds = [r[4] for r in rows if r[4] is not None]
    ys = [r[5] for r in rows if r[5] is not None]
    fx = [r[1] for r in rows if r[1] is not None and r[2] is True]
    finite_d = [d for d in ds if not _nan(d)]
    finite_y = [y for y in ys if not _nan(y)]
    return key + (
        len(rows), sum(1 for r in rows if r[2] is True), len(xs),
        min(xs, default=None), max(xs, default=None), sum(xs) if xs else None,
        Decimal(sum(xs)) / Decimal(len(xs)) if xs else None, len(set(xs)),
        sum(fx) if fx else None, min(ss, default=None), max(ss, default=None),
        any(bs) if bs else None, all(bs) if bs else None,
        (NUMERIC_NAN if len(finite_d) < len(ds) else sum(finite_d)) if ds else None,
        (NUMERIC_NAN if len(finite_d) < len(ds) else max(finite_d)) if ds else None,
        (NAN if len(finite_y) < len(ys) else float(sum(map(Fraction, ys)) / len(ys)))
        if ys else None,
        (min(finite_y) if finite_y else NAN) if ys else None,
        ",".join(sorted(set(ss))) if ss else None,
    )


def expected_view(rows: list[tuple]) -> list[tuple]:
    groups: dict[tuple, list[tuple]] = {}
    for r in rows:
        groups.setdefault((r[0],), []).append(r)
    return sorted((normal(expected_row(k, rs)) for k, rs in groups.items()), key=repr)


def normal(row: tuple) -> tuple:
    """NaN as text (it equals itself then); numerics by value."""
    return tuple("NaN" if _nan(v) else v for v in row)


@st.composite
def epochs(draw: st.DrawFn) -> list[list[Chunk]]:
    """Mostly large insert-only chunks (more values per group than a list holds),
    with chunks of retractions and updates among them."""
    present: list[tuple] = []
    out: list[list[Chunk]] = []
    for _ in range(draw(st.integers(1, 4))):
        chunks = []
        for _ in range(draw(st.integers(1, 3))):
            if present and draw(st.integers(0, 2)) == 0:
                ops, rows = [], []
                for _ in range(draw(st.integers(1, min(8, len(present))))):
                    r = present.pop(draw(st.integers(0, len(present) - 1)))
                    if draw(st.booleans()):
                        ops.append(DELETE)
                        rows.append(r)
                    else:  # an update of a row to a new one
                        new = draw(ROW)
                        present.append(new)
                        ops += [UPDATE_DELETE, UPDATE_INSERT]
                        rows += [r, new]
                chunks.append(Chunk(ops, rows))
            else:
                rows = draw(st.lists(ROW, min_size=1, max_size=draw(st.sampled_from([5, 200]))))
                present += rows
                chunks.append(Chunk([INSERT] * len(rows), rows))
        out.append(chunks)
    return out


def views(outputs: list[dict[tuple, int]]) -> list[list[tuple]]:
    for got in outputs:
        assert all(n == 1 for n in got.values()), got
    return [sorted((normal(r) for r in got), key=repr) for got in outputs]


@settings(max_examples=60, deadline=None)
@given(st.data(), epochs())
def test_matches_recomputation_through_restarts(data: st.DataObject,
                                                chunks: list[list[Chunk]]) -> None:
    checkpoints, restart_after = draw_schedule(data, len(chunks))
    outputs = run_with_restart(lambda state: HashAgg([0], CALLS, state), chunks,
                               checkpoints, restart_after, dist_len=1)
    assert views(outputs) == [expected_view(rows) for rows in accumulated_inputs(chunks)]


def row_by_row(state: StateTable) -> HashAgg:
    op = HashAgg([0], CALLS, state)
    op._apply = op._apply_rows  # type: ignore[method-assign]
    return op


@settings(max_examples=40, deadline=None)
@given(epochs())
def test_same_output_as_row_by_row(chunks: list[list[Chunk]]) -> None:
    def emitted(op: HashAgg) -> list:
        src = MockSource()
        for epoch in chunks:
            for chunk in epoch:
                src.push_chunk(chunk)
            src.push_barrier()
        msgs = run(op.execute, src)
        check_invariants(msgs)
        return [[normal(r) for r in c.rows] + c.ops for c in chunks_between_barriers(msgs)]
    assert emitted(HashAgg([0], CALLS, StateTable("t", dist_len=1))) == emitted(
        row_by_row(StateTable("t", dist_len=1)))


def test_min_max_values_become_counts_on_retraction_or_growth() -> None:
    op = HashAgg([0], [AggCall("min", 1, INT64), AggCall("max", 1, INT64)],
                 StateTable("t", dist_len=1))
    src = MockSource().push_chunk(Chunk.inserts([(1, 5), (1, 3), (2, 4)])).push_barrier()
    out = chunks_between_barriers(run(op.execute, src))
    assert multiset(out[0]) == {(1, 3, 5): 1, (2, 4, 4): 1}
    assert op.state.data[(1,)][3:] == [[5, 3], 3, [5, 3], 5]  # lists: inserts only so far
    src = MockSource().push_chunk(Chunk.deletes([(1, 3)])).push_barrier()
    big = [(2, v) for v in range(_LIST_MAX)]
    src.push_chunk(Chunk.inserts(big)).push_barrier()
    out = chunks_between_barriers(run(op.execute, src))
    assert multiset(out[0]) == {(1, 3, 5): -1, (1, 5, 5): 1}
    assert op.state.data[(1,)][3] == {5: 1}
    assert multiset(out[1]) == {(2, 4, 4): -1, (2, 0, _LIST_MAX - 1): 1}
    assert op.state.data[(2,)][3] == {**{v: 1 for v in range(_LIST_MAX)}, 4: 2}


def test_groups_in_the_older_layout_load_and_keep_aggregating() -> None:
    calls = [AggCall("count_star", None, INT64, filter_col=2), AggCall("sum", 1, DECIMAL),
             AggCall("min", 1, INT64), AggCall("count", 1, INT64, distinct=True),
             AggCall("sum", 3, FLOAT64), AggCall("bool_or", 2, BOOLEAN),
             AggCall("string_agg", 4, VARCHAR, separator=5)]
    state = StateTable("t", StateSink(), 1)
    # Group 1 holds x = 4, 4, 6 (b true, true, false), y = 0.5 each, s = 'p', 'q', 'p';
    # its last emitted row is in the state, and the numeric sum predates NaN counts.
    half = 1 << 1073  # 0.5 in units of 2**-1074
    state.load([((1,), [3, (1, 2, 14, 4, 2, 1.5, True, "p,p,q"),
                       [[2], [3, 14], [{4: 2, 6: 1}, None], [2], [3, 3 * half, 0, 0, 0],
                        [2, 1], [{("p", ","): 2, ("q", ","): 1}]],
                       [None, None, None, {4: 2, 6: 1}, None, None, None]])])
    op = HashAgg([0], calls, state)
    src = MockSource().push_chunk("I I B F T T\n+ 1 2 f 1.0 r ,\n+ 1 6 t 0.5 p ,")
    src.push_barrier().push_chunk("I I B F T T\n- 1 4 t 0.5 p ,").push_barrier()
    out = chunks_between_barriers(run(op.execute, src))
    assert multiset(out[0]) == {(1, 2, 14, 4, 2, 1.5, True, "p,p,q"): -1,
                                (1, 3, 22, 2, 3, 3.0, True, "p,p,p,q,r"): 1}
    assert multiset(out[1]) == {(1, 3, 22, 2, 3, 3.0, True, "p,p,p,q,r"): -1,
                                (1, 2, 18, 2, 3, 2.5, True, "p,p,q,r"): 1}
    assert state.data[(1,)][:3] == [4, None, 0]  # flattened, no output row kept
