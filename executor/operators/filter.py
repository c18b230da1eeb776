"""Filter: keeps the rows whose predicate is TRUE (compiled once).

An update pair stays whole: when only its U- passes, it leaves as a Delete; when only
its U+ passes, as an Insert (as RisingWave's filter does)."""

from __future__ import annotations

from itertools import compress
from typing import AsyncIterator, Callable

from executor.message import (DELETE, INSERT, UPDATE_DELETE, UPDATE_INSERT, Chunk,
                              Message)


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
                        yield Chunk(list(compress(_whole_pairs(msg.ops, mask), mask)), rows)
                case _:
                    yield msg


def _whole_pairs(ops: list[int], mask: list[bool]) -> list[int]:
    """The ops with each half-kept update pair's surviving half made a plain change."""
    if UPDATE_DELETE not in ops:
        return ops
    out = list(ops)
    for i in range(len(ops) - 1):
        if ops[i] == UPDATE_DELETE and ops[i + 1] == UPDATE_INSERT and bool(mask[i]) != bool(mask[i + 1]):
            if mask[i]:
                out[i] = DELETE
            else:
                out[i + 1] = INSERT
    return out
