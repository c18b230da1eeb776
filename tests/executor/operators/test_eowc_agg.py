"""EowcAgg: one row per window when the watermark passes it; closed state dropped."""

from __future__ import annotations

from executor.message import Barrier, Chunk, Watermark
from executor.operators.eowc_agg import EowcAgg
from planner import types as T
from planner.aggregates import AggCall
from storage.state_table import StateTable
from tests.executor.harness import MockSource, run
from tests.executor.operators.support import StateSink


def agg(sink: StateSink | None = None) -> EowcAgg:
    # input (window, value); group by window; count(*), sum(value)
    calls = [AggCall("count_star", None, T.INT64), AggCall("sum", 1, T.INT64)]
    return EowcAgg([0], calls, StateTable("t", sink, 1), 0)


def test_emits_each_window_once_when_closed() -> None:
    op = agg()
    src = (MockSource()
           .push_chunk(Chunk.from_pretty("+ 0 5\n+ 0 6\n+ 10 1"))
           .push_barrier()
           .push_watermark(0, 10)
           .push_chunk(Chunk.from_pretty("+ 10 2\n+ 20 3"))
           .push_barrier()
           .push_watermark(0, 30))
    out = run(op.execute, src)
    chunks = [m for m in out if isinstance(m, Chunk)]
    assert [c.rows for c in chunks] == [[(0, 2, 11)], [(10, 2, 3), (20, 1, 3)]]
    assert all(op == 0 for c in chunks for op in c.ops)  # inserts only, never updated
    assert isinstance(out[0], Barrier)  # nothing before the window closes
    assert out[-1] == Watermark(0, 30)
    assert len(op.state) == 0


def test_state_stays_bounded_over_many_windows() -> None:
    op = agg()
    src = MockSource()
    sizes = []
    for w in range(200):
        src.push_chunk(Chunk.inserts([(w, i) for i in range(5)]))
        src.push_watermark(0, w - 2)  # windows more than 2 behind are closed
        src.push_barrier()

    async def probe(messages):
        async for m in op.execute(messages):
            sizes.append(len(op.state))
            yield m
    out = run(probe, src)
    assert max(sizes) <= 4
    assert len([m for m in out if isinstance(m, Chunk)]) == 197  # windows 0..196


def test_closed_windows_survive_restart_without_repeat() -> None:
    sink = StateSink()
    first = agg(sink)
    run(first.execute, MockSource().push_chunk(Chunk.from_pretty("+ 0 1\n+ 10 2"))
        .push_watermark(0, 5).push_barrier())
    state = StateTable("t", None, 1)
    state.load(sink.committed("t"))
    calls = [AggCall("count_star", None, T.INT64), AggCall("sum", 1, T.INT64)]
    second = EowcAgg([0], calls, state, 0)
    out = run(second.execute, MockSource().push_chunk(Chunk.from_pretty("+ 10 4"))
              .push_watermark(0, 20).push_barrier())
    assert [m.rows for m in out if isinstance(m, Chunk)] == [[(10, 2, 6)]]
