"""EXPLAIN of a batch SELECT: the plan in the stream plans' style, in terms of the
user's relations (no DuckDB-internal names); DuckDB's own plan with EXPLAIN (VERBOSE).
Also over the wire protocol, as psql shows it."""

from __future__ import annotations

import doctest
import shutil
import subprocess

import pytest

import planner.batch_explain
import sqlstream
from tests.pgwire.conftest import RunningServer, start_server


@pytest.fixture(scope="module")
def conn() -> sqlstream.Connection:
    with sqlstream.connect(barrier_interval_ms=20) as c:
        c.execute("CREATE TABLE orders (id int PRIMARY KEY, customer varchar, amount int)")
        c.execute("CREATE TABLE customers (name varchar PRIMARY KEY, city varchar)")
        c.execute("CREATE MATERIALIZED VIEW totals AS SELECT customer, sum(amount) AS total "
                  "FROM orders GROUP BY customer")
        yield c


def explain(conn: sqlstream.Connection, query: str) -> list[str]:
    return [r[0] for r in conn.execute(f"EXPLAIN {query}").fetchall()]


def test_join_aggregate_top_n(conn: sqlstream.Connection) -> None:
    assert explain(conn, "SELECT c.city, count(*) AS n FROM orders o JOIN customers c "
                         "ON o.customer = c.name WHERE o.amount > 3 GROUP BY c.city "
                         "ORDER BY n DESC LIMIT 3") == [
        "BatchTopN { order: [n DESC], limit: 3 }",
        "└─ BatchProject { exprs: [c.city, count(*) AS n] }",
        "   └─ BatchHashAgg { group_key: [c.city], aggs: [count(*)] }",
        "      └─ BatchFilter { predicate: o.amount > 3 }",
        "         └─ BatchHashJoin { type: inner, condition: o.customer = c.name }",
        "            └─ BatchScan { table: orders, alias: o, columns: [customer, amount] }",
        "            └─ BatchScan { table: customers, alias: c, columns: [name, city] }",
    ]


def test_ctes_unions_views_and_system_tables(conn: sqlstream.Connection) -> None:
    assert explain(conn, "WITH big AS (SELECT customer FROM totals WHERE total > 10) "
                         "SELECT customer FROM big UNION ALL SELECT name FROM customers") == [
        "BatchUnion { all: true }",
        "└─ BatchProject { exprs: [customer] }",
        "   └─ BatchProject { exprs: [customer] }",
        "      └─ BatchFilter { predicate: total > 10 }",
        "         └─ BatchScan { table: totals, columns: [customer, total] }",
        "└─ BatchProject { exprs: [name] }",
        "   └─ BatchScan { table: customers, columns: [name] }",
    ]
    assert explain(conn, "SELECT relation, max(busy_ratio) FROM sys.actors "
                         "GROUP BY relation") == [
        "BatchProject { exprs: [relation, max(busy_ratio)] }",
        "└─ BatchHashAgg { group_key: [relation], aggs: [max(busy_ratio)] }",
        "   └─ BatchScan { table: sys.actors, columns: [relation, busy_ratio] }",
    ]
    windowed = explain(conn, "SELECT DISTINCT customer, rank() OVER (ORDER BY amount) "
                             "FROM orders LEFT JOIN customers ON customer = name")
    assert windowed[0] == "BatchDistinct { keys: all columns }"
    assert "BatchOverWindow { window_functions: [rank() OVER (ORDER BY amount)] }" in \
        windowed[2]
    assert "BatchHashJoin { type: left, condition: customer = name }" in windowed[3]


def test_no_internal_names_and_verbose_shows_duckdb(conn: sqlstream.Connection) -> None:
    plain = "\n".join(explain(conn, "SELECT * FROM orders WHERE id IN "
                                    "(SELECT 1 FROM customers)"))
    assert "_ss" not in plain and "__duckdb" not in plain and "memory." not in plain
    verbose = "\n".join(explain(conn, "(VERBOSE) SELECT * FROM orders"))
    assert "SEQ_SCAN" in verbose.upper().replace(" ", "_")
    assert verbose == "\n".join(explain(conn, "VERBOSE SELECT * FROM orders"))


def test_errors_are_those_of_the_query(conn: sqlstream.Connection) -> None:
    with pytest.raises(sqlstream.ProgrammingError) as e:
        explain(conn, "SELECT * FROM nothing_here")
    assert e.value.sqlstate == "42P01"


def test_doctest() -> None:
    result = doctest.testmod(planner.batch_explain)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql not installed")
def test_psql_shows_the_plan() -> None:
    server = start_server()
    try:
        _psql_explain(server)
    finally:
        server.close()


def _psql_explain(server: RunningServer) -> None:
    cmd = ["psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(server.port), "-U", "root",
           "-d", "dev", "-c", "EXPLAIN SELECT g FROM generate_series(1, 3) AS g ORDER BY g"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=server.env())
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "BatchSort { order: [g] }",
        "└─ BatchProject { exprs: [g] }",
        "   └─ BatchTableFunction { function: generate_series(1, 3) }",
    ]
