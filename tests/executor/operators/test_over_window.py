"""OverWindow: frames, ranking and offsets under inserts and deletes; a brute-force
differential test through restarts."""

from __future__ import annotations

import decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from executor.message import Chunk
from executor.operators.over_window import OverWindow
from executor.operators.top_n.order import sort_key
from planner import types as T
from planner.over_window import WindowCall
from storage.state_table import StateTable
from tests.executor.harness import MockSource, chunks_between_barriers, multiset, run
from tests.executor.operators.support import (accumulated_inputs, check_invariants,
                                              draw_epochs, draw_schedule, run_with_restart)

D = decimal.Decimal
ORDER = [(1, False, False)]  # ORDER BY column 1


def epochs_of(op: OverWindow, src: MockSource) -> list[Chunk]:
    msgs = run(op.execute, src)
    check_invariants(msgs)
    return chunks_between_barriers(msgs)


def test_rows_frame_average_moves_when_a_row_leaves() -> None:
    # avg(c2) OVER (PARTITION BY c0 ORDER BY c1 ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
    avg = WindowCall("avg", 2, T.DECIMAL, ("rows", -1, 0))
    src = MockSource()
    src.push_chunk("""
         I I I
       + 1 10 4
       + 1 20 8
       + 1 30 2
       + 2 10 5
    """).push_barrier()
    src.push_chunk("- 1 20 8").push_barrier()
    src.push_chunk("+ 2 20 7").push_barrier()
    out = epochs_of(OverWindow([0], ORDER, [avg], StateTable("t", dist_len=1)), src)
    assert multiset(out[0]) == {(1, 10, 4, D(4)): 1, (1, 20, 8, D(6)): 1,
                                (1, 30, 2, D(5)): 1, (2, 10, 5, D(5)): 1}
    # the deleted row goes, the row after it now averages with the row before
    assert multiset(out[1]) == {(1, 20, 8, D(6)): -1, (1, 30, 2, D(5)): -1,
                                (1, 30, 2, D(3)): 1}
    # another partition: partition 1 is not touched
    assert multiset(out[2]) == {(2, 20, 7, D(6)): 1}


def test_rank_lag_and_running_sum_with_peers() -> None:
    calls = [WindowCall("rank", None, T.INT64), WindowCall("lag", 2, T.INT32, offset=1),
             WindowCall("sum", 2, T.INT64, ("range", None, 0)),
             WindowCall("count_star", None, T.INT64, ("range", None, None))]
    src = MockSource()
    src.push_chunk("""
         I I I
       + 1 10 4
       + 1 10 .
       + 1 30 2
    """).push_barrier()
    out = epochs_of(OverWindow([0], ORDER, calls, StateTable("t", dist_len=1)), src)
    rows = sorted(multiset(out[0]), key=lambda r: (r[1], r[2] is None))
    # peers (c1 = 10) share rank and the running sum up to their last peer
    assert [r[3:] for r in rows] == [(1, None, 4, 3), (1, 4, 4, 3), (3, None, 6, 3)]


def test_delete_of_a_missing_row_is_ignored_and_partition_can_empty() -> None:
    calls = [WindowCall("row_number", None, T.INT64)]
    src = MockSource()
    src.push_chunk("+ 1 10 4").push_barrier()
    src.push_chunk("""
         I I I
       - 1 99 9
       - 1 10 4
    """).push_barrier()
    out = epochs_of(OverWindow([0], ORDER, calls, StateTable("t", dist_len=1)), src)
    assert multiset(out[0]) == {(1, 10, 4, 1): 1}
    assert multiset(out[1]) == {(1, 10, 4, 1): -1}


ROW = st.tuples(st.integers(0, 2), st.integers(0, 5), st.one_of(st.none(), st.integers(-9, 9)))
CALLS = [WindowCall("row_number", None, T.INT64), WindowCall("rank", None, T.INT64),
         WindowCall("dense_rank", None, T.INT64),
         WindowCall("lag", 2, T.INT32, offset=1), WindowCall("lead", 2, T.INT32, offset=2),
         WindowCall("sum", 2, T.INT64, ("rows", -2, 0)),
         WindowCall("avg", 2, T.DECIMAL, ("rows", -1, 1)),
         WindowCall("count", 2, T.INT64, ("rows", None, 0)),
         WindowCall("min", 2, T.INT32, ("rows", 0, None)),
         WindowCall("max", 2, T.INT32, ("range", None, 0)),
         WindowCall("count_star", None, T.INT64, ("range", None, None))]


def reference(rows: list[tuple], partitioned: bool) -> dict[tuple, int]:
    """Every window value computed directly from its definition."""
    key = sort_key(ORDER, 3)
    parts: dict[Any, list[tuple]] = {}
    for r in rows:
        parts.setdefault(r[0] if partitioned else None, []).append(r)
    out: dict[tuple, int] = {}
    for members in parts.values():
        members.sort(key=key)
        n = len(members)
        for i, r in enumerate(members):
            vals: list[Any] = []
            for c in CALLS:
                if c.kind == "row_number":
                    vals.append(i + 1)
                elif c.kind == "rank":
                    vals.append(1 + sum(m[1] < r[1] for m in members))
                elif c.kind == "dense_rank":
                    vals.append(len({m[1] for m in members if m[1] <= r[1]}))
                elif c.kind in ("lag", "lead"):
                    j = i - c.offset if c.kind == "lag" else i + c.offset
                    vals.append(members[j][2] if 0 <= j < n else None)
                else:
                    mode, start, end = c.frame
                    if mode == "range":
                        frame = members if end is None else [m for m in members
                                                             if m[1] <= r[1]]
                    else:
                        lo = 0 if start is None else max(0, i + start)
                        hi = n - 1 if end is None else min(n - 1, i + end)
                        frame = members[lo:hi + 1]
                    present = [m[2] for m in frame if m[2] is not None]
                    if c.kind == "count_star":
                        vals.append(len(frame))
                    elif c.kind == "count":
                        vals.append(len(present))
                    elif not present:
                        vals.append(None)
                    elif c.kind == "sum":
                        vals.append(sum(present))
                    elif c.kind == "avg":
                        vals.append(D(sum(present)) / D(len(present)))
                    else:
                        vals.append(min(present) if c.kind == "min" else max(present))
            row = r + tuple(vals)
            out[row] = out.get(row, 0) + 1
    return out


@settings(max_examples=60, deadline=None)
@given(st.data(), st.booleans())
def test_matches_reference_through_restarts(data: st.DataObject, partitioned: bool) -> None:
    epochs = draw_epochs(data, ROW, max_ops=14)
    checkpoints, restart_after = draw_schedule(data, len(epochs))
    part = [0] if partitioned else []
    outputs = run_with_restart(lambda state: OverWindow(part, ORDER, CALLS, state),
                               epochs, checkpoints, restart_after, dist_len=len(part))
    for got, rows in zip(outputs, accumulated_inputs(epochs)):
        assert got == reference(rows, partitioned)
