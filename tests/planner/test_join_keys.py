"""Joins whose equality sides are expressions (`mod(a.x, 10) = b.k`, a cast of one
side) hash on computed key columns instead of testing every pair of rows: the plan
shows the keys, and the view equals DuckDB's answer through inserts and deletes."""

from __future__ import annotations

import pytest

import sqlstream
from tests.differential.oracle import run_program

TABLES = [("a", "CREATE TABLE a (id INT PRIMARY KEY, x INT, y INT)"),
          ("b", "CREATE TABLE b (k BIGINT PRIMARY KEY, v VARCHAR, d NUMERIC(10, 2))")]
VIEWS: dict[str, tuple[str, str | None]] = {
    "j_mod": ("SELECT a.id, b.v FROM a JOIN b ON mod(a.x, 10) = b.k", None),
    "j_both": ("SELECT a.id, b.k FROM a JOIN b ON a.x + 1 = b.k * 2 AND a.y < b.k", None),
    "j_cast": ("SELECT a.id, b.k FROM a JOIN b ON a.y::numeric = b.d", None),
    "j_left": ("SELECT a.id, b.v FROM a LEFT JOIN b ON a.x % 7 = b.k - 1", None),
    "j_full": ("SELECT a.id, b.k FROM a FULL JOIN b ON abs(a.x) = b.k", None),
    "j_semi": ("SELECT a.id FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.k = a.x % 5)", None),
    "j_anti": ("SELECT a.id FROM a WHERE NOT EXISTS "
               "(SELECT 1 FROM b WHERE b.k + 1 = a.y)", None),
    "j_agg": ("SELECT b.v, count(*) AS n FROM a JOIN b ON a.x % 10 = b.k GROUP BY b.v", None),
}


def _program() -> list[str]:
    stmts = ["INSERT INTO b VALUES " + ", ".join(
        f"({k}, 'v{k % 4}', {k % 6}.00)" for k in range(-3, 12))]
    stmts.append("INSERT INTO a VALUES " + ", ".join(
        f"({i}, {(i * 37) % 41 - 20}, {(i * 13) % 9})" for i in range(60)))
    stmts.append("FLUSH")
    stmts.append("DELETE FROM b WHERE k % 3 = 0")
    stmts.append("UPDATE a SET x = x + 3 WHERE id % 4 = 1")
    stmts.append("INSERT INTO a VALUES (100, NULL, 2), (101, 5, NULL)")
    stmts.append("FLUSH")
    stmts.append("INSERT INTO b VALUES (0, 'again', 2.00), (3, 'three', NULL)")
    stmts.append("DELETE FROM a WHERE id < 20")
    stmts.append("FLUSH")
    return stmts


@pytest.mark.parametrize("parallelism", [1, 3])
def test_expression_keyed_joins_equal_duckdb(parallelism: int) -> None:
    run_program(TABLES, VIEWS, _program(), parallelism)


def test_expression_keys_are_hash_keys_in_the_plan() -> None:
    conn = sqlstream.connect()
    try:
        for _name, ddl in TABLES:
            conn.execute(ddl)
        for name in ("j_mod", "j_both", "j_cast", "j_semi"):
            plan = "\n".join(r[0] for r in conn.execute(
                f"EXPLAIN CREATE MATERIALIZED VIEW {name} AS {VIEWS[name][0]}").fetchall())
            join = next(line for line in plan.splitlines() if "Join" in line)
            assert "keys: []" not in join and "keys:" in join, plan
    finally:
        conn.close()
