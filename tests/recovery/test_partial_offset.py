"""A statement larger than one chunk can span a checkpoint barrier: the table
source then records how many of its rows the checkpoint already holds, so that
recovery replays only the rest of it (replaying all of it counted those rows twice
in every view downstream)."""

from __future__ import annotations

from typing import AsyncIterator

from executor.message import Barrier, Chunk, Message
from executor.operators.table_source import Offset, TableSource, format_offset, parse_offset
from tests.executor.harness import run


class Offsets:
    def __init__(self) -> None:
        self.staged: list[tuple[int, str, str]] = []

    def stage_offset(self, epoch: int, source: str, value: str) -> None:
        self.staged.append((epoch, source, value))


class _Empty:
    async def __aiter__(self) -> AsyncIterator[Message]:  # type: ignore[override]
        return
        yield


def _drive(src: TableSource, msgs: list[Message | Offset]) -> list[Message]:
    async def feed() -> AsyncIterator[Message | Offset]:
        for m in msgs:
            yield m

    return run(lambda _x: src.execute(feed()), _Empty())


def test_barrier_inside_a_statement_stages_the_rows_already_passed() -> None:
    sink = Offsets()
    _drive(TableSource(7, sink), [
        Chunk.inserts([(1,)]), Offset(1),
        Chunk.inserts([(2,), (3,)]), Barrier(2, 1),  # statement 2 half passed
        Chunk.inserts([(4,)]), Offset(2), Barrier(3, 2)])
    assert sink.staged == [(2, "table:7", "1:2"), (3, "table:7", "2")]


def test_recovered_source_counts_on_from_the_partial_position() -> None:
    sink = Offsets()
    _drive(TableSource(7, sink, offset=1, partial=2),
           [Chunk.inserts([(4,)]), Barrier(2, 1), Offset(2), Barrier(3, 2)])
    assert sink.staged == [(2, "table:7", "1:3"), (3, "table:7", "2")]


def test_offset_text_round_trips() -> None:
    assert parse_offset(format_offset(5, 0)) == (5, 0)
    assert format_offset(5, 0) == "5"
    assert parse_offset(format_offset(5, 1024)) == (5, 1024)
    assert parse_offset(None) == (0, 0)
