"""A statement's rows land in one epoch: a read running while a large INSERT is being
fed through a slow graph sees all of the statement or none of it."""

from __future__ import annotations

import threading

import sqlstream


def test_reads_never_see_part_of_a_statement(tmp_path) -> None:
    # Short barrier interval and small exchanges: without the guarantee, many barriers
    # would land between the statement's chunks.
    path = str(tmp_path / "db")
    db = sqlstream.connect(path, barrier_interval_ms=20, exchange_capacity=256, chunk_size=128)
    try:
        db.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, g INT)")
        db.execute("CREATE MATERIALIZED VIEW per_g AS SELECT g, count(*) AS n FROM t GROUP BY g")
        db.execute("CREATE MATERIALIZED VIEW total AS SELECT count(*) AS n FROM t")
        seen: list[tuple[int, int]] = []
        done = threading.Event()

        def reader() -> None:
            with sqlstream.connect(path) as conn:
                while not done.is_set():
                    seen.append(conn.execute(
                        "SELECT (SELECT coalesce(sum(n), 0) FROM per_g), "
                        "(SELECT coalesce(max(n), 0) FROM total)").fetchone())

        statements = 8
        rows = 30_000
        th = threading.Thread(target=reader)
        th.start()
        try:
            for s in range(statements):
                db.execute(f"INSERT INTO t SELECT g, g % 10 FROM generate_series("
                           f"{s * rows + 1}, {(s + 1) * rows}) AS x(g)")
            db.execute("FLUSH")
        finally:
            done.set()
            th.join(30)
        assert len(seen) > 3, "the reader should have run during the inserts"
        allowed = {k * rows for k in range(statements + 1)}
        partial = [v for v in seen if v[0] not in allowed or v[1] != v[0]]
        assert not partial, f"reads saw part of a statement (or two epochs): {partial[:5]}"
        final = db.execute("SELECT sum(n) FROM per_g").fetchone()[0]
        assert final == statements * rows
    finally:
        db.close()
