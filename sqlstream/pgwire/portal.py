"""Prepared statements and portals of one connection, and the SQL-level cursors
(DECLARE / FETCH / MOVE / CLOSE) that drivers use for server-side cursors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from planner.errors import Error, ProgrammingError
from sqlstream.result import Column, StatementResult


@dataclass(slots=True)
class Prepared:
    sql: str
    param_oids: list[int]
    described: list[Column] | None = None  # result columns announced at Describe
    was_described: bool = False


@dataclass(slots=True)
class Portal:
    stmt: Prepared
    params: list[Any]
    formats: list[int]
    result: StatementResult | None = None
    pos: int = 0
    columns: list[Column] | None = None  # the types rows are encoded with

    def remaining(self) -> int:
        return 0 if self.result is None else len(self.result.rows) - self.pos


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
    a cursor by name. A cursor holds the rows of its query, read on DECLARE."""

    portals: dict[str, Portal] = field(default_factory=dict)

    def match_declare(self, sql: str) -> tuple[str, str] | None:
        m = _DECLARE.match(sql)
        return (_ident(m.group(1)), m.group(3)) if m else None

    def declare(self, name: str, result: StatementResult, stmt: Prepared) -> StatementResult:
        if name in self.portals:
            raise ProgrammingError(f'cursor "{name}" already exists', "42P03")
        if result.columns is None:
            raise ProgrammingError("cursor query does not return rows", "42P11")
        self.portals[name] = Portal(stmt, [], [], result, 0, result.columns)
        return StatementResult("DECLARE CURSOR")

    def try_fetch_or_close(self, sql: str) -> StatementResult | None:
        m = _FETCH.match(sql)
        if m:
            verb, how, name = m.group(1).upper(), (m.group(2) or "NEXT").upper(), m.group(3)
            portal = self._get(_ident(name))
            if "ALL" in how:
                count = portal.remaining()
            elif how in ("NEXT", "FORWARD"):
                count = 1
            else:
                count = int(how.split()[-1])
            assert portal.result is not None
            rows = portal.result.rows[portal.pos:portal.pos + count]
            portal.pos += len(rows)
            if verb == "MOVE":
                return StatementResult(f"MOVE {len(rows)}")
            return StatementResult(f"FETCH {len(rows)}", portal.columns, rows)
        m = _CLOSE.match(sql)
        if m:
            if m.group(1).upper() == "ALL":
                self.portals.clear()
            else:
                name = _ident(m.group(1))
                self._get(name)
                del self.portals[name]
            return StatementResult("CLOSE CURSOR")
        return None

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
