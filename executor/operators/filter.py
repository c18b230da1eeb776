"""Filter: keeps the rows whose predicate is TRUE (compiled once)."""

from __future__ import annotations

from itertools import compress
from typing import AsyncIterator, Callable

from executor.message import Chunk, Message


class Filter:
    def __init__(self, predicate: Callable[[list[tuple]], list[bool]]) -> None:
        self.predicate = predicate

    async def execute(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        predicate = self.predicate
        async for msg in input:
            match msg:
                case Chunk():
                    mask = predicate(msg.rows)
                    rows = list(compress(msg.rows, mask))
                    if len(rows) == len(msg.rows):
                        yield msg
                    elif rows:
                        yield Chunk(list(compress(msg.ops, mask)), rows)
                case _:
                    yield msg
