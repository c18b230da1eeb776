"""What a statement returns to every front end (DB-API cursor, pgwire, REPL)."""

from __future__ import annotations

from dataclasses import dataclass, field

from planner.types import DataType


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: DataType


@dataclass(slots=True)
class StatementResult:
    """`tag` is PostgreSQL's command tag ("SELECT 3", "INSERT 0 2", "CREATE TABLE").
    `columns` is None for statements that return no rows (DDL, DML, SET)."""

    tag: str
    columns: list[Column] | None = None
    rows: list[tuple] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def rowcount(self) -> int:
        if self.columns is not None:
            return len(self.rows)
        parts = self.tag.split()
        if parts and parts[-1].isdigit() and parts[0] in ("INSERT", "UPDATE", "DELETE"):
            return int(parts[-1])
        return -1
