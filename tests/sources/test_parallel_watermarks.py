"""Event time with parallel readers: a source with several splits read by
several actors per view. Exchanges forward the minimum of the readers'
watermarks (a window is closed only once every reader is past it), readers
without a split do not hold windows open, and a join on window columns keeps
only the open windows in its state for an unbounded source."""

from __future__ import annotations

import datetime as dt
import time

import duckdb
import pyarrow as pa
import pytest

from executor.connectors import SourceSpec, connector
from executor.connectors.nexmark import SCHEMAS
from tests.sources.conftest import Sql
from tests.sources.test_windows import BID, bids, duck

EVENTS = 20000


def nexmark_rows(table: str) -> list[tuple]:
    """The rows of a bounded source as declared by BID / AUCTION below."""
    r = connector("nexmark").open(SourceSpec(
        {"nexmark.table.type": table, "nexmark.event.num": str(EVENTS),
         "nexmark.base.time.us": "0", "nexmark.min.event.gap.in.ns": "1000000"},
        SCHEMAS[table]))
    out: list[tuple] = []
    while not r.finished:
        out.extend(r.read(2000))
    return out


AUCTION = """CREATE SOURCE auction (id BIGINT, item_name VARCHAR, description VARCHAR,
    initial_bid BIGINT, reserve BIGINT, date_time TIMESTAMP, expires TIMESTAMP, seller BIGINT,
    category BIGINT, extra VARCHAR,
    WATERMARK FOR date_time AS date_time - INTERVAL '2' SECOND)
    WITH (connector = 'nexmark', nexmark.table.type = 'Auction', nexmark.base.time.us = '0',
          nexmark.min.event.gap.in.ns = '1000000'{extra})"""

# Bids joined with the auctions opened in the same one-second window (the shape of q8).
JOIN = """SELECT B.auction, B.price, B.window_start
    FROM TUMBLE(bid, date_time, INTERVAL '1' SECOND) AS B
    JOIN TUMBLE(auction, date_time, INTERVAL '1' SECOND) AS A
      ON B.auction = A.id AND B.window_start = A.window_start"""

# Each bid with its window's highest price (the shape of q7 on a TUMBLE window).
TOP_BIDS = """SELECT B.auction, B.price, B.window_start
    FROM TUMBLE(bid, date_time, INTERVAL '1' SECOND) AS B
    JOIN (SELECT window_start, max(price) AS top FROM TUMBLE(bid, date_time, INTERVAL '1' SECOND)
          GROUP BY window_start EMIT ON WINDOW CLOSE) AS M
      ON B.window_start = M.window_start AND B.price = M.top"""


@pytest.mark.parametrize("parallelism,splits", [(4, 2), (2, 4)])
def test_eowc_with_parallel_readers_matches_duckdb(sql: Sql, parallelism: int,
                                                   splits: int) -> None:
    """(4, 2): two of the four readers own no split; (2, 4): two splits per reader."""
    n = 20000
    sql(f"SET streaming_parallelism = {parallelism}")
    sql(BID.format(extra=f", nexmark.event.num = '{n}', nexmark.split.num = '{splits}'"))
    sql("""CREATE MATERIALIZED VIEW w AS
           SELECT window_start, count(*) AS n, sum(price) AS total
           FROM TUMBLE(bid, date_time, INTERVAL '2' SECOND)
           GROUP BY window_start EMIT ON WINDOW CLOSE""")
    rows = bids(n)
    last = max(r[5] for r in rows) - dt.timedelta(seconds=2)
    want = duck(rows, f"""SELECT time_bucket(INTERVAL 2 SECOND, date_time) AS ws, count(*),
                          sum(price) FROM bid GROUP BY ws
                          HAVING ws + INTERVAL 2 SECOND <= TIMESTAMP '{last}' ORDER BY ws""")
    assert len(want) == 8  # 19.99 s - 2 s closes the windows up to 16 s
    got = sql.until("SELECT * FROM w ORDER BY window_start", lambda r: len(r) >= len(want))
    time.sleep(0.3)  # nothing more may come: the last windows stay open
    got = sql.until("SELECT * FROM w ORDER BY window_start", lambda r: True)
    assert got == [tuple(r) for r in want]


def _state_rows(sql: Sql, view: str, operator: str) -> int:
    rows = sql(f"SELECT sum(rows) FROM sys.state_tables WHERE relation = '{view}' "
               f"AND operator LIKE '{operator}%'")
    return int(rows[0][0] or 0)


def test_window_join_state_stays_bounded_for_an_unbounded_source(sql: Sql) -> None:
    """Each bid joined with its window's highest price (an EOWC aggregate), on the
    window column, over an unbounded source with two splits and two actors per
    scan. Both scans are rate-limited alike so that their event times advance
    together (a scan running far ahead would make the join hold the other side's
    rows until the slower one's watermark catches up: the join's due, not a leak).
    Without dropping closed windows the join holds every bid read."""
    sql("SET streaming_parallelism = 2")
    sql(BID.format(extra=", nexmark.split.num = '2', source_rate_limit = '4600'"))
    sql(f"CREATE MATERIALIZED VIEW j AS {TOP_BIDS}")
    sizes: list[int] = []
    agg: list[int] = []
    deadline = time.time() + 60
    read = joined = 0
    while time.time() < deadline and (read < 60000 or len(sizes) < 5):
        time.sleep(0.3)
        sql("FLUSH")
        sizes.append(_state_rows(sql, "j", "StreamHashJoin"))
        agg.append(_state_rows(sql, "j", "StreamEowcAgg"))
        joined = sql("SELECT count(*) FROM j")[0][0]
        read = sum(r[0] for r in sql("SELECT rows_read FROM sys.sources WHERE source = 'bid'"))
    # 920 bids a second of event time; a window stays open for the 2 s watermark
    # delay and a barrier or two: the state holds a few windows' bids.
    assert read >= 60000, f"only {read} bids read in the time allowed"
    assert joined >= 10  # windows closed and joined ...
    assert 0 < max(sizes) <= 8000, (sizes, read)  # ... while the join holds the open ones
    assert max(agg) <= 10, agg  # and so does the aggregate


def test_window_join_matches_duckdb_with_parallel_readers(sql: Sql) -> None:
    """State dropped by watermarks loses no match: the join over bounded sources
    equals DuckDB's answer."""
    sql("SET streaming_parallelism = 3")
    extra = f", nexmark.event.num = '{EVENTS}', nexmark.split.num = '2'"
    sql(BID.format(extra=extra))
    sql(AUCTION.format(extra=extra))
    sql(f"CREATE MATERIALIZED VIEW j AS {JOIN}")
    con = duckdb.connect()
    for table in ("bid", "auction"):
        data = nexmark_rows(table)
        names = [c for c, _t in SCHEMAS[table]]
        con.register(table, pa.table({c: [r[i] for r in data] for i, c in enumerate(names)}))
    want = sorted(con.execute("""
        SELECT B.auction, B.price, B.ws FROM
          (SELECT *, time_bucket(INTERVAL 1 SECOND, date_time) AS ws FROM bid) AS B
          JOIN (SELECT *, time_bucket(INTERVAL 1 SECOND, date_time) AS ws FROM auction) AS A
          ON B.auction = A.id AND B.ws = A.ws""").fetchall())
    assert len(want) > 1000
    got = sql.until("SELECT * FROM j", lambda r: len(r) >= len(want), timeout=60)
    assert sorted(got) == want
    assert _state_rows(sql, "j", "StreamHashJoin") < 3000  # closed windows were dropped
