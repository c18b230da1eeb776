"""DML with $n parameters runs on the one cached tree of its text: the parameters
of one execution must never show up in the next, and each statement must give
what the same statement with literals gives."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import sqlstream
from planner.parse import shared_tree


@pytest.fixture
def conn() -> Iterator[sqlstream.Connection]:
    c = sqlstream.connect()
    c.execute("CREATE TABLE t (k int PRIMARY KEY, v varchar, w int)")
    yield c
    c.close()


def rows(c: sqlstream.Connection) -> list[tuple]:
    c.execute("FLUSH")
    return c.execute("SELECT k, v, w FROM t ORDER BY k").fetchall()


def test_each_execution_binds_its_own_values(conn: sqlstream.Connection) -> None:
    insert = "INSERT INTO t VALUES ($1, $2, $3)"
    before = shared_tree(insert).sql()
    for k in range(5):
        conn.execute(insert, [k, f"v{k}", -k])  # a negative value takes the bound path
    assert shared_tree(insert).sql() == before  # the cached tree is unchanged
    update = "UPDATE t SET w = $1, v = $3 WHERE k = $2"
    conn.execute(update, [10, 1, "x"])
    conn.execute(update, ["20", 2, None])
    add = "UPDATE t SET w = w + $1 WHERE $2 = k"
    before = shared_tree(add).sql()
    conn.execute(add, [5, 3])
    conn.execute(add, [1, 2])
    assert shared_tree(add).sql() == before
    conn.execute("DELETE FROM t WHERE k = $1", [4])
    conn.execute("DELETE FROM t WHERE k = $1", [0])
    assert rows(conn) == [(1, "x", 10), (2, None, 21), (3, "v3", 2)]


def test_same_results_as_literals(conn: sqlstream.Connection) -> None:
    other = sqlstream.connect()
    try:
        other.execute("CREATE TABLE t (k int PRIMARY KEY, v varchar, w int)")
        steps = [("INSERT INTO t VALUES ($1, $2, $3), ($4, 'b', $5)", [1, "a", 7, 2, -2]),
                 ("UPDATE t SET w = w * $1 WHERE w > $2", [3, 0]),
                 ("UPDATE t SET v = $1 WHERE k = $2", ["c", 2]),
                 ("DELETE FROM t WHERE w = $1", [-2])]
        for sql, params in steps:
            conn.execute(sql, params)
            text = sql
            for i in range(len(params), 0, -1):
                v = params[i - 1]
                text = text.replace(f"${i}", f"'{v}'" if isinstance(v, str) else str(v))
            other.execute(text)
        assert rows(conn) == rows(other) == [(1, "a", 21)]
    finally:
        other.close()


def test_errors_are_those_of_the_statement(conn: sqlstream.Connection) -> None:
    conn.execute("INSERT INTO t VALUES ($1, $2, $3)", [1, "a", 1])
    with pytest.raises(sqlstream.Error) as e:
        conn.execute("INSERT INTO t VALUES ($1, $2, $3)", [1, "b", 2])
    assert e.value.sqlstate == "23505"
    with pytest.raises(sqlstream.Error) as e:
        conn.execute("UPDATE t SET w = $1 WHERE k = $2", ["x", 1])
    assert e.value.sqlstate == "22P02"
    with pytest.raises(sqlstream.Error) as e:
        conn.execute("DELETE FROM t WHERE k = $2", [1])
    assert e.value.sqlstate == "42P02"
    assert rows(conn) == [(1, "a", 1)]
