"""Watermarks where several inputs meet: an exchange merging N upstream actors,
a union, a join on a window column, and the readers of one source scan. Each
must only forward the minimum over its inputs; a join on window columns drops
the rows of closed windows from its state."""

from __future__ import annotations

import asyncio
import datetime as dt

from executor.align import WatermarkMin
from executor.connectors import SourceSpec, connector
from executor.connectors.nexmark import SCHEMAS
from executor.exchange import Channel, merge
from executor.message import Barrier, Chunk, Message, Watermark
from executor.operators.hash_join import HashJoin
from executor.operators.source_reader import open_reader
from executor.operators.union import Union
from storage.state_table import StateTable
from tests.executor.harness import MockSource, run


def watermarks(out: list[Message]) -> list[tuple[int, object]]:
    return [(m.column, m.value) for m in out if isinstance(m, Watermark)]


def test_watermark_min_waits_for_every_input_and_never_goes_back() -> None:
    w = WatermarkMin(3)
    assert w.update(0, Watermark(1, 10)) is None  # inputs 1 and 2 have said nothing yet
    assert w.update(1, Watermark(1, 5)) is None
    assert w.update(2, Watermark(1, 7)) == Watermark(1, 5)
    assert w.update(0, Watermark(1, 20)) is None  # input 1 still holds it at 5
    assert w.update(1, Watermark(1, 30)) == Watermark(1, 7)
    assert w.update(1, Watermark(1, 3)) is None  # a watermark never goes back
    assert w.update(0, Watermark(2, 1)) is None  # columns are independent
    assert w.finish(2) == [Watermark(1, 20)]  # an ended input holds nothing back


def test_merge_forwards_the_minimum_of_upstream_actors() -> None:
    async def main() -> list[Message]:
        a, b = Channel(), Channel()
        a.send_nowait(Chunk.from_pretty("I\n+ 1"))
        a.send_nowait(Watermark(0, 100))  # the fast actor
        a.send_nowait(Barrier(2, 1))
        b.send_nowait(Chunk.from_pretty("I\n+ 2"))
        b.send_nowait(Watermark(0, 40))  # the slow one: rows >= 40 may still come
        b.send_nowait(Barrier(2, 1))
        b.send_nowait(Watermark(0, 90))
        b.send_nowait(Barrier(3, 2))
        a.send_nowait(Barrier(3, 2))
        out = []
        async for msg in merge([a, b]):
            out.append(msg)
            if isinstance(msg, Barrier) and msg.epoch == 3:
                break
        return out

    out = asyncio.run(main())
    assert watermarks(out) == [(0, 40), (0, 90)]
    assert [m.epoch for m in out if isinstance(m, Barrier)] == [2, 3]


def test_union_forwards_the_minimum_of_its_inputs() -> None:
    left = MockSource().push_chunk("I\n+ 1").push_watermark(0, 50).push_barrier() \
        .push_watermark(0, 80).push_barrier()
    right = MockSource().push_chunk("I\n+ 2").push_watermark(0, 60).push_barrier() \
        .push_barrier()
    out = run(lambda a, b: Union().execute([a, b]), left, right)
    assert watermarks(out) == [(0, 50), (0, 60)]


def _join() -> HashJoin:
    # left (window_start, auction), right (window_start, total), ON l.ws = r.ws
    return HashJoin("inner", [0], [0], 2, 2, None, StateTable("l", None, 1),
                    StateTable("r", None, 1))


def test_join_on_window_column_drops_closed_windows_and_forwards_the_minimum() -> None:
    join = _join()
    left = MockSource().push_chunk("I I\n+ 1 7\n+ 2 8\n+ 3 9").push_barrier() \
        .push_watermark(0, 3).push_barrier()
    right = MockSource().push_chunk("I I\n+ 1 70\n+ 3 90").push_barrier() \
        .push_watermark(0, 2).push_barrier()
    out = run(lambda a, b: join.execute([a, b]), left, right)
    rows = sorted(r for m in out if isinstance(m, Chunk) for r in m.rows)
    assert rows == [(1, 7, 1, 70), (3, 9, 3, 90)]
    # Both sides promised window_start >= 2: windows below 2 are closed on both.
    assert watermarks(out) == [(0, 2), (2, 2)]
    assert sorted(k[-1] for k in join.left.state.data) == [(2, 8), (3, 9)]
    assert sorted(k[-1] for k in join.right.state.data) == [(3, 90)]
    assert join.rows_dropped == 2


def test_join_keeps_state_while_one_side_has_no_watermark() -> None:
    join = _join()
    left = MockSource().push_chunk("I I\n+ 1 7").push_barrier().push_watermark(0, 5) \
        .push_barrier()
    right = MockSource().push_chunk("I I\n+ 2 70").push_barrier().push_barrier()
    out = run(lambda a, b: join.execute([a, b]), left, right)
    assert watermarks(out) == []
    assert len(join.left.state.data) == 1 and len(join.right.state.data) == 1


def test_join_drops_watermarks_on_columns_outside_the_key() -> None:
    join = _join()
    left = MockSource().push_watermark(1, 5).push_barrier()
    right = MockSource().push_watermark(1, 6).push_barrier()
    assert watermarks(run(lambda a, b: join.execute([a, b]), left, right)) == []


def test_reader_without_splits_catches_up_with_its_scan_at_barriers() -> None:
    """nexmark.split.num = 1 read by two actors: actor 1 owns nothing and would hold
    the merged watermark back for ever; at each barrier it takes its scan's highest."""
    params = {"options": {"connector": "nexmark", "nexmark.table.type": "Bid",
                          "nexmark.event.num": "3000", "nexmark.base.time.us": "0",
                          "nexmark.min.event.gap.in.ns": "1000000"},
              "columns": SCHEMAS["bid"], "watermark": (5, 1_000_000)}
    key = "source:r99/f0/o1/a{}of2"
    busy = open_reader("bid", key.format(0), params, 0, 2, None, 500)
    idle = open_reader("bid", key.format(1), params, 1, 2, None, 500)
    assert not busy.reader.idle and idle.reader.idle
    assert idle.group is busy.group and len(busy.group) == 2

    async def main() -> tuple[list[Message], list[Message]]:
        outs: tuple[list[Message], list[Message]] = ([], [])
        gens = [busy.execute(), idle.execute()]
        for _ in range(4):  # the busy reader hands out rows and its watermarks
            outs[0].append(await anext(gens[0]))
        for epoch in (2, 3):
            for r in (busy, idle):
                r.inbox.send_nowait(Barrier(epoch, epoch - 1))
            for out, gen in zip(outs, gens):
                while True:
                    msg = await anext(gen)
                    out.append(msg)
                    if isinstance(msg, Barrier):
                        break
        return outs

    busy_out, idle_out = asyncio.run(main())
    assert not any(isinstance(m, Chunk) for m in idle_out)
    ahead = watermarks(busy_out)
    assert ahead and watermarks(idle_out) == [(5, ahead[-1][1])]
    assert isinstance(ahead[-1][1], dt.datetime)


def test_each_split_is_read_once_across_parallel_readers() -> None:
    rows = []
    for i in range(3):
        r = connector("nexmark").open(SourceSpec(
            {"nexmark.table.type": "Bid", "nexmark.event.num": "2000",
             "nexmark.split.num": "2"}, SCHEMAS["bid"], actor_index=i, parallelism=3))
        assert r.idle == (i == 2)
        while not r.finished:
            rows.extend(r.read(100))
    assert len(rows) == 1840


def test_split_without_rows_of_its_table_is_idle_and_does_not_spin() -> None:
    """Auctions are events 1-3 of every 50: with 5 splits, splits 0 and 4 hold none
    (an unbounded read of such a split used to scan for ever)."""
    readers = [connector("nexmark").open(SourceSpec(
        {"nexmark.table.type": "Auction", "nexmark.split.num": "5"}, SCHEMAS["auction"],
        actor_index=i, parallelism=5)) for i in range(5)]
    assert [r.idle for r in readers] == [True, False, False, False, True]
    assert [len(r.read(10)) for r in readers] == [0, 10, 10, 10, 0]
    assert not any(r.finished for r in readers)  # unbounded: idle, not finished
