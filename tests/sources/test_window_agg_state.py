"""A windowed aggregate without EMIT ON WINDOW CLOSE: it emits and updates its
rows as bids arrive, and forgets the state of windows the watermark has passed,
so its state stays bounded over an unbounded source while its results stay right."""

from __future__ import annotations

import time

from tests.sources.conftest import Sql
from tests.sources.test_windows import BID, bids, duck

VIEW = """CREATE MATERIALIZED VIEW w AS
    SELECT window_start, auction, count(*) AS n, max(price) AS top
    FROM TUMBLE(bid, date_time, INTERVAL '1' SECOND)
    GROUP BY window_start, auction"""


def _agg_state_rows(sql: Sql) -> int:
    rows = sql("SELECT sum(rows) FROM sys.state_tables WHERE relation = 'w' "
               "AND operator LIKE '%HashAgg%'")
    return int(rows[0][0] or 0)


def test_state_of_closed_windows_is_dropped(sql: Sql) -> None:
    sql(BID.format(extra=", source_rate_limit = '5000'"))
    sql(VIEW)
    sizes: list[int] = []
    read = 0
    deadline = time.time() + 60
    while time.time() < deadline and (read < 40000 or len(sizes) < 5):
        time.sleep(0.3)
        sql("FLUSH")
        sizes.append(_agg_state_rows(sql))
        read = sum(r[0] for r in sql("SELECT rows_read FROM sys.sources WHERE source = 'bid'"))
    groups = sql("SELECT count(*) FROM w")[0][0]
    assert read >= 40000, f"only {read} bids read in the time allowed"
    # About 920 bids a second of event time on a few hundred auctions; windows stay
    # open for the 2 s watermark delay: a few windows' groups, not all of them.
    assert groups > 3 * max(sizes), (groups, sizes)
    assert max(sizes) < 6000, sizes


def test_results_with_dropped_state_match_duckdb(sql: Sql) -> None:
    n = 20000
    sql(BID.format(extra=f", nexmark.event.num = '{n}'"))
    sql(VIEW)
    want = duck(bids(n), """SELECT time_bucket(INTERVAL 1 SECOND, date_time) AS ws, auction,
                            count(*), max(price) FROM bid GROUP BY ws, auction""")
    total = sum(r[2] for r in want)  # the bids among the n events
    got = sql.until("SELECT * FROM w", lambda r: sum(x[2] for x in r) >= total, timeout=60)
    assert sorted(got) == sorted(want)
    assert _agg_state_rows(sql) < len(want) / 3
