"""The message loop of operators that emit their output once per epoch.

Distinct, top-N, over-window and the hash aggregate fold every chunk of an epoch
into their state and emit the net change at the barrier. They share this loop:
chunks are applied, watermarks that survive the operator are held until the
epoch's output is out (a row it emits may be older than a watermark that arrived
before it), and at a barrier the output, then the watermarks, then (at a
checkpoint) the state commit, then the barrier itself.
"""

from __future__ import annotations

from typing import AsyncIterator, Protocol

from executor.message import Barrier, Chunk, Message, Watermark
from storage.state_table import StateTable


class PerEpochOperator(Protocol):
    state: StateTable

    def _apply(self, chunk: Chunk) -> None: ...

    def _flush(self) -> list[Chunk]: ...

    def _watermark_out(self, wm: Watermark) -> Watermark | None:
        """The watermark this operator passes on for an input watermark (None: none,
        because rows it emits may be older)."""

    def _on_watermark(self, wm: Watermark) -> None:
        """Called with each watermark as it is emitted (state cleanup)."""


async def run_per_epoch(op: PerEpochOperator,
                        input: AsyncIterator[Message]) -> AsyncIterator[Message]:
    watermarks: dict[int, Watermark] = {}  # held until the epoch's output is out
    async for msg in input:
        match msg:
            case Chunk():
                op._apply(msg)
            case Watermark():
                out = op._watermark_out(msg)
                if out is not None:
                    watermarks[out.column] = out
            case Barrier():
                for chunk in op._flush():
                    yield chunk
                for wm in watermarks.values():
                    op._on_watermark(wm)
                    yield wm
                watermarks.clear()
                if msg.is_checkpoint:
                    op.state.commit(msg.epoch)
                yield msg
