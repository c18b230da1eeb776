"""`col TIMESTAMPTZ AS PROCTIME()` in a source: every row read gets the wall-clock time
it was read at; views that do not read the column see the connector's rows as usual."""

from __future__ import annotations

import datetime as dt

from tests.sources.conftest import Sql

SOURCE = """CREATE SOURCE pt (id INT, p_time TIMESTAMPTZ AS PROCTIME(), v INT)
WITH (connector = 'datagen', fields.id.kind = 'sequence', fields.id.start = '1',
      fields.id.end = '500', fields.v.min = '1', fields.v.max = '5',
      datagen.rows.per.second = '100000')"""


def test_proctime_column_is_the_time_rows_are_read(sql: Sql) -> None:
    start = dt.datetime.now(dt.timezone.utc)
    sql(SOURCE)
    sql("""CREATE MATERIALIZED VIEW pt_seen AS
           SELECT count(*) AS n, count(p_time) AS stamped, sum(id) AS ids,
                  min(p_time) AS first, max(p_time) AS last FROM pt""")
    sql("CREATE MATERIALIZED VIEW pt_ids AS SELECT sum(id) AS s, sum(v) >= 500 AS v FROM pt")
    rows = sql.until("SELECT * FROM pt_seen", lambda r: bool(r) and r[0][0] == 500,
                     timeout=30)
    end = dt.datetime.now(dt.timezone.utc)
    n, stamped, ids, first, last = rows[0]
    assert (n, stamped, ids) == (500, 500, 125250)
    assert start <= first <= last <= end
    assert sql.until("SELECT * FROM pt_ids", lambda r: r == [(125250, True)]) == \
        [(125250, True)]
