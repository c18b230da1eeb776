"""Drive one operator with scripted messages, the way RisingWave's MockSource does."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Callable, Sequence

from executor.message import (UPDATE_DELETE, UPDATE_INSERT, Barrier, BarrierKind, Chunk, Message,
                              Watermark)


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


def run(execute: Callable[..., AsyncIterator[Message]], *sources: MockSource,
        stream_key: Sequence[int] | None = None) -> list[Message]:
    """Run an operator's execute() over the sources and collect everything it emits,
    checking every emitted chunk keeps update pairs whole (`check_update_pairs`)."""

    async def main() -> list[Message]:
        out: list[Message] = []
        async for msg in execute(*[s.__aiter__() for s in sources]):
            if isinstance(msg, Chunk):
                check_update_pairs(msg, stream_key)
            out.append(msg)
        return out

    return asyncio.run(main())


def check_update_pairs(chunk: Chunk, stream_key: Sequence[int] | None = None) -> None:
    """Every U- is directly followed by a U+ in the same chunk and every U+ directly
    follows a U-; with `stream_key` given, both halves carry the same key."""
    ops = chunk.ops
    for i, op in enumerate(ops):
        if op == UPDATE_DELETE:
            assert i + 1 < len(ops) and ops[i + 1] == UPDATE_INSERT, \
                f"U- at row {i} not followed by its U+: {chunk.to_pretty()}"
            if stream_key is not None:
                old, new = chunk.rows[i], chunk.rows[i + 1]
                assert [old[k] for k in stream_key] == [new[k] for k in stream_key], \
                    f"U-/U+ at rows {i}, {i + 1} differ in stream key: {chunk.to_pretty()}"
        elif op == UPDATE_INSERT:
            assert i > 0 and ops[i - 1] == UPDATE_DELETE, \
                f"U+ at row {i} without its U-: {chunk.to_pretty()}"


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
