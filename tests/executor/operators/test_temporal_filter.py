"""TemporalFilter: rows inside now() - delay pass; they are deleted as time moves on."""

from __future__ import annotations

import datetime as dt

from executor.message import DELETE, INSERT, Barrier, Chunk
from executor.operators.temporal_filter import TemporalFilter
from storage.state_table import StateTable
from tests.executor.harness import MockSource, run

BASE = dt.datetime(2024, 1, 1)


class Clock:
    def __init__(self) -> None:
        self.now = (BASE - dt.datetime(1970, 1, 1)).total_seconds()

    def __call__(self) -> float:
        self.now += 10  # every barrier (and the start) sees time 10 s later
        return self.now


def t(s: int) -> dt.datetime:
    return BASE + dt.timedelta(seconds=s)


def test_rows_enter_then_expire() -> None:
    op = TemporalFilter(1, 15_000_000, True, StateTable("t", None, 0), clock=Clock())
    # start: now = 10 s, cutoff = -5 s
    src = (MockSource()
           .push_chunk(Chunk.inserts([(1, t(-10)), (2, t(0)), (3, t(8))]))
           .push_barrier()        # now 20 s, cutoff 5 s: row 2 leaves
           .push_chunk(Chunk([DELETE, INSERT], [(3, t(8)), (4, t(30))]))
           .push_barrier())       # now 30 s, cutoff 15 s: nothing else to expire
    out = run(op.execute, src)
    chunks = [m for m in out if isinstance(m, Chunk)]
    assert chunks[0].rows == [(2, t(0)), (3, t(8))]
    assert chunks[1] == Chunk([DELETE], [(2, t(0))])
    assert chunks[2] == Chunk([DELETE, INSERT], [(3, t(8)), (4, t(30))])
    assert isinstance(out[-1], Barrier)
    assert dict(op.state.items()) == {(4, t(30)): 1}
