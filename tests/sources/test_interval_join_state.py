"""A windowless interval join of two watermarked sources (Nexmark q7's condition
without its window): the join forgets the rows no later row of the other side can
match, so its state stays bounded over unbounded sources, and its results stay
what DuckDB gives over the same rows."""

from __future__ import annotations

import time

import pytest

from tests.sources.conftest import Sql
from tests.sources.test_windows import BID, bids, duck

VIEW = """CREATE MATERIALIZED VIEW j AS
    SELECT B.auction, B.price, B.bidder, B.date_time, B1.bidder AS other
    FROM bid B JOIN bid2 B1 ON B.price = B1.price
    WHERE B.date_time BETWEEN B1.date_time - INTERVAL '10' SECOND AND B1.date_time"""


def sources(sql: Sql, extra: str) -> None:
    sql(BID.format(extra=extra))
    sql(BID.replace("SOURCE bid ", "SOURCE bid2 ").format(extra=extra))


def join_state_rows(sql: Sql) -> int:
    rows = sql("SELECT sum(rows) FROM sys.state_tables WHERE relation = 'j' "
               "AND operator LIKE '%HashJoin%'")
    return int(rows[0][0] or 0)


def test_interval_join_state_stays_bounded(sql: Sql) -> None:
    sources(sql, ", source_rate_limit = '5000'")
    sql(VIEW)
    sizes: list[int] = []
    read = 0
    deadline = time.time() + 60
    while time.time() < deadline and (read < 80000 or len(sizes) < 5):
        time.sleep(0.5)
        sql("FLUSH")
        sizes.append(join_state_rows(sql))
        read = sum(r[0] for r in sql("SELECT rows_read FROM sys.sources "
                                     "WHERE source IN ('bid', 'bid2')"))
    assert read >= 80000, f"only {read} bids read in the time allowed"
    # About 920 bids a second of event time per source. A left row stays until the
    # right watermark passes its time + 10 s (about 12 s of bids with the 2 s delay),
    # a right row until the left watermark passes its time (about 2 s): some 13000
    # rows in all, however long the sources run (without cleanup: every row read).
    assert max(sizes) < 20000, sizes
    assert sizes[-1] < read / 4, (sizes, read)


@pytest.mark.parametrize("parallelism", [1, 3])
def test_interval_join_with_cleanup_matches_duckdb(sql: Sql, parallelism: int) -> None:
    n = 20000
    sql(f"SET streaming_parallelism = {parallelism}")
    sources(sql, f", nexmark.event.num = '{n}', nexmark.split.num = '{parallelism}'")
    sql(VIEW)
    rows = bids(n)
    want = duck(rows, """SELECT B.auction, B.price, B.bidder, B.date_time, B1.bidder
                            FROM bid B JOIN bid B1 ON B.price = B1.price
                            WHERE B.date_time BETWEEN B1.date_time - INTERVAL 10 SECOND
                                                  AND B1.date_time""")
    assert len(want) > n  # many bids meet several others: the join proves something
    got = sql.until("SELECT * FROM j", lambda r: len(r) >= len(want), timeout=60)
    assert sorted(got) == sorted(want)
    # Both sources read to the end (2 x 18400 bids over 20 s of event time): only the
    # last 12 s of left bids and 2 s of right bids are still held (about 12900 rows).
    assert join_state_rows(sql) < len(rows), join_state_rows(sql)
