"""Event time end to end: TUMBLE / HOP over sources with watermarks, EMIT ON
WINDOW CLOSE, and bounded state for an unbounded source."""

from __future__ import annotations

import datetime as dt
import time

import duckdb
import pyarrow as pa
import pytest

from executor.connectors import SourceSpec, connector
from executor.connectors.nexmark import SCHEMAS
from tests.sources.conftest import Sql

BID = """CREATE SOURCE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR,
    url VARCHAR, date_time TIMESTAMP, extra VARCHAR,
    WATERMARK FOR date_time AS date_time - INTERVAL '2' SECOND)
    WITH (connector = 'nexmark', nexmark.table.type = 'Bid', nexmark.base.time.us = '0',
          nexmark.min.event.gap.in.ns = '1000000'{extra})"""


def bids(n: int) -> list[tuple]:
    r = connector("nexmark").open(SourceSpec(
        {"nexmark.table.type": "Bid", "nexmark.event.num": str(n), "nexmark.base.time.us": "0",
         "nexmark.min.event.gap.in.ns": "1000000"}, SCHEMAS["bid"]))
    out: list[tuple] = []
    while not r.finished:
        out.extend(r.read(1000))
    return out


def duck(rows: list[tuple], query: str) -> list[tuple]:
    con = duckdb.connect()
    con.execute("CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR,"
                " url VARCHAR, date_time TIMESTAMP, extra VARCHAR)")
    names = ["auction", "bidder", "price", "channel", "url", "date_time", "extra"]
    con.register("incoming", pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)}))
    con.execute("INSERT INTO bid SELECT * FROM incoming")
    return con.execute(query).fetchall()


@pytest.mark.parametrize("parallelism", [1, 3])
def test_tumble_emit_on_window_close_matches_duckdb(sql: Sql, parallelism: int) -> None:
    n = 30000  # 30 s of event time: windows 0..29 s, the last ones still open
    sql(f"SET streaming_parallelism = {parallelism}")
    sql(BID.format(extra=f", nexmark.event.num = '{n}', nexmark.split.num = '3'"))
    sql("""CREATE MATERIALIZED VIEW w AS
           SELECT window_start, count(*) AS n, max(price) AS top, sum(price) AS total
           FROM TUMBLE(bid, date_time, INTERVAL '5' SECOND)
           GROUP BY window_start EMIT ON WINDOW CLOSE""")
    rows = bids(n)
    last = max(r[5] for r in rows) - dt.timedelta(seconds=2)  # the final watermark
    want = duck(rows, f"""SELECT time_bucket(INTERVAL 5 SECOND, date_time) AS ws, count(*),
                          max(price), sum(price) FROM bid GROUP BY ws
                          HAVING ws + INTERVAL 5 SECOND <= TIMESTAMP '{last}' ORDER BY ws""")
    got = sql.until("SELECT * FROM w ORDER BY window_start", lambda r: len(r) == len(want))
    assert got == [tuple(r) for r in want]
    assert len(want) == 5  # 27.99 s - 2 s closes the windows up to 25 s


def test_hop_matches_duckdb(sql: Sql) -> None:
    n = 5000
    sql(BID.format(extra=f", nexmark.event.num = '{n}'"))
    sql("""CREATE MATERIALIZED VIEW h AS
           SELECT window_start, window_end, count(*) AS n, sum(price) AS total
           FROM HOP(bid, date_time, INTERVAL '1' SECOND, INTERVAL '3' SECOND)
           GROUP BY window_start, window_end""")
    rows = bids(n)
    want = duck(rows, """WITH w AS (SELECT unnest(range(0, 8)) AS k)
        SELECT TIMESTAMP '1970-01-01' + to_seconds(k - 2) AS ws,
               TIMESTAMP '1970-01-01' + to_seconds(k + 1) AS we, count(*), sum(price)
        FROM bid, w WHERE date_time >= TIMESTAMP '1970-01-01' + to_seconds(k - 2)
          AND date_time < TIMESTAMP '1970-01-01' + to_seconds(k + 1)
        GROUP BY ws, we ORDER BY ws""")
    got = sql.until("SELECT * FROM h ORDER BY window_start", lambda r: r == want)
    assert got == want


def test_unbounded_source_keeps_bounded_window_state(sql: Sql) -> None:
    sql(BID.format(extra=""))
    sql("""CREATE MATERIALIZED VIEW w AS
           SELECT window_start, count(*) AS n FROM TUMBLE(bid, date_time, INTERVAL '1' SECOND)
           GROUP BY window_start EMIT ON WINDOW CLOSE""")
    db = sql.conn._db
    assert db is not None
    rel = db.catalog.get("w")
    sizes = []
    deadline = time.time() + 30
    while time.time() < deadline:
        sql("FLUSH")
        rt = db.runtime.relations[rel.id]
        sizes.append(sum(len(s) for a in rt.actors for s in a.states
                         if "/mat/" not in s.table_id))
        if sql("SELECT count(*) FROM w")[0][0] >= 12:
            break
        time.sleep(0.2)
    closed = sql("SELECT count(*), min(n), max(n) FROM w")[0]
    assert closed[0] >= 12  # many windows closed and emitted ...
    assert closed[1] == closed[2] == 920  # ... each complete (920 bids in 1000 events a second)
    assert max(sizes) <= 5  # ... while the aggregation holds only the open ones
