"""HashAgg with only count(*) calls counts each chunk per group before touching
state: the output must be exactly what the row-by-row path gives, through
restarts, and closed windows must still be forgotten."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from executor.message import Chunk, Message
from executor.operators.hash_agg import HashAgg
from planner.aggregates import AggCall
from planner.types import INT64
from storage.state_table import StateTable
from tests.executor.harness import MockSource, chunks_between_barriers, multiset, run
from tests.executor.operators.support import (accumulated_inputs, check_invariants,
                                              draw_epochs, draw_schedule, run_with_restart)

COUNT_STAR = AggCall("count_star", None, INT64)


def counts_agg(group_key: list[int], calls: int = 1, per_row: bool = False,
               chunk_size: int = 1024) -> HashAgg:
    op = HashAgg(group_key, [COUNT_STAR] * calls, StateTable("t", dist_len=len(group_key)),
                 chunk_size)
    if per_row:
        op._counts_only = False  # the general path, as the reference
    return op


def test_counts_take_the_chunk_path_only_without_filter() -> None:
    assert counts_agg([0])._counts_only
    assert not HashAgg([0], [AggCall("count_star", None, INT64, filter_col=1)],
                       StateTable("t"))._counts_only
    assert not HashAgg([0], [COUNT_STAR, AggCall("sum", 1, INT64)], StateTable("t"))._counts_only


def test_group_changed_and_changed_back_in_one_chunk_emits_nothing() -> None:
    src = MockSource().push_chunk("+ 1 7\n+ 2 7").push_barrier()
    src.push_chunk("+ 1 7\n- 1 7\nU- 2 7\nU+ 2 7\n+ 3 7\n- 3 7").push_barrier()
    msgs = run(counts_agg([0, 1]).execute, src)
    out = chunks_between_barriers(msgs)
    assert multiset(out[0]) == {(1, 7, 1): 1, (2, 7, 1): 1}
    assert len(out[1]) == 0
    assert [len(c) for c in chunks_between_barriers(msgs)] == [2, 0]


def test_whole_row_key_and_key_in_other_order() -> None:
    src = MockSource().push_chunk("+ 1 7\n+ 1 7\n+ 2 7").push_barrier()
    src.push_chunk("- 1 7\n+ 2 8").push_barrier()
    for key in ([0, 1], [1, 0]):
        out = chunks_between_barriers(run(counts_agg(key, calls=2).execute, src))
        k = (lambda a, b: (a, b)) if key == [0, 1] else (lambda a, b: (b, a))
        assert multiset(out[0]) == {k(1, 7) + (2, 2): 1, k(2, 7) + (1, 1): 1}
        assert multiset(out[1]) == {k(1, 7) + (2, 2): -1, k(1, 7) + (1, 1): 1,
                                    k(2, 8) + (1, 1): 1}


def test_last_row_of_a_group_deleted_removes_the_group() -> None:
    src = MockSource().push_chunk("+ 1 7").push_barrier().push_chunk("- 1 7").push_barrier()
    op = counts_agg([0])
    out = chunks_between_barriers(run(op.execute, src))
    assert out[1].to_pretty() == "- 1 1"
    assert len(op.state) == 0


def test_pairs_not_split_at_chunk_boundaries() -> None:
    src = MockSource().push_chunk(Chunk.inserts([(i,) for i in range(7)])).push_barrier()
    src.push_chunk(Chunk.inserts([(i,) for i in range(7)])).push_barrier()
    msgs = run(counts_agg([0], chunk_size=3).execute, src)
    check_invariants(msgs, capacity=3)
    assert [len(m) for m in msgs if isinstance(m, Chunk)] == [3, 3, 1, 2, 2, 2, 2, 2, 2, 2]


def test_windows_below_the_watermark_are_forgotten() -> None:
    src = MockSource().push_chunk("+ 0 5\n+ 2 5\n+ 4 6").push_watermark(0, 2).push_barrier()
    op = counts_agg([0, 1])
    run(op.execute, src)
    assert sorted(op.state.data) == [(2, 5), (4, 6)]


def test_a_group_is_one_list_and_old_groups_with_call_states_still_count() -> None:
    state = StateTable("t", dist_len=1)
    # A group as checkpointed before counts kept no call states: the row count rules.
    state.load([((1,), [2, (1, 2, 2), [[2], [2]], [None, None]])])
    op = HashAgg([0], [COUNT_STAR, COUNT_STAR], state)
    src = MockSource().push_chunk("+ 1\n+ 2\n+ 2").push_barrier()
    out = chunks_between_barriers(run(op.execute, src))
    assert multiset(out[0]) == {(1, 2, 2): -1, (1, 3, 3): 1, (2, 2, 2): 1}
    assert state.data[(2,)] == [2, None, None, None]
    assert state.data[(1,)][:2] == [3, None]


def emitted(op: HashAgg, epochs: list[list[Chunk]]) -> list[Message]:
    src = MockSource()
    for chunks in epochs:
        for chunk in chunks:
            src.push_chunk(chunk)
        src.push_barrier()
    return run(op.execute, src)


ROW = st.tuples(st.sampled_from([0, 1, 2, None]), st.sampled_from(["a", "b"]),
                st.integers(0, 1))


@settings(max_examples=80, deadline=None)
@given(st.data(), st.sampled_from([[0, 1], [1, 0], [0], [2, 0], [0, 1, 2], []]),
       st.integers(1, 2), st.sampled_from([2, 3, 1024]))
def test_same_output_as_row_by_row(data: st.DataObject, key: list[int], calls: int,
                                   chunk_size: int) -> None:
    epochs = draw_epochs(data, ROW)
    fast = emitted(counts_agg(key, calls, chunk_size=chunk_size), epochs)
    slow = emitted(counts_agg(key, calls, per_row=True, chunk_size=chunk_size), epochs)
    check_invariants(fast, capacity=chunk_size)
    assert fast == slow


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_counts_through_restarts(data: st.DataObject) -> None:
    epochs = draw_epochs(data, ROW)
    checkpoints, restart_after = draw_schedule(data, len(epochs))
    outputs = run_with_restart(lambda state: HashAgg([0, 1], [COUNT_STAR], state), epochs,
                               checkpoints, restart_after, dist_len=2)
    for got, rows in zip(outputs, accumulated_inputs(epochs)):
        expected: dict[tuple, int] = {}
        for r in rows:
            expected[r[:2]] = expected.get(r[:2], 0) + 1
        assert got == {k + (n,): 1 for k, n in expected.items()}
