"""Union: the multiset sum of its inputs (UNION ALL), barriers aligned."""

from __future__ import annotations

from typing import AsyncIterator

from executor.align import align
from executor.message import Barrier, Chunk, Message


class Union:
    async def execute(self, inputs: list[AsyncIterator[Message]]) -> AsyncIterator[Message]:
        async for _side, msg in align(inputs):
            match msg:
                case Chunk() | Barrier():
                    yield msg
                case _:
                    pass  # a watermark of one input says nothing about the others
