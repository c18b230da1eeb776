"""A statement DuckDB's serving store cannot hold is refused before anything is recorded,
and a data directory with a relation that cannot be started still opens, with that
relation reported broken and the rest intact."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

import sqlstream
from tests.netutil import free_port
from tests.sqlstream.malformed import CONTENTS, SETUP, wire_corpus

BAD = [
    ("CREATE TABLE sc", "42601"),
    ("CREATE TABLE sc ()", "0A000"),
    ('CREATE TABLE "" (k int)', "42602"),
    ('CREATE TABLE "we""ird" ("" int)', "42602"),
    ('CREATE MATERIALIZED VIEW "" AS SELECT k FROM keep', "42602"),
    ('CREATE MATERIALIZED VIEW mv AS SELECT k AS "" FROM keep', "42602"),
    ("CREATE TABLE t (k nosuchtype)", "0A000"),
]


def _setup(cur: sqlstream.Cursor) -> None:
    cur.execute("CREATE TABLE keep (k int)")
    cur.execute("INSERT INTO keep VALUES (1), (2), (3)")


def _check_after_restart(cur: sqlstream.Cursor) -> None:
    cur.execute("SELECT k FROM keep ORDER BY k")
    assert cur.fetchall() == [(1,), (2,), (3,)]
    cur.execute("SELECT count(*) FROM later_t")
    assert cur.fetchall() == [(0,)]
    cur.execute("SELECT name, status FROM sys.relations ORDER BY id")
    assert cur.fetchall() == [("keep", "ok"), ("later_t", "ok")]


@pytest.mark.parametrize("stmt,code", BAD)
def test_bad_ddl_is_refused_and_the_directory_reopens(tmp_path: Path, stmt: str,
                                                      code: str) -> None:
    with sqlstream.connect(str(tmp_path)) as conn:
        cur = conn.cursor()
        _setup(cur)
        with pytest.raises(sqlstream.Error) as info:
            cur.execute(stmt)
        assert info.value.sqlstate == code
        cur.execute("CREATE TABLE later_t (k int)")
        cur.execute("FLUSH")
    with sqlstream.connect(str(tmp_path)) as conn:
        _check_after_restart(conn.cursor())


def _break_view(path: Path, name: str) -> None:
    """Edit the recorded catalog so that view `name` no longer plans."""
    db = sqlite3.connect(path / "sqlstream.db")
    (text,) = db.execute("SELECT v FROM meta WHERE k = 'catalog'").fetchone()
    catalog = json.loads(text)
    for rel in catalog["relations"]:
        if rel["name"] == name:
            rel["definition"] = f"CREATE MATERIALIZED VIEW {name} AS SELECT nosuchfn(k) AS k FROM keep"
    db.execute("UPDATE meta SET v = ? WHERE k = 'catalog'", (json.dumps(catalog),))
    db.commit()
    db.close()


def test_a_relation_that_cannot_start_is_reported_broken(tmp_path: Path) -> None:
    with sqlstream.connect(str(tmp_path)) as conn:
        cur = conn.cursor()
        _setup(cur)
        cur.execute("CREATE MATERIALIZED VIEW v AS SELECT k FROM keep")
        cur.execute("CREATE MATERIALIZED VIEW w AS SELECT count(*) AS n FROM v")
        cur.execute("CREATE MATERIALIZED VIEW ok_v AS SELECT sum(k) AS s FROM keep")
        cur.execute("FLUSH")
    _break_view(tmp_path, "v")
    with sqlstream.connect(str(tmp_path)) as conn:
        cur = conn.cursor()
        cur.execute("SELECT name, status FROM sys.relations ORDER BY id")
        assert cur.fetchall() == [("keep", "ok"), ("v", "broken"), ("w", "broken"),
                                  ("ok_v", "ok")]
        for query in ("SELECT * FROM v", "SELECT * FROM w",
                      "CREATE MATERIALIZED VIEW v2 AS SELECT * FROM v",
                      "ALTER MATERIALIZED VIEW w SET PARALLELISM = 2"):
            with pytest.raises(sqlstream.Error) as info:
                cur.execute(query)
            assert info.value.sqlstate == "55000"
            assert "broken" in str(info.value)
        cur.execute("INSERT INTO keep VALUES (4)")
        cur.execute("FLUSH")
        cur.execute("SELECT s FROM ok_v")
        assert cur.fetchall() == [(10,)]
        cur.execute("DROP MATERIALIZED VIEW v CASCADE")
        cur.execute("CREATE MATERIALIZED VIEW v AS SELECT k FROM keep")
        cur.execute("FLUSH")
        cur.execute("SELECT count(*) FROM v")
        assert cur.fetchall() == [(4,)]
    with sqlstream.connect(str(tmp_path)) as conn:
        cur = conn.cursor()
        cur.execute("SELECT name, status FROM sys.relations ORDER BY id")
        assert cur.fetchall() == [("keep", "ok"), ("ok_v", "ok"), ("v", "ok")]


def _serve(data_dir: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "repl.main", "serve", "--data-dir",
                             str(data_dir), "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError("sqlstream serve did not start: "
                                     + proc.communicate()[1].decode()[-2000:])
            time.sleep(0.1)


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(20) is not None
    finally:
        if proc.poll() is None:
            proc.kill()


def test_bad_ddl_over_the_wire_then_sigterm_and_restart(tmp_path: Path) -> None:
    port = free_port()
    dsn = f"host=127.0.0.1 port={port} user=root dbname=dev connect_timeout=5"
    proc = _serve(tmp_path, port)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE keep (k int)")
            conn.execute("INSERT INTO keep VALUES (1), (2), (3)")
            for stmt, code in BAD:
                with pytest.raises(psycopg.Error) as info:
                    conn.execute(stmt)
                assert info.value.sqlstate == code, stmt
            conn.execute("CREATE TABLE later_t (k int)")
            for sql in SETUP:
                conn.execute(sql)
            for sql in wire_corpus():
                try:
                    conn.execute(sql)
                except psycopg.Error as e:
                    assert e.sqlstate and e.sqlstate[:2] not in ("XX", "08"), (sql[:100], e)
            conn.execute("FLUSH")
    finally:
        _stop(proc)
    proc = _serve(tmp_path, port)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            assert conn.execute("SELECT k FROM keep ORDER BY k").fetchall() == [(1,), (2,), (3,)]
            assert conn.execute("SELECT k, v FROM s WHERE k <= 4 ORDER BY k").fetchall() == CONTENTS
            assert conn.execute("SELECT sum(n) FROM sv WHERE v IN ('one', 'two', 'three', 'four')"
                                ).fetchone() == (4,)
            assert conn.execute("SELECT name, status FROM sys.relations ORDER BY id"
                                ).fetchall()[:5] == [("keep", "ok"), ("later_t", "ok"), ("s", "ok"),
                                                     ("sv", "ok"), ("w", "ok")]
    finally:
        _stop(proc)


def test_sigterm_stops_the_server_while_a_long_statement_runs(tmp_path: Path) -> None:
    port = free_port()
    dsn = f"host=127.0.0.1 port={port} user=root dbname=dev connect_timeout=5"
    proc = _serve(tmp_path, port)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE keep (k int)")
            conn.execute("INSERT INTO keep VALUES (1), (2), (3)")
        long = psycopg.connect(dsn, autocommit=True)
        long.pgconn.send_query(("SELECT k IN (" + ",".join(["1"] * 300_000) + ") FROM keep"
                                ).encode())
        time.sleep(1)
        with psycopg.connect(dsn, autocommit=True) as conn:  # DDL is not held up
            started = time.monotonic()
            conn.execute("CREATE MATERIALIZED VIEW kv AS SELECT count(*) AS n FROM keep")
            assert time.monotonic() - started < 3
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        # Well under the 20 s it took when shutdown waited for the parse (the bound leaves
        # room for a loaded machine: the parse thread competes for the interpreter lock).
        assert time.monotonic() - started < 8
        long.close()
    finally:
        if proc.poll() is None:
            proc.kill()
    proc = _serve(tmp_path, port)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            assert conn.execute("SELECT n FROM kv").fetchall() == [(3,)]
    finally:
        _stop(proc)
