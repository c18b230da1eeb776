"""TableSource: forwards DML chunks and stages its log offset on checkpoints."""

from __future__ import annotations

from executor.message import Barrier, BarrierKind, Chunk
from executor.operators.table_source import Offset, TableSource
from tests.executor.harness import run


class Offsets:
    def __init__(self) -> None:
        self.staged: list[tuple[int, str, str]] = []

    def stage_offset(self, epoch: int, source: str, value: str) -> None:
        self.staged.append((epoch, source, value))


def test_stages_the_last_offset_on_checkpoints_only() -> None:
    sink = Offsets()
    msgs = [Chunk.inserts([(1,)]), Offset(1), Barrier(2, 1),
            Chunk.inserts([(2,), (3,)]), Offset(2), Barrier(3, 2, BarrierKind.BARRIER),
            Chunk.inserts([(4,)]), Offset(3), Barrier(4, 3)]

    async def feed():  # type: ignore[no-untyped-def]
        for m in msgs:
            yield m

    src = TableSource(5, sink)
    out = run(lambda _x: src.execute(feed()), _Empty())
    assert [m for m in out if isinstance(m, Chunk)] == [msgs[0], msgs[3], msgs[6]]
    assert sink.staged == [(2, "table:5", "1"), (4, "table:5", "3")]
    assert src.rows_read == 4


class _Empty:
    async def __aiter__(self):  # type: ignore[no-untyped-def]
        return
        yield
