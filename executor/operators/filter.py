"""Filter: keeps the rows whose predicate is TRUE (compiled once).

An update pair stays whole: when only its U- passes, it leaves as a Delete; when only
its U+ passes, as an Insert (as RisingWave's filter does)."""

from __future__ import annotations

from itertools import compress
from typing import AsyncIterator, Callable

from executor.message import Chunk, Message, keep_pairs_whole


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
                        yield Chunk(list(compress(keep_pairs_whole(msg.ops, mask), mask)), rows)
                case _:
                    yield msg

