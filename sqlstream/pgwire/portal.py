"""Prepared statements and portals of one connection, and the SQL-level cursors
(DECLARE / FETCH / MOVE / CLOSE) that drivers use for server-side cursors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from planner.errors import Error, ProgrammingError
from sqlstream.result import Column, RowSource, StatementResult


@dataclass(slots=True)
class Prepared:
    sql: str
    param_oids: list[int]
    described: list[Column] | None = None  # result columns announced at Describe
    was_described: bool = False
    returns_rows: bool = True  # whether the statement may produce a row set
    empty: bool = False  # only comments and whitespace


@dataclass(slots=True)
class Portal:
    stmt: Prepared
    params: list[Any]
    formats: list[int]
    result: StatementResult | None = None
    completed: bool = False  # a statement without rows has reported its tag
    columns: list[Column] | None = None  # the types rows are encoded with
    source: RowSource | None = None  # the rows not yet sent

    def close(self) -> None:
        if self.source is not None:
            self.source.close()
        if self.result is not None:
            self.result.close()


class Limited(RowSource):
    """At most `count` rows (all when None) of a cursor's rows, for one FETCH."""

    def __init__(self, source: RowSource, count: int | None) -> None:
        self.source = source
        self.left = count

    def fetch(self, n: int) -> list[tuple]:
        if self.left is not None:
            n = min(n, self.left)
        rows = self.source.fetch(n) if n > 0 else []
        if self.left is not None:
            self.left -= len(rows)
        return rows

    def at_end(self) -> bool:
        return self.left == 0 or self.source.at_end()

    def close(self) -> None:
        self.left = 0  # the cursor stays open for the next FETCH


_DECLARE = re.compile(
    r"^\s*DECLARE\s+(\"(?:[^\"]|\"\")+\"|\w+)\s+((?:\w+\s+)*?)CURSOR\s+"
    r"(?:(?:WITH|WITHOUT)\s+HOLD\s+)?FOR\s+(.*)$", re.IGNORECASE | re.DOTALL)
_FETCH = re.compile(
    r"^\s*(FETCH|MOVE)\s+(?:(NEXT|FORWARD\s+ALL|FORWARD\s+\d+|FORWARD|ALL|\d+)\s+)?"
    r"(?:(?:FROM|IN)\s+)?(\"(?:[^\"]|\"\")+\"|\w+)\s*;?\s*$", re.IGNORECASE | re.DOTALL)
_CLOSE = re.compile(r"^\s*CLOSE\s+(ALL|\"(?:[^\"]|\"\")+\"|\w+)\s*;?\s*$", re.IGNORECASE)


def _ident(text: str) -> str:
    if text.startswith('"'):
        return text[1:-1].replace('""', '"')
    return text.lower()


@dataclass(slots=True)
class Cursors:
    """SQL cursors share the portal namespace, as in PostgreSQL, so a driver may Describe
    a cursor by name. A cursor holds its query open and reads rows as they are fetched."""

    portals: dict[str, Portal] = field(default_factory=dict)

    def match_declare(self, sql: str) -> tuple[str, str] | None:
        m = _DECLARE.match(sql)
        return (_ident(m.group(1)), m.group(3)) if m else None

    def declare(self, name: str, result: StatementResult, stmt: Prepared) -> StatementResult:
        if name in self.portals:
            result.close()
            raise ProgrammingError(f'cursor "{name}" already exists', "42P03")
        if result.columns is None:
            raise ProgrammingError("cursor query does not return rows", "42P11")
        self.portals[name] = Portal(stmt, [], [], result, False, result.columns,
                                    result.take_source())
        return StatementResult("DECLARE CURSOR")

    def try_fetch_or_close(self, sql: str) -> StatementResult | None:
        """FETCH / MOVE / CLOSE of a cursor, or None for any other statement. A FETCH
        result streams the cursor's next rows; MOVE reads past them (in the caller's
        thread: call it off the event loop)."""
        m = _FETCH.match(sql)
        if m:
            verb, how, name = m.group(1).upper(), (m.group(2) or "NEXT").upper(), m.group(3)
            portal = self._get(_ident(name))
            count: int | None
            if "ALL" in how:
                count = None
            elif how in ("NEXT", "FORWARD"):
                count = 1
            else:
                count = int(how.split()[-1])
            assert portal.source is not None
            rows = Limited(portal.source, count)
            if verb == "MOVE":
                moved = 0
                while batch := rows.fetch(10_000):
                    moved += len(batch)
                return StatementResult(f"MOVE {moved}")
            return StatementResult("FETCH", portal.columns, source=rows)
        m = _CLOSE.match(sql)
        if m:
            if m.group(1).upper() == "ALL":
                for portal in self.portals.values():
                    portal.close()
                self.portals.clear()
            else:
                name = _ident(m.group(1))
                self._get(name).close()
                del self.portals[name]
            return StatementResult("CLOSE CURSOR")
        return None

    def close_all(self) -> None:
        for portal in self.portals.values():
            portal.close()
        self.portals.clear()

    def columns_of_fetch(self, sql: str) -> list[Column] | None:
        m = _FETCH.match(sql)
        if not m or m.group(1).upper() != "FETCH":
            return None
        return self._get(_ident(m.group(3))).columns

    def _get(self, name: str) -> Portal:
        portal = self.portals.get(name)
        if portal is None:
            raise Error(f'cursor "{name}" does not exist', "34000")
        return portal
