"""Drive one operator with scripted messages, the way RisingWave's MockSource does."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Callable

from executor.message import Barrier, BarrierKind, Chunk, Message, Watermark


class MockSource:
    """A scripted input: push_chunk / push_barrier / push_watermark, then iterate."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._epoch = 1

    def push_chunk(self, chunk: Chunk | str) -> "MockSource":
        self.messages.append(Chunk.from_pretty(chunk) if isinstance(chunk, str) else chunk)
        return self

    def push_barrier(self, epoch: int | None = None, checkpoint: bool = True) -> "MockSource":
        epoch = self._epoch + 1 if epoch is None else epoch
        kind = BarrierKind.CHECKPOINT if checkpoint else BarrierKind.BARRIER
        self.messages.append(Barrier(epoch, self._epoch, kind))
        self._epoch = epoch
        return self

    def push_watermark(self, column: int, value: Any) -> "MockSource":
        self.messages.append(Watermark(column, value))
        return self

    async def __aiter__(self) -> AsyncIterator[Message]:  # type: ignore[override]
        for msg in self.messages:
            yield msg
            await asyncio.sleep(0)


def run(execute: Callable[..., AsyncIterator[Message]], *sources: MockSource) -> list[Message]:
    """Run an operator's execute() over the sources and collect everything it emits."""

    async def main() -> list[Message]:
        out: list[Message] = []
        async for msg in execute(*[s.__aiter__() for s in sources]):
            out.append(msg)
        return out

    return asyncio.run(main())


def chunks_between_barriers(messages: list[Message]) -> list[Chunk]:
    """Output grouped per epoch: all chunks before each barrier concatenated, compacted."""
    groups: list[Chunk] = []
    ops: list[int] = []
    rows: list[tuple] = []
    for msg in messages:
        if isinstance(msg, Chunk):
            ops.extend(msg.ops)
            rows.extend(msg.rows)
        elif isinstance(msg, Barrier):
            groups.append(Chunk(ops, rows))
            ops, rows = [], []
    if rows:
        groups.append(Chunk(ops, rows))
    return groups


def multiset(chunk: Chunk) -> dict[tuple, int]:
    """Net effect of a chunk as row -> count (zero entries dropped)."""
    out: dict[tuple, int] = {}
    for sign, row in chunk.signed():
        out[row] = out.get(row, 0) + sign
    return {r: n for r, n in out.items() if n}
