"""One benchmark run in this process: a fresh database, the sources a query
reads, its view; timed until the view has consumed every event.

Completion is read from the source readers' positions: a bounded `nexmark`
reader reports `finished`, a `posix_fs` reader's byte offset reaches the size
of its file. A FLUSH after that commits a checkpoint behind the last row, so
the view then holds the result over all events.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import resource
import statistics
import time
from typing import Any

from bench.checksum import checksum
from bench.nexmark_gen import BASE_TIME_US, EVENT_GAP_NS, TABLES
from executor.connectors.nexmark import SCHEMAS

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "examples", "nexmark")
# Queries of the benchmark that are not Nexmark's own: a grouped aggregate over bids.
EXTRA_QUERIES = {
    "count": "CREATE MATERIALIZED VIEW nexmark_count AS\n"
             "SELECT auction, count(*) AS num FROM bid GROUP BY auction;",
}
_SQL_TYPES = {"bigint": "BIGINT", "character varying": "VARCHAR", "varchar": "VARCHAR",
              "timestamp": "TIMESTAMP", "timestamp without time zone": "TIMESTAMP"}


def query_sql(name: str) -> str:
    """The CREATE MATERIALIZED VIEW statement of a query (from examples/nexmark)."""
    if name in EXTRA_QUERIES:
        return EXTRA_QUERIES[name]
    path = os.path.join(EXAMPLES, f"{name}.sql")
    if not os.path.exists(path):
        raise SystemExit(f"unknown query {name}: no {path}")
    with open(path) as f:
        return f.read()


def view_name(sql: str) -> str:
    m = re.search(r"CREATE\s+MATERIALIZED\s+VIEW\s+(\w+)", sql, re.I)
    if m is None:
        raise SystemExit("query file holds no CREATE MATERIALIZED VIEW")
    return m.group(1)


def tables_read(sql: str) -> list[str]:
    body = re.sub(r"--[^\n]*", "", sql)
    # A table follows FROM, JOIN or a window function; or is an aliased FROM-list item.
    return [t for t in TABLES
            if re.search(rf"(\bFROM|\bJOIN|\bTUMBLE\s*\(|\bHOP\s*\()\s*{t}\b", body, re.I)
            or re.search(rf",\s*{t}\s+(AS\s+)?[A-Z]\w*\s*(WHERE|,|$)", body, re.I | re.M)]


def source_ddl(table: str, events: int, csv_dir: str | None) -> str:
    cols = ", ".join(f"{c} {_SQL_TYPES[t.name]}" for c, t in SCHEMAS[table])
    wm = "WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND"
    if csv_dir is None:
        return (f"CREATE SOURCE {table} ({cols}, {wm}) WITH (connector = 'nexmark', "
                f"nexmark.table.type = '{table.capitalize()}', nexmark.event.num = '{events}', "
                f"nexmark.base.time.us = '{BASE_TIME_US}', "
                f"nexmark.min.event.gap.in.ns = '{EVENT_GAP_NS}')")
    return (f"CREATE SOURCE {table} ({cols}, {wm}) WITH (connector = 'posix_fs', "
            f"posix_fs.root = '{os.path.abspath(csv_dir)}', match_pattern = '{table}.csv') "
            f"FORMAT PLAIN ENCODE CSV (without_header = 'false')")


def _consumed(readers: list[Any], csv_dir: str | None, table: str) -> bool:
    """True once every reader of a source has handed out its last row."""
    if not readers:
        return False
    if csv_dir is None:
        return all(r.reader.finished for r in readers)
    # Every scan of the source in the view has its own reader(s) (a self-join has
    # two), and they advance at their own speeds: the source is consumed once the
    # slowest scan is at the end. Within one scan (its readers share the key up to
    # the actor suffix) the file belongs to one of its readers.
    size = os.path.getsize(os.path.join(csv_dir, f"{table}.csv"))
    scans: dict[str, int] = {}
    for r in readers:
        scan = r.key.rsplit("/a", 1)[0]
        pos = getattr(r.reader, "files", {}).get(f"{table}.csv")
        scans[scan] = max(scans.get(scan, 0), pos[0] if pos else 0)
    return min(scans.values()) >= size


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run_query(name: str, events: int, csv_dir: str | None, timeout: float = 600,
              settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run one query to completion; returns the figures of one table row."""
    from sqlstream.dbapi import connect

    sql = query_sql(name)
    view = view_name(sql)
    tables = tables_read(sql)
    conn = connect(None, **(settings or {}))
    try:
        cur = conn.cursor()
        for t in tables:
            cur.execute(source_ddl(t, events, csv_dir))
        if re.search(r"\bside_input\b", sql):  # q13's bounded side table, filled untimed
            cur.execute("CREATE TABLE side_input (key BIGINT PRIMARY KEY, value VARCHAR)")
            cur.execute("INSERT INTO side_input SELECT g, 'value-' || g::varchar "
                        "FROM generate_series(0, 9999) AS s(g)")
            cur.execute("FLUSH")
        started_wall = dt.datetime.now(dt.timezone.utc)
        t0 = time.perf_counter()
        cur.execute(sql)
        deadline = t0 + timeout
        while True:
            runtime = conn.database.runtime  # replaced when the graph is rebuilt
            done = [_consumed(runtime.sources.get(t, []), csv_dir, t) for t in tables]
            if all(done):
                break
            if time.perf_counter() > deadline:
                return {"query": name, "events": events, "error": f"timeout after {timeout}s"}
            time.sleep(0.05)
        cur.execute("FLUSH")
        seconds = time.perf_counter() - t0
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cur.execute("SELECT injected_at, latency_ms FROM sys.barrier_latency")
        lat = [float(ms) for at, ms in cur.fetchall()
               if ms is not None and at is not None and at >= started_wall]
        cur.execute(f"SELECT * FROM {view}")
        rows = cur.fetchall()
        errors = sum(r.metrics.parse_errors for t in tables
                     for r in conn.database.runtime.sources.get(t, []))
    finally:
        conn.close()
    return {"query": name, "events": events, "seconds": round(seconds, 3),
            "events_per_s": round(events / seconds), "peak_rss_mb": round(peak_kb / 1024, 1),
            "p50_barrier_ms": _round(percentile(lat, 50)),
            "p99_barrier_ms": _round(percentile(lat, 99)), "rows": len(rows),
            "checksum": checksum(rows), "parse_errors": errors}


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


def run_reference(name: str, events: int, csv_dir: str) -> dict[str, Any]:
    """Time a plain-Python reference over the CSV files."""
    from bench.reference import AS_ROWS, REFERENCES

    t0 = time.perf_counter()
    result = REFERENCES[name](csv_dir)
    seconds = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = AS_ROWS.get(name, lambda r: r)(result)
    return {"query": name, "events": events, "seconds": round(seconds, 3),
            "events_per_s": round(events / seconds), "peak_rss_mb": round(peak_kb / 1024, 1),
            "rows": len(rows), "checksum": checksum(rows)}
