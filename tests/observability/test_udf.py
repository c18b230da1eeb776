"""Python UDFs: CREATE / DROP FUNCTION, calls in views (sync in a worker thread,
async concurrently) and in batch SELECTs."""

from __future__ import annotations

import threading
import time

import pytest

from planner.errors import Error
from sqlstream.database import Database

THREAD_NAME = """CREATE FUNCTION where_am_i(x INT) RETURNS VARCHAR LANGUAGE python AS $$
import threading
def where_am_i(x):
    return threading.current_thread().name
$$"""


@pytest.fixture
def s():  # type: ignore[no-untyped-def]
    db = Database.open(None)
    yield db.session()
    db.close()


def rows(s, sql: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    return s.execute(sql)[0].rows


def test_sync_udf_in_view_and_select(s) -> None:  # type: ignore[no-untyped-def]
    s.execute("CREATE TABLE t (a BIGINT, b BIGINT)")
    s.execute("CREATE FUNCTION add_mul(x BIGINT, y BIGINT) RETURNS BIGINT LANGUAGE python "
              "AS $$ def add_mul(x, y): return None if x is None else x * 10 + (y or 0) $$")
    s.execute("CREATE MATERIALIZED VIEW v AS SELECT a, add_mul(a, b) + 1 AS m FROM t")
    s.execute("INSERT INTO t VALUES (1, 2), (3, NULL), (NULL, 5)")
    s.execute("FLUSH")
    assert sorted(rows(s, "SELECT * FROM v"), key=str) == [(1, 13), (3, 31), (None, None)]
    assert rows(s, "SELECT add_mul(4, 5)") == [(45,)]
    assert ("add_mul",) in rows(s, "SHOW FUNCTIONS")


def test_blocking_udf_runs_off_the_event_loop(s) -> None:  # type: ignore[no-untyped-def]
    s.execute("CREATE TABLE t (a INT)")
    s.execute(THREAD_NAME)
    s.execute("CREATE MATERIALIZED VIEW v AS SELECT where_am_i(a) AS w FROM t")
    s.execute("INSERT INTO t VALUES (1)")
    s.execute("FLUSH")
    [(name,)] = rows(s, "SELECT w FROM v")
    assert name.startswith("udf-where_am_i") and name != threading.current_thread().name


def test_async_udf_calls_overlap_and_keep_order(s) -> None:  # type: ignore[no-untyped-def]
    s.execute("CREATE TABLE t (a BIGINT)")
    s.execute("""CREATE FUNCTION later(x BIGINT) RETURNS BIGINT LANGUAGE python AS $$
import asyncio
async def later(x):
    await asyncio.sleep(0.05 if x % 2 else 0.01)
    return -x
$$""")
    s.execute("CREATE MATERIALIZED VIEW v AS SELECT a, later(a) AS b FROM t")
    values = ",".join(f"({i})" for i in range(64))
    t0 = time.monotonic()
    s.execute(f"INSERT INTO t VALUES {values}")
    s.execute("FLUSH")
    elapsed = time.monotonic() - t0
    assert sorted(rows(s, "SELECT a, b FROM v")) == [(i, -i) for i in range(64)]
    assert elapsed < 64 * 0.03 / 2  # one at a time would take about 2 s
    assert rows(s, "SELECT later(7)") == [(-7,)]


def test_drop_function_respects_dependents(s) -> None:  # type: ignore[no-untyped-def]
    s.execute("CREATE TABLE t (a INT)")
    s.execute("CREATE FUNCTION inc(x INT) RETURNS INT LANGUAGE python AS $$ def inc(x): "
              "return x + 1 $$")
    s.execute("CREATE MATERIALIZED VIEW v AS SELECT inc(a) AS b FROM t")
    with pytest.raises(Error) as e:
        s.execute("DROP FUNCTION inc")
    assert e.value.sqlstate == "2BP01"
    s.execute("DROP FUNCTION inc CASCADE")
    assert rows(s, "SHOW FUNCTIONS") == []
    with pytest.raises(Error) as e:
        s.execute("SELECT inc(1)")
    assert e.value.sqlstate == "42883"
    with pytest.raises(Error) as e:
        s.execute("CREATE MATERIALIZED VIEW w AS SELECT inc(a) FROM t")
    assert e.value.sqlstate == "42883"
    s.execute("DROP FUNCTION IF EXISTS inc")


def test_udf_refused_when_not_allowed(s) -> None:  # type: ignore[no-untyped-def]
    s.allow_udf = False
    with pytest.raises(Error) as e:
        s.execute("CREATE FUNCTION f(x INT) RETURNS INT LANGUAGE python AS $$ def f(x): "
                  "return x $$")
    assert e.value.sqlstate == "42501"


def test_functions_and_views_using_them_survive_restart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "db")
    db = Database.open(path)
    s = db.session()
    s.execute("CREATE TABLE t (a INT)")
    s.execute("CREATE FUNCTION twice(x INT) RETURNS INT LANGUAGE python AS $$ def twice(x): "
              "return 2 * x $$")
    s.execute("CREATE MATERIALIZED VIEW v AS SELECT twice(a) AS b FROM t")
    s.execute("INSERT INTO t VALUES (4)")
    s.execute("FLUSH")
    db.close()
    db = Database.open(path)
    try:
        s = db.session()
        s.execute("INSERT INTO t VALUES (5)")
        s.execute("FLUSH")
        assert sorted(rows(s, "SELECT b FROM v")) == [(8,), (10,)]
        assert rows(s, "SELECT twice(21)") == [(42,)]
    finally:
        db.close()
