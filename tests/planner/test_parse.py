"""Statement splitting and parsing around `$n` placeholders written without spaces,
which sqlglot's tokenizer would read as the start of a dollar-quoted string."""

from __future__ import annotations

import doctest

import pytest

import planner.parse
import sqlstream
from planner.parse import parse, space_placeholders, split_statements


def test_doctests() -> None:
    assert doctest.testmod(planner.parse).failed == 0


@pytest.mark.parametrize("sql, texts", [
    ("INSERT INTO t VALUES ($1,$2)", ["INSERT INTO t VALUES ($1,$2)"]),
    ("SELECT $1+$2; SELECT '$1,$2'", ["SELECT $1+$2", "SELECT '$1,$2'"]),
    ("SELECT $q$ a;$1,$2 $q$; SELECT 2", ["SELECT $q$ a;$1,$2 $q$", "SELECT 2"]),
    ("SELECT 1 -- $1,$2 ;\n; SELECT 2", ["SELECT 1 -- $1,$2 ;", "SELECT 2"]),
])
def test_split_keeps_the_users_text(sql: str, texts: list[str]) -> None:
    stmts = split_statements(sql)
    assert [s.text for s in stmts] == texts
    assert all(sql[s.offset:s.offset + len(s.text)] == s.text for s in stmts)


def test_offsets_map_back() -> None:
    spaced, orig = space_placeholders("($1,$2)")
    assert spaced == "($1 ,$2 )"
    assert [orig[i] for i in range(len(spaced))] == [0, 1, 2, 3, 3, 4, 5, 6, 6]
    assert parse("INSERT INTO t VALUES ($1,$2)").sql(dialect="postgres") == "INSERT INTO t VALUES ($1, $2)"


def test_glued_placeholders_through_the_api() -> None:
    with sqlstream.connect(barrier_interval_ms=20) as conn:
        conn.execute("CREATE TABLE t (a int PRIMARY KEY, b varchar)")
        conn.cursor().executemany("INSERT INTO t VALUES ($1,$2)", [(1, "x"), (2, "$1,$2")])
        conn.execute("UPDATE t SET b = $1||$2 WHERE a = $3", ("y", "z", 1))
        conn.execute("FLUSH")
        assert conn.execute("SELECT * FROM t ORDER BY a").fetchall() == [(1, "yz"), (2, "$1,$2")]
