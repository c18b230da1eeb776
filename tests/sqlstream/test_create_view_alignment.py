"""A view created over a table and over a view that lags behind that table: its
edges must all start at the same barrier (the lagging view is several epochs behind
the table when the new view subscribes)."""

from __future__ import annotations

import sqlstream


def test_join_of_a_table_and_a_lagging_view_over_it() -> None:
    db = sqlstream.connect(barrier_interval_ms=5, exchange_capacity=4096)
    try:
        db.execute("CREATE TABLE ev (id INT PRIMARY KEY, kind INT, amount INT)")
        # Slow per row: it falls behind the table by many barriers.
        db.execute("CREATE MATERIALIZED VIEW per_kind AS SELECT kind, count(*) AS n, "
                   "max(md5(md5(md5(CAST(amount AS VARCHAR))))) AS h FROM ev GROUP BY kind")
        for round_ in range(3):
            base = round_ * 20_000
            db.execute(f"INSERT INTO ev SELECT g, g % 5, g FROM generate_series({base + 1}, "
                       f"{base + 20_000}) AS s(g)")
            name = f"joined_{round_}"
            db.execute(f"CREATE MATERIALIZED VIEW {name} AS SELECT e.kind, p.n "
                       f"FROM ev e JOIN per_kind p ON e.kind = p.kind")
            db.execute("FLUSH")
            got = db.execute(f"SELECT count(*), min(n), max(n) FROM {name}").fetchone()
            rows = base + 20_000
            assert got == (rows, rows // 5, rows // 5)
    finally:
        db.close()
