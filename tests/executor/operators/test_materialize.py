"""Materialize: keeps contents (keyed or multiset), hands net deltas to the serving
store at checkpoints, and serves snapshots to new subscribers."""

from __future__ import annotations

import itertools
from typing import Any

from executor.message import Chunk
from executor.operators.materialize import Materialize
from storage.serving_store import Delta
from storage.state_table import StateTable
from tests.executor.harness import MockSource, run


class Sink:
    def __init__(self) -> None:
        self.deltas: list[tuple[int, int, Delta]] = []

    def stage_serving(self, epoch: int, relation_id: int, delta: Delta) -> None:
        self.deltas.append((epoch, relation_id, delta))


def apply(table: dict[int, tuple], delta: Delta) -> None:
    for rid in delta.deletes:
        del table[rid]
    for row in delta.inserts:
        table[row[0]] = row


def contents(table: dict[int, Any]) -> list[tuple]:
    out = []
    for rid, n, *row in table.values():
        out.extend([tuple(row)] * n)
    return sorted(out)


def test_multiset_contents_deltas_and_snapshot() -> None:
    sink = Sink()
    mat = Materialize(7, None, StateTable("m"), sink, itertools.count(1))
    src = (MockSource().push_chunk("+ 1 a\n+ 1 a\n+ 2 b").push_barrier()
           .push_chunk("- 1 a\n- 2 b\n+ 3 c").push_barrier()
           .push_chunk("+ 4 d\n- 4 d").push_barrier())
    out = run(mat.execute, src)
    assert [m for m in out if isinstance(m, Chunk)][0] == Chunk.from_pretty("+ 1 a\n+ 1 a\n+ 2 b")
    served: dict[int, tuple] = {}
    epochs = []
    for epoch, rel, delta in sink.deltas:
        assert rel == 7
        apply(served, delta)
        epochs.append(epoch)
        if epoch == 2:
            assert contents(served) == [(1, "a"), (1, "a"), (2, "b")]
    assert contents(served) == [(1, "a"), (3, "c")]
    # A row inserted and deleted in one epoch leaves no trace in the serving store.
    assert epochs == [2, 3, 4] and not sink.deltas[-1][2].inserts
    assert sorted(mat.snapshot()) == [(1, "a"), (3, "c")]


def test_keyed_overwrites_by_primary_key() -> None:
    sink = Sink()
    mat = Materialize(1, [0], StateTable("t"), sink, itertools.count(1))
    run(mat.execute, MockSource().push_chunk("+ 1 a\n+ 2 b").push_barrier()
        .push_chunk("U- 1 a\nU+ 1 z\n- 2 b").push_barrier())
    served: dict[int, tuple] = {}
    for _e, _r, delta in sink.deltas:
        apply(served, delta)
    assert contents(served) == [(1, "z")]
    assert mat.snapshot() == [(1, "z")]


def test_actors_of_one_relation_share_row_ids() -> None:
    """Two actors of one table write into one serving table: a delete by one of them
    must not remove the other's row, so their row ids come from one sequence."""
    from executor.operators.materialize import RowIds
    sink = Sink()
    rids = RowIds()
    a = Materialize(1, [0], StateTable("t/a0"), sink, rids)
    b = Materialize(1, [0], StateTable("t/a1"), sink, rids)
    run(a.execute, MockSource().push_chunk("+ 1 x").push_barrier()
        .push_chunk("- 1 x").push_barrier())
    run(b.execute, MockSource().push_chunk("+ 2 y").push_barrier())
    served: dict[int, tuple] = {}
    for _e, _r, delta in sorted(sink.deltas, key=lambda d: d[0]):
        apply(served, delta)
    assert contents(served) == [(2, "y")]


def test_row_ids_bump_past_recovered_ids() -> None:
    from executor.operators.materialize import RowIds
    rids = RowIds()
    assert next(rids) == 1
    rids.bump(10)
    assert next(rids) == 11
    rids.bump(3)  # never moves back
    assert next(rids) == 12
