"""A temporal filter in a view removes rows as wall-clock time passes."""

from __future__ import annotations

import datetime as dt
import time

from tests.sources.conftest import Sql


def test_rows_leave_the_view_as_time_passes(sql: Sql) -> None:
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    sql("CREATE TABLE ev (id INT, ts TIMESTAMP)")
    sql("CREATE MATERIALIZED VIEW recent AS SELECT id FROM ev "
        "WHERE ts > now() - INTERVAL '2' SECOND AND id > 0")
    old, fresh = now - dt.timedelta(seconds=10), now + dt.timedelta(seconds=1)
    sql(f"INSERT INTO ev VALUES (1, '{old}'), (2, '{fresh}'), (3, '{fresh}'), (-4, '{fresh}')")
    sql("FLUSH")
    assert sorted(sql("SELECT id FROM recent")) == [(2,), (3,)]
    rows = sql.until("SELECT id FROM recent", lambda r: r == [], timeout=10)
    assert rows == []
    assert sql("SELECT count(*) FROM ev") == [(4,)]  # the table keeps them
