"""Prometheus export: the figures behind the `sys` tables, served at `/metrics`.

`start(db, port)` starts an HTTP server thread (prometheus-client) whose scrape
reads the same rows the system tables show, on the engine loop where they are
written, and renders them with Prometheus names (`sqlstream_*`, base units,
`_total` for counters, `_ratio` for shares of time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from sqlstream.database import Database


async def _rows(db: "Database") -> dict[str, list[tuple]]:
    from sqlstream.system_tables import _TABLES
    names = ("actors", "backpressure", "sources", "state_tables", "barrier_latency")
    out = {n: _TABLES[n][1](db) for n in names}
    runtime = db.runtime
    out["cpu"] = [(runtime.cpu.utilization(),)] if runtime is not None else []
    return out


class EngineCollector(Collector):
    def __init__(self, db: "Database") -> None:
        self.db = db

    def collect(self) -> Iterator[Any]:
        if self.db.runtime is None or self.db.closed:
            return
        rows = self.db.run(_rows(self.db), timeout=10)
        actor_labels = ["actor_id", "fragment_id", "relation", "operator"]
        ratios = {k: GaugeMetricFamily(f"sqlstream_actor_{k}_ratio",
                                       f"Share of the actor's wall time {what} over the "
                                       "metrics window", labels=actor_labels)
                  for k, what in (("busy", "spent processing"), ("idle", "waiting for input"),
                                  ("backpressure", "waiting for room downstream"))}
        rows_out = CounterMetricFamily("sqlstream_actor_rows_out",
                                       "Rows the actor emitted", labels=actor_labels)
        rate = GaugeMetricFamily("sqlstream_actor_rows_per_second",
                                 "Rows the actor emitted per second over the window",
                                 labels=actor_labels)
        for aid, frag, rel, op, _rin, rout, busy, idle, bp, rps in rows["actors"]:
            labels = [str(aid), str(frag), rel, op]
            rows_out.add_metric(labels, rout)
            if busy is not None:
                ratios["busy"].add_metric(labels, busy)
                ratios["idle"].add_metric(labels, idle)
                ratios["backpressure"].add_metric(labels, bp)
                rate.add_metric(labels, rps)
        yield from ratios.values()
        yield rows_out
        yield rate
        edge_labels = ["actor_id", "fragment_id", "relation", "downstream_fragment_id"]
        queued = GaugeMetricFamily("sqlstream_exchange_queue_rows",
                                   "Rows queued on the actor's output edge", labels=edge_labels)
        cap = GaugeMetricFamily("sqlstream_exchange_queue_capacity_rows",
                                "Rows the output edge holds before the sender waits",
                                labels=edge_labels)
        for aid, frag, rel, _op, down, *_r, qrows, qcap, _rps in rows["backpressure"]:
            if down is None:
                continue
            labels = [str(aid), str(frag), rel, str(down)]
            queued.add_metric(labels, qrows)
            cap.add_metric(labels, qcap)
        yield queued
        yield cap
        yield from _sources(rows["sources"])
        yield from _state(rows["state_tables"])
        yield from _barriers(rows["barrier_latency"])
        cpu = GaugeMetricFamily("sqlstream_process_cpu_utilization_ratio",
                                "Process CPU seconds per wall second over the window")
        for (value,) in rows["cpu"]:
            if value is not None:
                cpu.add_metric([], value)
        yield cpu


def _sources(rows: list[tuple]) -> Iterator[Any]:
    # One series per reader (sys.sources has a row per reader of a source in a view).
    labels = ["source", "connector", "relation", "reader"]
    read = CounterMetricFamily("sqlstream_source_rows_read", "Rows read", labels=labels)
    rate = GaugeMetricFamily("sqlstream_source_rows_per_second", "Rows read per second",
                             labels=labels)
    lag = GaugeMetricFamily("sqlstream_source_lag_rows", "Rows available but not yet read",
                            labels=labels)
    errors = CounterMetricFamily("sqlstream_source_parse_errors", "Records that failed to parse",
                                 labels=labels)
    late = CounterMetricFamily("sqlstream_source_late_rows_dropped",
                               "Rows dropped for being older than the source's watermark",
                               labels=labels)
    for name, conn, rows_read, rps, lag_rows, parse_errors, _last, rel, reader, \
            late_rows, _files in rows:
        key = [name, conn, rel or "", reader or ""]
        read.add_metric(key, rows_read or 0)
        errors.add_metric(key, parse_errors or 0)
        late.add_metric(key, late_rows or 0)
        if rps is not None:
            rate.add_metric(key, rps)
        if lag_rows is not None:
            lag.add_metric(key, lag_rows)
    yield from (read, rate, lag, errors, late)


def _state(rows: list[tuple]) -> Iterator[Any]:
    labels = ["relation", "operator", "state_table"]
    count = GaugeMetricFamily("sqlstream_state_table_rows", "Entries in a state table",
                              labels=labels)
    size = GaugeMetricFamily("sqlstream_state_table_bytes", "Approximate bytes of a state table",
                             labels=labels)
    for rel, op, n, nbytes, tid in rows:
        count.add_metric([rel, op, tid], n)
        size.add_metric([rel, op, tid], nbytes)
    yield from (count, size)


def _barriers(rows: list[tuple]) -> Iterator[Any]:
    done = [r for r in rows if r[5] is not None]
    last = GaugeMetricFamily("sqlstream_barrier_latency_seconds",
                             "Injection to commit of the last committed barrier")
    if done:
        last.add_metric([], done[-1][5] / 1000.0)
    inflight = GaugeMetricFamily("sqlstream_barriers_in_flight",
                                 "Barriers injected but not yet committed")
    inflight.add_metric([], sum(1 for r in rows if r[4] is None))
    epoch = GaugeMetricFamily("sqlstream_committed_epoch", "Last committed epoch")
    if done:
        epoch.add_metric([], done[-1][0])
    yield from (last, inflight, epoch)


def start(db: "Database", port: int, addr: str = "127.0.0.1") -> Any:
    """Serve `/metrics` for `db` on `port` (a daemon thread); returns the server,
    whose `shutdown()` stops it."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(db))
    result = start_http_server(port, addr=addr, registry=registry)
    return result[0] if isinstance(result, tuple) else result


__all__ = ["start", "EngineCollector"]
