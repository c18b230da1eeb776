"""SQL's NaN (planner/nan.py) in the ordering operators: TopN and OverWindow sort it
above every number in both directions, find a NaN row again to delete it, and keep
NaN and infinities out of frames that do not hold them."""

from __future__ import annotations

import doctest
import math
from decimal import Decimal as D

import executor.operators.top_n.order
from executor.message import DELETE, INSERT, Chunk
from executor.operators.over_window import OverWindow
from executor.operators.top_n import TopN
from planner import types as T
from planner.nan import NAN, NUMERIC_NAN
from planner.over_window import WindowCall
from storage.state_table import StateTable
from tests.executor.harness import MockSource, chunks_between_barriers, multiset, run
from tests.executor.operators.support import check_invariants

INF = math.inf


def _epochs(op: object, src: MockSource) -> list[Chunk]:
    msgs = run(op.execute, src)  # type: ignore[attr-defined]
    check_invariants(msgs)
    return chunks_between_barriers(msgs)


def _insert(*rows: tuple) -> Chunk:
    return Chunk([INSERT] * len(rows), list(rows))


def test_order_doctests() -> None:
    result = doctest.testmod(executor.operators.top_n.order)
    assert result.attempted > 0 and result.failed == 0


def test_top_n_desc_puts_nan_first_and_deletes_it() -> None:
    src = MockSource()
    src.push_chunk(_insert((1, 1.5), (2, NAN), (3, INF), (4, -INF), (5, None))).push_barrier()
    src.push_chunk(Chunk([DELETE], [(2, NAN)])).push_barrier()
    op = TopN([(1, True, False)], 2, 0, [], StateTable("t"))  # DESC NULLS LAST LIMIT 2
    out = _epochs(op, src)
    assert multiset(out[0]) == {(2, NAN): 1, (3, INF): 1}
    assert multiset(out[1]) == {(2, NAN): -1, (1, 1.5): 1}


def test_top_n_asc_puts_nan_last() -> None:
    src = MockSource()
    src.push_chunk(_insert((1, NAN), (2, INF), (3, NAN), (4, 0.0))).push_barrier()
    src.push_chunk(Chunk([DELETE, DELETE], [(4, 0.0), (2, INF)])).push_barrier()
    op = TopN([(1, False, False)], 2, 0, [], StateTable("t"))  # ASC LIMIT 2
    out = _epochs(op, src)
    assert multiset(out[0]) == {(4, 0.0): 1, (2, INF): 1}
    assert multiset(out[1]) == {(4, 0.0): -1, (2, INF): -1, (1, NAN): 1, (3, NAN): 1}


def test_over_window_extremes_and_frames_with_nan() -> None:
    """max() over the partition is NaN; a one-row-back frame sum is NaN only where the
    frame holds the NaN (prefix sums used to carry it, and inf - inf, onwards)."""
    order = [(0, False, False)]  # ORDER BY id
    calls = [WindowCall("max", 1, T.FLOAT64, ("range", None, None)),
             WindowCall("sum", 1, T.FLOAT64, ("rows", -1, 0))]
    src = MockSource()
    src.push_chunk(_insert((1, NAN), (2, 1.0), (3, INF), (4, 2.0), (5, 0.5))).push_barrier()
    op = OverWindow([], order, calls, StateTable("t"))
    rows = multiset(_epochs(op, src)[0])
    got = {r[0]: r[2:] for r in rows}
    assert got[1][0] is NAN and got[1][1] is NAN
    assert got[2][1] is NAN  # NaN + 1.0
    assert got[3][1] == INF and got[4][1] == INF and got[5][1] == 2.5


def test_over_window_rank_ties_nan() -> None:
    calls = [WindowCall("rank", None, T.INT64)]
    src = MockSource()
    src.push_chunk(_insert((1, NAN), (2, INF), (3, NAN), (4, 1.0))).push_barrier()
    op = OverWindow([], [(1, False, False)], calls, StateTable("t"))
    rows = multiset(_epochs(op, src)[0])
    assert {r[0]: r[2] for r in rows} == {4: 1, 2: 2, 1: 3, 3: 3}


def test_over_window_numeric_nan_only_in_its_frames() -> None:
    calls = [WindowCall("sum", 1, T.DECIMAL, ("rows", -1, 0)),
             WindowCall("avg", 1, T.DECIMAL, ("rows", 0, 1))]
    src = MockSource()
    src.push_chunk(_insert((1, D(1)), (2, NUMERIC_NAN), (3, D(2)), (4, D(3)))).push_barrier()
    op = OverWindow([], [(0, False, False)], calls, StateTable("t"))
    got = {r[0]: r[2:] for r in multiset(_epochs(op, src)[0])}
    assert got[1][0] == 1 and got[1][1] is NUMERIC_NAN
    assert got[2] == (NUMERIC_NAN, NUMERIC_NAN) and got[2][0] is NUMERIC_NAN
    assert got[3] == (NUMERIC_NAN, D("2.5")) and got[4] == (5, 3)
