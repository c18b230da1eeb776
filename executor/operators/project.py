"""Project: computes output columns from each input row (compiled once)."""

from __future__ import annotations

from typing import AsyncIterator, Callable

from executor.message import Chunk, Message, Watermark


class Project:
    def __init__(self, project: Callable[[list[tuple]], list[tuple]],
                 watermark_map: dict[int, int] | None = None) -> None:
        self.project = project
        # input column -> output column, for watermarks on columns passed through.
        self.watermark_map = watermark_map or {}

    async def execute(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        project = self.project
        async for msg in input:
            match msg:
                case Chunk():
                    yield Chunk(msg.ops, project(msg.rows))
                case Watermark():
                    if msg.column in self.watermark_map:
                        yield Watermark(self.watermark_map[msg.column], msg.value)
                case _:
                    yield msg
