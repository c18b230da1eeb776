from __future__ import annotations

import time
from typing import Any, Callable, Iterator

import pytest

from sqlstream.dbapi import connect


class Sql:
    """A small SQL helper over one connection."""

    def __init__(self, path: str | None = None, **settings: Any) -> None:
        self.conn = connect(path, **settings)
        self.cur = self.conn.cursor()

    def __call__(self, sql: str) -> list[tuple]:
        self.cur.execute(sql)
        return self.cur.fetchall() if self.cur.description else []

    def until(self, sql: str, ok: Callable[[list[tuple]], bool], timeout: float = 20) -> list[tuple]:
        """FLUSH and query until `ok(rows)` (sources produce rows over time)."""
        deadline = time.time() + timeout
        while True:
            self("FLUSH")
            rows = self(sql)
            if ok(rows) or time.time() > deadline:
                return rows
            time.sleep(0.1)

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def sql() -> Iterator[Sql]:
    s = Sql(barrier_interval_ms=100)
    yield s
    s.close()
