"""A view keeps the plan shape it was created with across restarts: state tables
and source offsets are named by operator position, so a view created by a build
without source column pruning (shape 1) must be planned the old way when a newer
build opens it, or its source would be read again into rows it already holds."""

from __future__ import annotations

from pathlib import Path

import pytest

import sqlstream
from planner import plan_shape

VIEW = ("CREATE MATERIALIZED VIEW v AS SELECT auction, price FROM bid "
        "WHERE price > 10")


def _source(root: Path) -> str:
    return (f"CREATE SOURCE bid (auction BIGINT, price BIGINT, extra VARCHAR) WITH ("
            f"connector = 'posix_fs', posix_fs.root = '{root}', match_pattern = '*.csv') "
            f"FORMAT PLAIN ENCODE CSV (without_header = 'false')")


def _wait_rows(conn: sqlstream.Connection, n: int) -> int:
    got = -1
    for _ in range(100):
        conn.execute("FLUSH")
        got = conn.execute("SELECT count(*) FROM v").fetchone()[0]
        if got >= n:
            break
    return got


PRUNED = "connector: posix_fs, columns: [auction, price]"


def _running_plan(conn: sqlstream.Connection) -> str:
    """The plan the engine runs for view v."""
    db = conn.database
    rel = db.catalog.require("v")
    return db.runtime.relations[rel.id].plan.explain()


def _explain(conn: sqlstream.Connection) -> str:
    return "\n".join(r[0] for r in conn.execute(f"EXPLAIN {VIEW}").fetchall())


def test_a_view_from_an_older_shape_reopens_without_reading_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files, data = tmp_path / "files", tmp_path / "db"
    files.mkdir()
    (files / "a.csv").write_text("auction,price,extra\n" + "".join(
        f"{i},{i % 50},x{i}\n" for i in range(400)))
    want = sum(1 for i in range(400) if i % 50 > 10)
    with monkeypatch.context() as m:
        m.setattr(plan_shape, "CURRENT", 1)  # the view is created as an older build would
        conn = sqlstream.connect(str(data))
        conn.execute(_source(files))
        conn.execute(VIEW)
        assert PRUNED not in _running_plan(conn)  # shape 1: no pruning
        assert _wait_rows(conn, want) == want
        conn.close()
    conn = sqlstream.connect(str(data))
    try:
        # New views prune; the existing one is still planned with its own shape.
        assert PRUNED in _explain(conn) and PRUNED not in _running_plan(conn)
        (files / "b.csv").write_text("auction,price,extra\n1000,40,y\n")
        assert _wait_rows(conn, want + 1) == want + 1
        assert conn.execute("SELECT count(*) FROM v").fetchone()[0] == want + 1
    finally:
        conn.close()
