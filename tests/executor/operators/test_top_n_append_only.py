"""TopN over inserts only (append_only): only the rows that can still show are kept,
in memory and in state; LIMIT 1 keeps one state entry per group. Checked against a
brute-force sort of the accumulated input after every epoch, through restarts, and
across a restart that changes the state layout."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from executor.message import DELETE, INSERT, UPDATE_INSERT, Chunk
from executor.operators.top_n import TopN
from executor.operators.top_n.top_n import TopNAppendOnlyViolation
from planner.nan import NAN
from storage.state_table import StateTable
from tests.executor.harness import MockSource, run
from tests.executor.operators.support import (StateSink, accumulated_inputs, draw_schedule,
                                              run_with_restart)
from tests.executor.operators.test_top_n import reference_top_n

ROW = st.tuples(st.sampled_from(["g", "h", "k", None]), st.sampled_from([1, 2, 3, 4, None]),
                st.sampled_from([0.5, -1.0, NAN, None]),
                st.sampled_from([dt.datetime(2015, 7, 15, 0, 0, 1), dt.datetime(2015, 7, 15),
                                 None]))
ORDER_ENTRY = st.tuples(st.integers(1, 3), st.booleans(), st.booleans())


def draw_insert_epochs(data: st.DataObject, max_epochs: int = 6,
                       max_rows: int = 40) -> list[list[Chunk]]:
    epochs = []
    for _ in range(data.draw(st.integers(1, max_epochs), label="epochs")):
        rows = data.draw(st.lists(ROW, max_size=max_rows), label="rows")
        cut = data.draw(st.integers(0, len(rows)), label="cut")
        ops = [data.draw(st.sampled_from([INSERT, UPDATE_INSERT])) for _ in rows]
        epochs.append([Chunk(ops[:cut], rows[:cut]), Chunk(ops[cut:], rows[cut:])])
    return epochs


@settings(max_examples=150, deadline=None)
@given(st.data(), st.lists(ORDER_ENTRY, min_size=1, max_size=2), st.integers(0, 3),
       st.integers(0, 2), st.booleans(), st.booleans())
def test_inserts_match_a_full_sort(data: st.DataObject, order_by: list[tuple[int, bool, bool]],
                                   limit: int, offset: int, grouped: bool,
                                   row_number: bool) -> None:
    epochs = draw_insert_epochs(data)
    checkpoints, restart_after = draw_schedule(data, len(epochs))
    group_key = [0] if grouped else []
    ops: list[TopN] = []

    def make(state: StateTable) -> TopN:
        ops.append(TopN(order_by, limit, offset, group_key, state, row_number,
                        append_only=True))
        return ops[-1]

    outputs = run_with_restart(make, epochs, checkpoints, restart_after,
                               dist_len=len(group_key))
    inputs = accumulated_inputs(epochs)
    for got, rows in zip(outputs, inputs):
        assert got == reference_top_n(rows, order_by, limit, offset, group_key, row_number)
    # Only rows that can still show are kept: at most offset + limit per group.
    groups = {tuple(r[c] for c in group_key) for r in inputs[-1]}
    state = ops[-1].state
    if limit == 1 and offset == 0:
        assert len(state) == len(groups)
    else:
        assert sum(state.data.values()) <= len(groups) * (offset + limit)


@settings(max_examples=100, deadline=None)
@given(st.data(), st.booleans(), st.integers(1, 3), st.booleans(), st.booleans())
def test_restart_into_another_layout(data: st.DataObject, desc: bool, limit: int,
                                     grouped: bool, first_append_only: bool) -> None:
    """State written with one layout (all rows, or only the shown ones, or one entry per
    group) is read by an operator of another after a restart."""
    epochs = draw_insert_epochs(data, max_epochs=4)
    split = data.draw(st.integers(0, len(epochs)))
    group_key = [0] if grouped else []
    order_by = [(1, desc, False), (2, False, True)]
    sink = StateSink()
    first = TopN(order_by, limit, 0, group_key, StateTable("t", sink, len(group_key)),
                 append_only=first_append_only)
    src = MockSource()
    for i in range(split):
        for chunk in epochs[i]:
            src.push_chunk(chunk)
        src.push_barrier(i + 2)
    out = [m for m in run(first.execute, src) if isinstance(m, Chunk)]
    state = StateTable("t", StateSink(), len(group_key))
    state.load(sink.committed("t"))
    second = TopN(order_by, limit, 0, group_key, state, append_only=not first_append_only)
    src = MockSource()
    for i in range(split, len(epochs)):
        for chunk in epochs[i]:
            src.push_chunk(chunk)
        src.push_barrier(i + 2)
    out += [m for m in run(second.execute, src) if isinstance(m, Chunk)]
    acc: dict[tuple, int] = {}
    for chunk in out:
        for op, row in zip(chunk.ops, chunk.rows):
            acc[row] = acc.get(row, 0) + (1 if op in (INSERT, UPDATE_INSERT) else -1)
    got = {r: n for r, n in acc.items() if n}
    assert got == reference_top_n(accumulated_inputs(epochs)[-1], order_by, limit, 0,
                                  group_key, False)


def test_latest_row_per_key_is_one_entry_replaced() -> None:
    src = MockSource()
    src.push_chunk("""
         I I I
       + 1 7 100
       + 1 7 300
       + 2 7 200
       + 1 8 50
    """).push_barrier()
    src.push_chunk("+ 1 7 250\n+ 1 7 400").push_barrier()
    state = StateTable("t", dist_len=2)
    op = TopN([(2, True, False)], 1, 0, [0, 1], state, append_only=True)  # latest per (a, b)
    msgs = [m for m in run(op.execute, src) if isinstance(m, Chunk)]
    assert msgs[0].compact().to_pretty().splitlines() == ["+ 1 7 300", "+ 2 7 200", "+ 1 8 50"]
    assert msgs[1].to_pretty() == "- 1 7 300\n+ 1 7 400"
    assert state.data == {(1, 7): (1, 7, 1, 7, 400), (2, 7): (2, 7, 2, 7, 200),
                          (1, 8): (1, 8, 1, 8, 50)}


@pytest.mark.parametrize("limit", [1, 3])
def test_a_delete_is_refused(limit: int) -> None:
    src = MockSource().push_chunk("+ 1 5").push_barrier()
    src.push_chunk(Chunk([DELETE], [(1, 5)])).push_barrier()
    op = TopN([(1, False, False)], limit, 0, [0], StateTable("t", dist_len=1),
              append_only=True)
    with pytest.raises(TopNAppendOnlyViolation):
        run(op.execute, src)
