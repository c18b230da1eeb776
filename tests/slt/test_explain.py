"""EXPLAIN CREATE MATERIALIZED VIEW: runs without creating anything, names the
operators, fragments, exchanges with their distribution and stream keys, and prints
the same text every time (the exact text is generated, so only its parts are checked)."""

from __future__ import annotations

import pytest

import sqlstream


@pytest.fixture(scope="module")
def conn() -> sqlstream.Connection:
    with sqlstream.connect(barrier_interval_ms=20) as c:
        c.execute("CREATE TABLE o (id int PRIMARY KEY, cid int, amount int)")
        c.execute("CREATE TABLE c (id int PRIMARY KEY, name varchar)")
        yield c


def explain(conn: sqlstream.Connection, query: str) -> str:
    cur = conn.execute(f"EXPLAIN CREATE MATERIALIZED VIEW v AS {query}")
    assert cur.description is not None and len(cur.description) == 1
    return "\n".join(row[0] for row in cur.fetchall())


@pytest.mark.parametrize("query, operators", [
    ("SELECT c.name, sum(o.amount) AS s FROM o JOIN c ON o.cid = c.id GROUP BY c.name",
     ["StreamHashJoin", "StreamHashAgg", "StreamTableScan", "StreamMaterialize"]),
    ("SELECT id FROM o WHERE amount > 10", ["StreamFilter", "StreamMaterialize"]),
    ("SELECT id, amount FROM o ORDER BY amount DESC LIMIT 3", ["StreamTopN"]),
    ("SELECT DISTINCT cid FROM o", ["StreamDistinct"]),
    ("SELECT id FROM o UNION ALL SELECT id FROM c", ["StreamUnion"]),
    ("SELECT id FROM c WHERE id IN (SELECT cid FROM o)", ["StreamSemiAntiJoin { type: semi"]),
    ("SELECT id FROM c WHERE NOT EXISTS (SELECT 1 FROM o WHERE o.cid = c.id)", ["StreamSemiAntiJoin { type: anti"]),
])
def test_explain_names_the_operators(conn: sqlstream.Connection, query: str,
                                     operators: list[str]) -> None:
    text = explain(conn, query)
    for op in operators:
        assert op in text, f"{op} missing from:\n{text}"
    assert "Fragment" in text and "stream key" in text
    assert explain(conn, query) == text  # deterministic


def test_explain_shows_hash_exchanges_on_the_join_keys(conn: sqlstream.Connection) -> None:
    text = explain(conn, "SELECT c.name, o.amount FROM o JOIN c ON o.cid = c.id")
    exchanges = [line for line in text.splitlines() if "StreamExchange" in line]
    assert len(exchanges) == 2
    assert all("distribution: hash(" in line for line in exchanges)


def test_explain_creates_nothing(conn: sqlstream.Connection) -> None:
    explain(conn, "SELECT id FROM o")
    names = [r[0] for r in conn.execute("SHOW MATERIALIZED VIEWS").fetchall()]
    assert "v" not in names
    with pytest.raises(sqlstream.ProgrammingError) as err:
        conn.execute("SELECT * FROM v")
    assert err.value.sqlstate == "42P01"
