"""Plain views, RETURNING, array_agg, COMMENT ON and SHOW CREATE over the wire:
psycopg (text and binary results) and psql's \\d listings."""

from __future__ import annotations

import shutil
import subprocess

import psycopg
import pytest

from tests.pgwire.conftest import RunningServer


@pytest.fixture(scope="module")
def conn(server: RunningServer):
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        c.execute("CREATE TABLE wf_orders (id INT PRIMARY KEY, who VARCHAR, amount INT "
                  "DEFAULT 1) ON CONFLICT OVERWRITE")
        c.execute("CREATE VIEW wf_totals AS SELECT who, sum(amount) AS total FROM wf_orders "
                  "GROUP BY who")
        c.execute("CREATE MATERIALIZED VIEW wf_lists AS SELECT who, array_agg(id ORDER BY id) "
                  "AS ids FROM wf_orders GROUP BY who")
        c.execute("COMMENT ON VIEW wf_totals IS 'spent per person'")
        yield c


def test_returning_over_the_wire(conn: psycopg.Connection) -> None:
    cur = conn.execute("INSERT INTO wf_orders (id, who) VALUES (1, 'ann'), (2, 'bob') "
                       "RETURNING id, who, amount")
    assert cur.fetchall() == [(1, "ann", 1), (2, "bob", 1)]
    assert cur.statusmessage == "INSERT 0 2"
    cur = conn.execute("UPDATE wf_orders SET amount = amount + %s WHERE id = %s RETURNING *",
                       (9, 2))
    assert cur.fetchall() == [(2, "bob", 10)]
    assert cur.statusmessage == "UPDATE 1"


def test_view_and_array_agg_text_and_binary(conn: psycopg.Connection) -> None:
    conn.execute("INSERT INTO wf_orders VALUES (3, 'ann', 5), (1, 'ann', 2)")
    conn.execute("FLUSH")
    assert conn.execute("SELECT * FROM wf_totals ORDER BY who").fetchall() == [
        ("ann", 7), ("bob", 10)]
    for binary in (False, True):
        cur = conn.cursor(binary=binary)
        rows = cur.execute("SELECT who, ids FROM wf_lists ORDER BY who").fetchall()
        assert rows == [("ann", [1, 3]), ("bob", [2])]


def test_show_create_and_refusals(conn: psycopg.Connection) -> None:
    row = conn.execute("SHOW CREATE VIEW wf_totals").fetchone()
    assert row == ("public.wf_totals", "CREATE VIEW wf_totals AS SELECT who, sum(amount) AS "
                   "total FROM wf_orders GROUP BY who")
    with pytest.raises(psycopg.errors.DependentObjectsStillExist):
        conn.execute("DROP TABLE wf_orders")
    with pytest.raises(psycopg.errors.FeatureNotSupported):
        conn.execute("COMMENT ON INDEX x IS 'y'")


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql not installed")
def test_psql_lists_the_view(conn: psycopg.Connection, server: RunningServer) -> None:
    def psql(*args: str) -> str:
        r = subprocess.run(["psql", "-X", "-h", "127.0.0.1", "-p", str(server.port), "-U",
                            "root", "-d", "dev", *args], capture_output=True, text=True,
                           timeout=30, env=server.env())
        assert r.returncode == 0, r.stderr
        return r.stdout
    listing = {tuple(c.strip() for c in line.split("|")) for line in psql("-c", "\\d")
               .splitlines()}
    assert ("public", "wf_totals", "view", "root") in listing
    assert "wf_totals" in psql("-c", "\\dv") and "wf_orders" not in psql("-c", "\\dv")
    described = psql("-c", "\\dv+ wf_totals")
    assert "spent per person" in described


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql not installed")
def test_defaults_in_psql_and_column_comments(conn: psycopg.Connection,
                                                 server: RunningServer) -> None:
    conn.execute("COMMENT ON COLUMN wf_orders.who IS 'the buyer'")
    r = subprocess.run(["psql", "-X", "-h", "127.0.0.1", "-p", str(server.port), "-U", "root",
                        "-d", "dev", "-c", "\\d wf_orders"], capture_output=True, text=True,
                       timeout=30, env=server.env())
    assert r.returncode == 0, r.stderr
    rows = [[c.strip() for c in line.split("|")] for line in r.stdout.splitlines()]
    amount = next(row for row in rows if row[0] == "amount")
    assert "1" in amount  # the Default column
    got = conn.execute("SELECT col_description('wf_orders'::regclass, 2)").fetchone()
    assert got == ("the buyer",)
    got = conn.execute("SELECT column_default FROM information_schema.columns WHERE "
                       "table_name = 'wf_orders' AND column_name = 'amount'").fetchone()
    assert got == ("1",)
