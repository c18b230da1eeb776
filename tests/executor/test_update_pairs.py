"""No operator, chunk cutter or exchange leaves half of a U-/U+ pair on its own."""

from __future__ import annotations

import datetime as dt

from executor.exchange import split
from executor.message import (DELETE, INSERT, UPDATE_DELETE, UPDATE_INSERT, Chunk,
                              ChunkBuilder, cut)
from executor.operators.filter import Filter
from executor.operators.hop_window import HopWindow
from executor.operators.temporal_filter import TemporalFilter
from planner import expressions as X
from planner.types import BOOLEAN, INT32
from storage.state_table import StateTable, stable_hash
from tests.executor.harness import MockSource, check_update_pairs, run


def test_filter_turns_a_half_kept_update_into_a_plain_change() -> None:
    # Stream key: column 0. Keep rows whose b > 10.
    gt = X.Call(">", (X.InputRef(1, INT32, "b"), X.Literal(10, INT32)), BOOLEAN)
    op = Filter(X.compile_filter(gt))
    src = MockSource().push_chunk("""
        I I
     U- 1 5
     U+ 1 20
     U- 2 30
     U+ 2 6
     U- 3 40
     U+ 3 41
     U- 4 1
     U+ 4 2
    """).push_barrier()
    out = run(op.execute, src, stream_key=[0])
    assert out[0] == Chunk.from_pretty("""
        I I
      + 1 20
      - 2 30
     U- 3 40
     U+ 3 41
    """)


def test_cut_never_ends_a_chunk_between_the_halves_of_a_pair() -> None:
    ops = [INSERT, UPDATE_DELETE, UPDATE_INSERT, INSERT, UPDATE_DELETE, UPDATE_INSERT, DELETE]
    rows = [(i,) for i in range(len(ops))]
    for cap in range(1, 9):
        b = ChunkBuilder(cap)
        b.extend(ops, rows)
        chunks = b.take()
        assert [r for c in chunks for r in c.rows] == rows
        assert [o for c in chunks for o in c.ops] == ops
        for c in chunks:
            assert 0 < len(c) <= max(cap, 2)
            check_update_pairs(c)
    assert cut([], [], 4) == []


def test_exchange_split_turns_a_pair_that_moves_actors_into_delete_and_insert() -> None:
    def actor(v: int) -> int:
        return stable_hash((v,)) % 256 % 2

    a = 0
    b = next(v for v in range(1, 100) if actor(v) != actor(a))
    c = next(v for v in range(1, 100) if actor(v) == actor(a))
    chunk = Chunk([UPDATE_DELETE, UPDATE_INSERT, UPDATE_DELETE, UPDATE_INSERT],
                  [(a,), (b,), (a,), (c,)])
    parts = split(chunk, (0,), 2)
    for part in parts:
        assert part is not None
        check_update_pairs(part)
    home, away = parts[actor(a)], parts[actor(b)]
    assert home == Chunk([DELETE, UPDATE_DELETE, UPDATE_INSERT], [(a,), (a,), (c,)])
    assert away == Chunk([INSERT], [(b,)])


def test_temporal_filter_turns_a_half_kept_update_into_a_plain_change() -> None:
    base = dt.datetime(2024, 1, 1)
    now = (base - dt.datetime(1970, 1, 1)).total_seconds()
    op = TemporalFilter(1, 60_000_000, True, StateTable("t", None, 0), clock=lambda: now)
    old, recent = base - dt.timedelta(hours=1), base - dt.timedelta(seconds=1)
    src = (MockSource()
           .push_chunk(Chunk.inserts([(1, recent)]))
           .push_chunk(Chunk([UPDATE_DELETE, UPDATE_INSERT, UPDATE_DELETE, UPDATE_INSERT],
                             [(1, recent), (1, old), (2, old), (2, recent)]))
           .push_barrier())
    out = [m for m in run(op.execute, src, stream_key=[0]) if isinstance(m, Chunk)]
    assert out[1] == Chunk([DELETE, INSERT], [(1, recent), (2, recent)])


def test_hop_window_sends_updates_of_fanned_out_rows_as_plain_changes() -> None:
    t0 = dt.datetime(2024, 1, 1)
    src = MockSource().push_chunk(Chunk([UPDATE_DELETE, UPDATE_INSERT],
                                        [(1, t0), (1, t0 + dt.timedelta(seconds=1))]))
    src.push_barrier()
    out = run(HopWindow(1, 1_000_000, 2_000_000, 0, 2).execute, src, stream_key=[0, 2])
    assert out[0].ops == [DELETE, DELETE, INSERT, INSERT]
