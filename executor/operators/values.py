"""Values: a constant relation, emitted once at the first barrier."""

from __future__ import annotations

from typing import AsyncIterator

from executor.message import Barrier, Chunk, Message
from storage.state_table import StateTable


class Values:
    def __init__(self, rows: list[tuple], state: StateTable) -> None:
        self.rows = rows
        self.state = state

    async def execute(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        async for msg in input:
            match msg:
                case Barrier():
                    if self.state.get(()) is None:
                        if self.rows:
                            yield Chunk.inserts(list(self.rows))
                        self.state.put((), True)
                    if msg.is_checkpoint:
                        self.state.commit(msg.epoch)
                    yield msg
                case _:
                    yield msg
