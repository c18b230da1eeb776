"""Shared pieces of the operator tests: random change streams, restarts, invariants."""

from __future__ import annotations

import pickle
from typing import Any, Callable

from hypothesis import strategies as st

from executor.message import (DELETE, INSERT, UPDATE_DELETE, UPDATE_INSERT, Barrier, Chunk,
                              Message)
from storage.state_table import StateTable
from tests.executor.harness import (MockSource, check_update_pairs, chunks_between_barriers,
                                    multiset, run)


class StateSink:
    """Records what a StateTable stages at each checkpoint; replays it for recovery."""

    def __init__(self) -> None:
        self.staged: list[tuple[int, str, list[tuple[int, tuple, Any]]]] = []

    def stage(self, epoch: int, table_id: str, writes: list[tuple[int, tuple, Any]]) -> None:
        # Serialize now, as the checkpoint store must: operators keep mutating values
        # in place after a commit.
        self.staged.append((epoch, table_id, pickle.loads(pickle.dumps(writes))))

    def committed(self, table_id: str) -> list[tuple[tuple, Any]]:
        data: dict[tuple, Any] = {}
        for _, tid, writes in self.staged:
            if tid != table_id:
                continue
            for _, key, value in writes:
                if value is None:
                    data.pop(key, None)
                else:
                    data[key] = value
        return list(data.items())


def check_invariants(messages: list[Message], capacity: int = 1024) -> None:
    """No empty or oversized chunks; every U- is directly followed by a U+."""
    for msg in messages:
        if isinstance(msg, Chunk):
            assert 0 < len(msg) <= capacity
            check_update_pairs(msg)


def draw_epochs(data: st.DataObject, row: st.SearchStrategy[tuple], max_epochs: int = 5,
                max_ops: int = 12) -> list[list[Chunk]]:
    """Random epochs of chunks: inserts of drawn rows, deletes of rows currently present."""
    present: list[tuple] = []
    epochs: list[list[Chunk]] = []
    for _ in range(data.draw(st.integers(1, max_epochs), label="epochs")):
        chunks: list[Chunk] = []
        ops: list[int] = []
        rows: list[tuple] = []
        for _ in range(data.draw(st.integers(0, max_ops), label="ops")):
            if present and data.draw(st.booleans()):
                r = present.pop(data.draw(st.integers(0, len(present) - 1)))
                ops.append(data.draw(st.sampled_from([DELETE, UPDATE_DELETE])))
            else:
                r = data.draw(row)
                present.append(r)
                ops.append(data.draw(st.sampled_from([INSERT, UPDATE_INSERT])))
            rows.append(r)
            if data.draw(st.integers(0, 3)) == 0:
                chunks.append(Chunk(ops, rows))
                ops, rows = [], []
        if rows:
            chunks.append(Chunk(ops, rows))
        epochs.append(chunks)
    return epochs


def accumulated_inputs(epochs: list[list[Chunk]]) -> list[list[tuple]]:
    """The input multiset (as a row list) after each epoch."""
    counts: dict[tuple, int] = {}
    out: list[list[tuple]] = []
    for chunks in epochs:
        for chunk in chunks:
            for row, n in multiset(chunk).items():
                counts[row] = counts.get(row, 0) + n
        out.append([r for r, n in counts.items() for _ in range(n)])
    return out


def run_with_restart(make_op: Callable[[StateTable], Any], epochs: list[list[Chunk]],
                     checkpoints: list[bool], restart_after: int,
                     dist_len: int = 0) -> list[dict[tuple, int]]:
    """Run epochs[:restart_after] on one operator instance, then recover a new one from
    the last committed checkpoint and replay every epoch after it. Returns the
    accumulated output multiset after each epoch, as downstream would see it."""
    sink = StateSink()
    first = make_op(StateTable("t", sink, dist_len))
    src = MockSource()
    for i, chunks in enumerate(epochs[:restart_after]):
        for chunk in chunks:
            src.push_chunk(chunk)
        src.push_barrier(i + 2, checkpoints[i])
    msgs = run(first.execute, src)
    check_invariants(msgs)
    assert sum(isinstance(m, Barrier) for m in msgs) == restart_after
    outputs = chunks_between_barriers(msgs)
    committed = max((i for i in range(restart_after) if checkpoints[i]), default=-1)
    outputs = outputs[:committed + 1]

    state = StateTable("t", StateSink(), dist_len)
    state.load(sink.committed("t"))
    second = make_op(state)
    src = MockSource()
    for i in range(committed + 1, len(epochs)):
        for chunk in epochs[i]:
            src.push_chunk(chunk)
        src.push_barrier(i + 2, checkpoints[i])
    msgs = run(second.execute, src)
    check_invariants(msgs)
    outputs += chunks_between_barriers(msgs)
    assert len(outputs) == len(epochs)

    acc: dict[tuple, int] = {}
    result = []
    for chunk in outputs:
        for r, n in multiset(chunk).items():
            acc[r] = acc.get(r, 0) + n
            if acc[r] == 0:
                del acc[r]
        result.append(dict(acc))
    return result


def draw_schedule(data: st.DataObject, n_epochs: int) -> tuple[list[bool], int]:
    """Checkpoint flags per epoch and how many epochs run before the restart."""
    checkpoints = [data.draw(st.booleans(), label="checkpoint") for _ in range(n_epochs)]
    restart_after = data.draw(st.integers(0, n_epochs), label="restart_after")
    return checkpoints, restart_after
