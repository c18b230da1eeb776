"""TEMPORARY STAND-IN: the real Session (streaming engine) replaces this file.
It runs every statement directly on DuckDB so front ends can be developed now.
The public signatures below are the contract and will not change."""

from __future__ import annotations

import threading
from typing import Any, Sequence

import duckdb
import sqlglot

from planner import types as T
from planner.errors import Error, ProgrammingError
from sqlstream.result import Column, StatementResult

_DUCK_TO_TYPE = {"INTEGER": T.INT32, "BIGINT": T.INT64, "SMALLINT": T.INT16, "DOUBLE": T.FLOAT64,
                 "FLOAT": T.FLOAT32, "BOOLEAN": T.BOOLEAN, "VARCHAR": T.VARCHAR, "DATE": T.DATE,
                 "TIMESTAMP": T.TIMESTAMP, "TIME": T.TIME, "INTERVAL": T.INTERVAL,
                 "TIMESTAMP WITH TIME ZONE": T.TIMESTAMPTZ, "HUGEINT": T.DECIMAL}


class Database:
    def __init__(self, path: str | None = None, **settings: Any) -> None:
        self.path = path
        self.settings = settings
        self.duck = duckdb.connect()
        self.lock = threading.Lock()

    @classmethod
    def open(cls, path: str | None = None, **settings: Any) -> "Database":
        return cls(path, **settings)

    def session(self) -> "Session":
        return Session(self)

    def close(self) -> None:
        self.duck.close()


class Session:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.settings: dict[str, str] = {}

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[StatementResult]:
        out = []
        for stmt in sqlglot.parse(sql, read="postgres"):
            if stmt is None:
                continue
            text = stmt.sql("duckdb")
            try:
                with self.db.lock:
                    cur = self.db.duck.execute(text, list(params) if params else None)
                    rows = cur.fetchall() if cur.description else []
                    desc = cur.description
            except duckdb.Error as e:
                raise ProgrammingError(str(e), "42601") from None
            if desc:
                cols = [Column(d[0], _DUCK_TO_TYPE.get(str(d[1]), T.VARCHAR)) for d in desc]
                out.append(StatementResult(f"SELECT {len(rows)}", cols, rows))
            else:
                out.append(StatementResult(stmt.key.upper()))
        return out

    def describe(self, sql: str) -> tuple[list[T.DataType], list[Column] | None]:
        return [], None

    def cancel(self) -> None:
        pass

    def close(self) -> None:
        pass
