"""What a statement returns to every front end (DB-API cursor, pgwire, REPL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from planner.types import DataType


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: DataType


class RowSource:
    """The rows of a result, read in batches: `fetch(n)` returns up to n rows, fewer
    only at the end, and [] once every row was read. A source may hold an open query
    in the serving store until it is read to the end or closed."""

    def fetch(self, n: int) -> list[tuple]:
        raise NotImplementedError

    def at_end(self) -> bool:
        """Whether no row is left (may read ahead one batch to find out)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the source holds; later fetches return []."""

    def drain(self, batch: int = 10_000) -> list[tuple]:
        out: list[tuple] = []
        while rows := self.fetch(batch):
            out.extend(rows)
        self.close()
        return out


class ListRows(RowSource):
    """Rows already held in memory."""

    __slots__ = ("rows", "pos")

    def __init__(self, rows: list[tuple], pos: int = 0) -> None:
        self.rows = rows
        self.pos = pos

    def fetch(self, n: int) -> list[tuple]:
        out = self.rows[self.pos:self.pos + n]
        self.pos += len(out)
        return out

    def at_end(self) -> bool:
        return self.pos >= len(self.rows)

    def close(self) -> None:
        self.pos = len(self.rows)


class StatementResult:
    """`tag` is PostgreSQL's command tag ("SELECT 3", "INSERT 0 2", "CREATE TABLE").
    `columns` is None for statements that return no rows (DDL, DML, SET).

    A result may be streamed: its rows then come from `source` in batches and its
    tag's row count is known only once they were all read. Reading `rows` or `tag`
    of a streamed result reads the rest of its rows into memory; front ends that
    can send rows as they come take the source with `take_source()` instead."""

    __slots__ = ("_tag", "columns", "_rows", "notices", "_source")

    def __init__(self, tag: str, columns: list[Column] | None = None,
                 rows: Iterable[tuple] | None = None, notices: list[str] | None = None,
                 source: RowSource | None = None) -> None:
        self._tag = tag
        self.columns = columns
        self._rows: list[tuple] = rows if isinstance(rows, list) else list(rows or ())
        self.notices: list[str] = notices if notices is not None else []
        self._source = source

    @property
    def streamed(self) -> bool:
        return self._source is not None

    @property
    def verb(self) -> str:
        """The tag's first word ("SELECT", "FETCH", "INSERT", ...)."""
        return self._tag.split(" ", 1)[0] if self._tag else ""

    def take_source(self) -> RowSource:
        """The rows as a source, read once; the result keeps no rows afterwards."""
        if self._source is not None:
            source, self._source = self._source, None
            return source
        rows, self._rows = self._rows, []
        return ListRows(rows)

    def materialize(self) -> StatementResult:
        """Read a streamed result's rows into memory (no-op otherwise)."""
        if self._source is not None:
            source, self._source = self._source, None
            self._rows.extend(source.drain())
            self._tag = f"{self.verb} {len(self._rows)}"
        return self

    def close(self) -> None:
        """Drop a streamed result's unread rows."""
        if self._source is not None:
            self._source.close()
            self._source = None

    @property
    def rows(self) -> list[tuple]:
        return self.materialize()._rows

    @rows.setter
    def rows(self, value: list[tuple]) -> None:
        self.close()
        self._rows = value

    @property
    def tag(self) -> str:
        return self.materialize()._tag

    @tag.setter
    def tag(self, value: str) -> None:
        self._tag = value

    @property
    def rowcount(self) -> int:
        if self.columns is not None:
            return len(self.rows)
        parts = self.tag.split()
        if parts and parts[-1].isdigit() and parts[0] in ("INSERT", "UPDATE", "DELETE"):
            return int(parts[-1])
        return -1

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StatementResult):
            return NotImplemented
        return (self.tag, self.columns, self.rows, self.notices) == (
            other.tag, other.columns, other.rows, other.notices)

    def __repr__(self) -> str:
        shown = "streamed" if self.streamed else f"{len(self._rows)} rows"
        return f"StatementResult({self._tag!r}, {self.columns!r}, {shown})"
