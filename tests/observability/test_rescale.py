"""ALTER MATERIALIZED VIEW v SET PARALLELISM = n: state regrouped, results unchanged,
and the view keeps updating (also after a restart)."""

from __future__ import annotations

import pytest

from planner.errors import Error
from sqlstream.database import Database

VIEW = "CREATE MATERIALIZED VIEW v AS SELECT k, count(*) AS c, sum(v) AS s FROM t GROUP BY k"
ORACLE = "SELECT k, count(*), sum(v) FROM t GROUP BY k"


def rows(s, sql: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    return sorted(s.execute(sql)[0].rows)


def test_rescale_keeps_results_and_updates(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "db")
    db = Database.open(path)
    s = db.session()
    s.execute("CREATE TABLE t (k INT, v INT)")
    s.execute(VIEW)
    s.execute("INSERT INTO t VALUES " + ",".join(f"({i % 13}, {i})" for i in range(1000)))
    s.execute("FLUSH")
    for n, lo in ((3, 0), (1, 100), (4, 200)):
        s.execute(f"ALTER MATERIALIZED VIEW v SET PARALLELISM = {n}")
        assert rows(s, "SELECT * FROM v") == rows(s, ORACLE)
        assert rows(s, "SELECT parallelism FROM sys.fragments WHERE relation = 'v'") == \
            [(n,), (n,)]
        # Keys now owned by other actors still get their updates and deletes.
        s.execute("INSERT INTO t VALUES " + ",".join(f"({i % 17}, {i})" for i in range(300)))
        s.execute(f"DELETE FROM t WHERE v >= {lo} AND v < {lo + 50}")
        s.execute("FLUSH")
        assert rows(s, "SELECT * FROM v") == rows(s, ORACLE)
    db.close()
    db = Database.open(path)
    try:
        s = db.session()
        assert rows(s, "SELECT parallelism FROM sys.fragments WHERE relation = 'v'") == \
            [(4,), (4,)]
        assert rows(s, "SELECT * FROM v") == rows(s, ORACLE)
        s.execute("DELETE FROM t WHERE k = 3")
        s.execute("FLUSH")
        assert rows(s, "SELECT * FROM v") == rows(s, ORACLE)
    finally:
        db.close()


def test_rescale_refusals() -> None:
    db = Database.open(None)
    try:
        s = db.session()
        s.execute("CREATE TABLE t (k INT, v INT)")
        s.execute(VIEW)
        s.execute("CREATE MATERIALIZED VIEW w AS SELECT k FROM v")
        with pytest.raises(Error) as e:
            s.execute("ALTER MATERIALIZED VIEW v SET PARALLELISM = 2")
        assert e.value.sqlstate == "0A000"
        with pytest.raises(Error) as e:
            s.execute("ALTER MATERIALIZED VIEW nope SET PARALLELISM = 2")
        assert e.value.sqlstate == "42P01"
    finally:
        db.close()
