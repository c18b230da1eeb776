"""Filter: keeps rows whose predicate is TRUE (not NULL), with their ops."""

from __future__ import annotations

from executor.message import Barrier, Chunk
from executor.operators.filter import Filter
from planner import expressions as X
from planner.types import BOOLEAN, INT32
from tests.executor.harness import MockSource, run


def test_keeps_true_rows_only() -> None:
    gt = X.Call(">", (X.InputRef(0, INT32, "a"), X.Literal(2, INT32)), BOOLEAN)
    op = Filter(X.compile_filter(gt))
    src = MockSource().push_chunk("""
        I I
      + 1 10
      + 3 11
      - . 12
     U- 5 13
     U+ 5 14
    """).push_chunk("""
        I I
      + 0 1
    """).push_barrier()
    out = run(op.execute, src)
    assert out[0] == Chunk.from_pretty("""
        I I
      + 3 11
     U- 5 13
     U+ 5 14
    """)
    # A chunk with no surviving rows is not forwarded at all.
    assert isinstance(out[1], Barrier) and len(out) == 2
