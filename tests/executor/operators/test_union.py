"""Union: the multiset sum of its inputs with barriers aligned."""

from __future__ import annotations

from executor.message import Barrier, Chunk
from executor.operators.union import Union
from tests.executor.harness import MockSource, chunks_between_barriers, multiset, run


def test_sums_inputs_per_epoch_and_aligns_barriers() -> None:
    left = MockSource().push_chunk("+ 1\n+ 2").push_barrier().push_chunk("- 1").push_barrier()
    right = MockSource().push_chunk("+ 2").push_barrier().push_chunk("+ 3").push_barrier()
    out = run(lambda a, b: Union().execute([a, b]), left, right)
    barriers = [m for m in out if isinstance(m, Barrier)]
    assert [b.epoch for b in barriers] == [2, 3]  # each barrier once, after both inputs
    epochs = chunks_between_barriers(out)
    assert multiset(epochs[0]) == {(1,): 1, (2,): 2}
    assert multiset(epochs[1]) == {(1,): -1, (3,): 1}
    assert all(isinstance(m, (Chunk, Barrier)) for m in out)
