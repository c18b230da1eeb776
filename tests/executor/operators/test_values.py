"""Values: emits its rows once, at the first barrier, and never again after a restart."""

from __future__ import annotations

from executor.message import Barrier, Chunk
from executor.operators.values import Values
from storage.state_table import StateTable
from tests.executor.harness import MockSource, run
from tests.executor.operators.support import StateSink


def test_emits_once_even_across_a_restart() -> None:
    sink = StateSink()
    state = StateTable("values", sink)
    out = run(Values([(1, "a"), (2, "b")], state).execute,
              MockSource().push_barrier().push_barrier())
    assert out[0] == Chunk.inserts([(1, "a"), (2, "b")])
    assert [type(m) for m in out] == [Chunk, Barrier, Barrier]
    recovered = StateTable("values", sink)
    recovered.load(sink.committed("values"))
    again = run(Values([(1, "a"), (2, "b")], recovered).execute, MockSource().push_barrier())
    assert [type(m) for m in again] == [Barrier]
