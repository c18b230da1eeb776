"""UNION [ALL] CORRESPONDING [BY (...)] matches the operands' columns by name (SQL
standard), in views and in batch queries alike."""

from __future__ import annotations

from typing import Iterator

import pytest

from planner.errors import Error
from sqlstream.database import Database
from sqlstream.session import Session


@pytest.fixture
def s() -> Iterator[Session]:
    db = Database.open(None)
    sess = db.session()
    sess.execute("CREATE TABLE t (a INT, b INT, c INT)")
    sess.execute("CREATE TABLE u (b INT, d INT, a INT)")
    sess.execute("INSERT INTO t VALUES (1, 2, 3)")
    sess.execute("INSERT INTO u VALUES (20, 0, 10)")
    sess.execute("FLUSH")
    yield sess
    db.close()


CASES = [
    # common columns, in the left operand's order
    ("SELECT a, b, c FROM t UNION ALL CORRESPONDING SELECT b, d, a FROM u",
     ["a", "b"], [(1, 2), (10, 20)]),
    ("SELECT * FROM t UNION ALL CORRESPONDING SELECT * FROM u",
     ["a", "b"], [(1, 2), (10, 20)]),
    # BY: the listed columns, in the listed order
    ("SELECT a, b FROM t UNION ALL CORRESPONDING BY (b, a) SELECT b, a FROM u",
     ["b", "a"], [(2, 1), (20, 10)]),
    # nested, with DISTINCT and an alias deciding the match
    ("SELECT a, b FROM t UNION CORRESPONDING SELECT b, a FROM u "
     "UNION ALL CORRESPONDING SELECT c AS b FROM t",
     ["b"], [(2,), (3,), (20,)]),
]


@pytest.mark.parametrize("sql,names,rows", CASES)
def test_columns_match_by_name_in_views_and_batch(s: Session, sql: str, names: list[str],
                                                   rows: list[tuple]) -> None:
    got = s.execute(sql)[0]
    assert sorted(got.rows) == rows
    assert [c.name for c in got.columns] == names
    s.execute(f"CREATE MATERIALIZED VIEW v AS {sql}")
    s.execute("FLUSH")
    got = s.execute("SELECT * FROM v")[0]
    assert sorted(got.rows) == rows
    assert [c.name for c in got.columns] == names


@pytest.mark.parametrize("sql,sqlstate", [
    ("SELECT c FROM t UNION ALL CORRESPONDING SELECT d FROM u", "42601"),
    ("SELECT a FROM t UNION ALL CORRESPONDING BY (c) SELECT a FROM u", "42703"),
    ("SELECT a, b AS a FROM t UNION ALL CORRESPONDING SELECT a FROM u", "42702"),
    ("SELECT a FROM t UNION ALL BY NAME SELECT a FROM u", "0A000"),
])
def test_bad_corresponding_is_an_error(s: Session, sql: str, sqlstate: str) -> None:
    for stmt in (sql, f"CREATE MATERIALIZED VIEW v AS {sql}"):
        with pytest.raises(Error) as e:
            s.execute(stmt)
        assert e.value.sqlstate == sqlstate, stmt
