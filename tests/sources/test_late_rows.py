"""Windows over datagen close with max_past_mode = 'relative' (the docs' example, run
as pasted); rows a watermark drops as late are counted in sys.sources.late_rows and
for Prometheus, and do not read as lag; posix_fs says when its pattern matches no file."""

from __future__ import annotations

import re
import time
from pathlib import Path

from executor.connectors import SourceSpec, connector
from planner import types as T
from sqlstream import metrics_http
from tests.netutil import free_port, metric_samples
from tests.sources.conftest import Sql

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sources.md"


def docs_window_example() -> list[str]:
    text = DOCS.read_text()
    block = re.search(r"## Event time\n.*?```sql\n(.*?)```", text, re.S)
    assert block is not None
    return [s.strip() for s in block.group(1).split(";") if s.strip()]


def test_relative_times_follow_the_clock() -> None:
    opts = {"connector": "datagen", "fields.t.max_past": "1 second",
            "fields.t.max_past_mode": "relative", "datagen.base.time.us": "3600000000"}
    reader = connector("datagen").open(SourceSpec(opts, [("t", T.TIMESTAMP)]))
    first = reader.read(100)
    time.sleep(1.2)
    later = reader.read(100)
    assert max(r[0] for r in first) < min(r[0] for r in later)
    fixed = connector("datagen").open(SourceSpec(dict(opts, **{
        "fields.t.max_past_mode": "absolute"}), [("t", T.TIMESTAMP)]))
    # within a second before the base time fixed at 1970-01-01 01:00
    assert {(r[0].year, r[0].hour) for r in fixed.read(100)} == {(1970, 0)}


def test_the_docs_window_example_closes_windows() -> None:
    sql = Sql(barrier_interval_ms=100)
    try:
        create_source, create_view, select, sources = docs_window_example()
        sql(create_source)
        sql(create_view)
        rows = sql.until(select, lambda r: len(r) >= 2, timeout=30)
        assert len(rows) >= 2 and all(n > 0 for _w, n in rows)
        [(name, read, late, lag)] = sql(sources)
        assert name == "clicks" and read > 0 and late >= 0
        assert lag is not None and lag < 400  # two seconds' worth at most
    finally:
        sql.close()


def test_late_rows_are_counted_and_are_no_lag() -> None:
    port = free_port()
    sql = Sql(barrier_interval_ms=100)
    try:
        # absolute times: every row after the first chunk is older than the watermark
        sql("""CREATE SOURCE old (t TIMESTAMP, WATERMARK FOR t AS t - INTERVAL '1' SECOND)
               WITH (connector = 'datagen', datagen.rows.per.second = '500',
                     fields.t.max_past = '1 hour')""")
        sql("CREATE MATERIALIZED VIEW n AS SELECT count(*) AS n FROM old")
        q = "SELECT rows_read, late_rows, lag FROM sys.sources WHERE source = 'old'"
        rows = sql.until(q, lambda r: r and r[0][1] > 500, timeout=30)
        [(read, late, lag)] = rows
        assert late > 500 and read < late
        assert lag < 300, (read, late, lag)  # the rate is met: late rows are not behind
        [(n,)] = sql("SELECT n FROM n")
        assert n <= read
        server = metrics_http.start(sql.conn.database, port, "127.0.0.1")
        try:
            [dropped] = metric_samples(port, "sqlstream_source_late_rows_dropped_total",
                                       source="old", relation="n")
            assert dropped >= late
        finally:
            server.shutdown()
    finally:
        sql.close()


def test_posix_fs_warns_when_nothing_matches(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("k\n1\n2\n")
    sql = Sql(barrier_interval_ms=100)
    try:
        ddl = ("CREATE SOURCE {name} (k INT) WITH (connector = 'posix_fs', posix_fs.root = "
               f"'{tmp_path}', match_pattern = '{{pattern}}') FORMAT PLAIN ENCODE CSV "
               "(without_header = 'false')")
        sql.cur.execute(ddl.format(name="typo", pattern="*.cvs"))
        assert sql.cur.notices == [f"no file in '{tmp_path}' matches match_pattern '*.cvs' "
                                   "yet: the source has no rows until one appears "
                                   "(sys.sources.matched_files counts the files read)"]
        sql.cur.execute(ddl.format(name="good", pattern="*.csv"))
        assert sql.cur.notices == []
        sql("CREATE MATERIALIZED VIEW a AS SELECT k FROM typo")
        sql("CREATE MATERIALIZED VIEW b AS SELECT k FROM good")
        q = "SELECT source, matched_files FROM sys.sources ORDER BY source"
        assert sql.until(q, lambda r: r == [("good", 1), ("typo", 0)]) == [
            ("good", 1), ("typo", 0)]
        (tmp_path / "b.cvs").write_text("k\n3\n")
        assert sql.until(q, lambda r: r == [("good", 1), ("typo", 1)]) == [
            ("good", 1), ("typo", 1)]
    finally:
        sql.close()
