"""inline_ctes: its doctests, and the cases that must be refused."""

from __future__ import annotations

import doctest

import pytest
import sqlglot

import planner.inline_ctes
from planner.errors import Error
from planner.inline_ctes import inline_ctes


def test_doctests() -> None:
    assert doctest.testmod(planner.inline_ctes).failed == 0


def test_later_cte_reads_earlier_and_subqueries_see_ctes() -> None:
    q = sqlglot.parse_one("WITH a AS (SELECT x FROM t), b AS (SELECT x FROM a) "
                          "SELECT x FROM b WHERE x IN (SELECT x FROM a)", read="postgres")
    out = inline_ctes(q).sql()
    assert "WITH" not in out
    assert out == ("SELECT x FROM (SELECT x FROM (SELECT x FROM t) AS a) AS b "
                   "WHERE x IN (SELECT x FROM (SELECT x FROM t) AS a)")


@pytest.mark.parametrize("sql, state", [
    ("WITH RECURSIVE r AS (SELECT 1) SELECT * FROM r", "0A000"),
    ("WITH s(a, b) AS (SELECT 1) SELECT a FROM s", "42P10"),
])
def test_refused(sql: str, state: str) -> None:
    with pytest.raises(Error) as err:
        inline_ctes(sqlglot.parse_one(sql, read="postgres"))
    assert err.value.sqlstate == state
