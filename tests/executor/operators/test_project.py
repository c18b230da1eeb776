"""Project: compiled projections over chunks; ops pass through; watermarks follow columns."""

from __future__ import annotations

from executor.message import Barrier, Chunk, Watermark
from executor.operators.project import Project
from planner import expressions as X
from planner.types import INT32
from tests.executor.harness import MockSource, run


def test_projects_every_row_and_keeps_ops() -> None:
    a, b = X.InputRef(0, INT32, "a"), X.InputRef(1, INT32, "b")
    plus = X.Call("+", (a, b), INT32)
    op = Project(X.compile_projection([b, plus]), {1: 0})
    src = MockSource().push_chunk("""
        I I
      + 1 2
      - 3 4
     U- 5 6
     U+ 5 7
    """).push_barrier().push_watermark(1, 10).push_watermark(0, 99)
    out = run(op.execute, src)
    assert out[0] == Chunk.from_pretty("""
        I I
      + 2 3
      - 4 7
     U- 6 11
     U+ 7 12
    """)
    assert isinstance(out[1], Barrier)
    # Watermark on input column 1 becomes one on output column 0; column 0 is dropped.
    assert out[2:] == [Watermark(0, 10)]
