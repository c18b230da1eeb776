"""Crashes at exact places inside the engine (see crash_at.py): after a restart
every relation is either as the acknowledged statements left it or as the
unacknowledged one would, never something in between."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import sqlstream

ROOT = Path(__file__).resolve().parents[2]

T_ROWS = sorted([(i, i % 3) for i in range(1, 51)] + [(100, 7)])
U_ROWS = sorted([(1, 10), (1, 20), (2, 5), (3, 1)])


def crash(data_dir: Path, point: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "tests.recovery.crash_at", str(data_dir), point],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert "ready" in proc.stdout, proc.stderr[-3000:]
    assert proc.returncode == 9, (proc.returncode, proc.stderr[-3000:])
    return proc.stdout


def rows(conn: sqlstream.Connection, sql: str) -> list[tuple]:
    return sorted(conn.execute(sql).fetchall())


def check_views(conn: sqlstream.Connection, tables: list[str]) -> None:
    if "t" in tables:
        assert rows(conn, "SELECT * FROM tv") == rows(
            conn, "SELECT v, count(*) FROM t GROUP BY v")
    assert rows(conn, "SELECT * FROM uv") == rows(conn, "SELECT g, sum(w) FROM u GROUP BY g")


def test_crash_during_drop_leaves_the_table_whole_or_gone(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    crash(data_dir, "drop")
    with sqlstream.connect(str(data_dir)) as conn:
        conn.execute("FLUSH")
        tables = [r[0] for r in conn.execute("SHOW TABLES").fetchall()]
        if "t" in tables:
            assert rows(conn, "SELECT * FROM t") == T_ROWS
        assert rows(conn, "SELECT * FROM u") == U_ROWS
        check_views(conn, tables)
        # Whatever survived still works, and the name can be reused.
        conn.execute("DROP TABLE IF EXISTS t CASCADE")
        conn.execute("CREATE TABLE t (k int PRIMARY KEY, v int)")
        conn.execute("INSERT INTO t VALUES (1, 1); FLUSH")
        assert rows(conn, "SELECT * FROM t") == [(1, 1)]


@pytest.mark.parametrize("point", ["serving", "feed"])
def test_crash_in_a_checkpoint_or_a_statement_keeps_acknowledged_rows(
        tmp_path: Path, point: str) -> None:
    data_dir = tmp_path / "data"
    crash(data_dir, point)
    with sqlstream.connect(str(data_dir)) as conn:
        conn.execute("FLUSH")
        assert rows(conn, "SELECT * FROM t") == T_ROWS
        u = rows(conn, "SELECT * FROM u")
        # The INSERT in flight at a "feed" crash was logged: it may be applied, whole.
        assert u == U_ROWS or (point == "feed" and u == sorted(U_ROWS + [(9, 9)]))
        check_views(conn, ["t", "u"])
        conn.execute("INSERT INTO u VALUES (1, 1); UPDATE t SET v = 0 WHERE k = 100; FLUSH")
        check_views(conn, ["t", "u"])
