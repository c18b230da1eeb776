"""Distinct: net change per row at barriers, a brute-force differential test, restarts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from executor.message import Chunk, Watermark
from executor.operators.distinct import Distinct
from storage.state_table import StateTable
from tests.executor.harness import MockSource, chunks_between_barriers, multiset, run
from tests.executor.operators.support import (accumulated_inputs, check_invariants,
                                              draw_epochs, draw_schedule, run_with_restart)


def distinct_epochs(src: MockSource) -> list[Chunk]:
    msgs = run(Distinct([0, 1], StateTable("t", dist_len=2)).execute, src)
    check_invariants(msgs)
    return chunks_between_barriers(msgs)


def test_each_row_once_while_present() -> None:
    src = MockSource()
    src.push_chunk("""
         I T
       + 1 a
       + 1 a
       + 2 .
       + 3 b
       - 3 b
    """).push_barrier()
    src.push_chunk("""
         I T
       - 1 a
       + 2 .
       - 2 .
    """).push_barrier()
    src.push_chunk("""
         I T
       - 1 a
       - 2 .
       + 4 c
    """).push_barrier()
    out = distinct_epochs(src)
    assert multiset(out[0]) == {(1, "a"): 1, (2, None): 1}
    assert len(out[1]) == 0
    assert out[2].ops == Chunk.from_pretty("- 1 a\n- 2 .\n+ 4 c").ops
    assert multiset(out[2]) == {(1, "a"): -1, (2, None): -1, (4, "c"): 1}


def test_watermark_follows_the_epoch_output() -> None:
    src = MockSource().push_chunk("+ 5 x").push_watermark(0, 5).push_barrier()
    msgs = run(Distinct([0, 1], StateTable("t", dist_len=2)).execute, src)
    assert isinstance(msgs[0], Chunk) and msgs[1] == Watermark(0, 5)


ROW = st.tuples(st.sampled_from([1, 2, None]), st.sampled_from(["a", "b", None]))


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_matches_set_of_present_rows_through_restarts(data: st.DataObject) -> None:
    epochs = draw_epochs(data, ROW)
    checkpoints, restart_after = draw_schedule(data, len(epochs))
    outputs = run_with_restart(lambda state: Distinct([0, 1], state), epochs, checkpoints,
                               restart_after, dist_len=2)
    for got, rows in zip(outputs, accumulated_inputs(epochs)):
        expected: dict[tuple, int] = {}
        for row in rows:
            expected[row] = 1
        assert got == expected
