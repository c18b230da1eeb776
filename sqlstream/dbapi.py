"""DB-API 2.0 (PEP 249) over a Session: connect(), Connection, Cursor."""

from __future__ import annotations

from typing import Any, Iterator, Sequence

from planner.errors import InterfaceError
from sqlstream.database import Database
from sqlstream.result import StatementResult
from sqlstream.session import Session

apilevel = "2.0"
threadsafety = 1
paramstyle = "numeric_dollar"  # $1, $2, ... as PostgreSQL


def connect(path: str | None = None, **settings: Any) -> Connection:
    """Open a database. No path: a temporary database removed on close. A path: a
    durable data directory that a later connect(path) reopens."""
    return Connection(Database.open(path, **settings))


class Connection:
    def __init__(self, db: Database) -> None:
        self._db: Database | None = db
        self._session: Session | None = db.session()

    @property
    def session(self) -> Session:
        if self._session is None:
            raise InterfaceError("connection is closed", "08003")
        return self._session

    @property
    def database(self) -> Database:
        if self._db is None:
            raise InterfaceError("connection is closed", "08003")
        return self._db

    def cursor(self) -> Cursor:
        return Cursor(self)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Cursor:
        cur = self.cursor()
        cur.execute(sql, params)
        return cur

    def commit(self) -> None:
        """Every statement is atomic and durable when it returns; nothing to do."""
        self.session  # noqa: B018 - raises when closed

    def rollback(self) -> None:
        self.session  # noqa: B018

    def close(self) -> None:
        if self._db is not None:
            if self._session is not None:
                self._session.close()
            self._db.close()
        self._db = None
        self._session = None

    @property
    def closed(self) -> bool:
        return self._db is None

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Cursor:
    arraysize = 1

    def __init__(self, conn: Connection) -> None:
        self.connection = conn
        self._results: list[StatementResult] = []
        self._rows: list[tuple] = []
        self._pos = 0
        self.description: list[tuple] | None = None
        self.rowcount = -1
        self.statusmessage: str | None = None
        self.notices: list[str] = []

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Cursor:
        results = self.connection.session.execute(sql, params)
        self._results = results
        self.notices = [n for r in results for n in r.notices]
        last = results[-1] if results else StatementResult("EMPTY")
        # The result of a multi-statement string is the last row-returning one, else the last.
        shown = next((r for r in reversed(results) if r.columns is not None), last)
        self._rows = shown.rows if shown.columns is not None else []
        self._pos = 0
        self.description = None if shown.columns is None else [
            (c.name, c.type.name, None, None, None, None, None) for c in shown.columns]
        self.rowcount = shown.rowcount
        self.statusmessage = last.tag
        return self

    def executemany(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> Cursor:
        total = 0
        for params in seq_of_params:
            self.execute(sql, params)
            if self.rowcount > 0:
                total += self.rowcount
        self.rowcount = total
        return self

    def fetchone(self) -> tuple | None:
        if self._pos >= len(self._rows):
            return None
        row = self._rows[self._pos]
        self._pos += 1
        return row

    def fetchmany(self, size: int | None = None) -> list[tuple]:
        n = size or self.arraysize
        out = self._rows[self._pos:self._pos + n]
        self._pos += len(out)
        return out

    def fetchall(self) -> list[tuple]:
        out = self._rows[self._pos:]
        self._pos = len(self._rows)
        return out

    def __iter__(self) -> Iterator[tuple]:
        while (row := self.fetchone()) is not None:
            yield row

    @property
    def results(self) -> list[StatementResult]:
        return self._results

    def setinputsizes(self, sizes: Any) -> None:
        pass

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        pass

    def close(self) -> None:
        self._rows = []

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
