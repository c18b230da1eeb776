"""System tables (schema `sys`): the catalog and the runtime's own figures as
relations anyone can query with SQL. They are refreshed into the serving store
just before a query that names them."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import TYPE_CHECKING, Any, Callable

from planner import types as T
from planner.catalog import SYSTEM_TABLE, ColumnDef, Relation

if TYPE_CHECKING:
    from executor.runtime import Actor, RelationRuntime, Runtime
    from sqlstream.database import Database

Rows = Callable[["Database"], list[tuple]]

_TABLES: dict[str, tuple[list[tuple[str, T.DataType]], Rows]] = {}


def system_table(name: str, columns: list[tuple[str, T.DataType]]) -> Callable[[Rows], Rows]:
    def deco(fn: Rows) -> Rows:
        _TABLES[name] = (columns, fn)
        return fn
    return deco


def register_system_tables(db: "Database") -> None:
    db.duck.execute("CREATE SCHEMA IF NOT EXISTS sys")
    for i, (name, (cols, _fn)) in enumerate(_TABLES.items()):
        rel = Relation(-(i + 1), name, SYSTEM_TABLE, [ColumnDef(c, t) for c, t in cols],
                       schema="sys")
        if db.catalog.get(rel.key) is None:
            db.catalog.relations[rel.key] = rel
        col_sql = ", ".join(f'"{c}" {t.duckdb}' for c, t in cols)
        db.duck.execute(f'CREATE OR REPLACE TABLE sys."{name}" ({col_sql})')
    # Start-up runs here on the engine loop before any view is planned: make the
    # catalog's Python functions known to DuckDB and to that planning.
    from sqlstream import udf
    udf.install(db)


def refresh(db: "Database", names: list[str]) -> None:
    """Recompute the named system tables from live figures."""
    for name in names:
        cols, fn = _TABLES[name]
        rows = db.run(_collect(db, fn))
        with db.serving.lock:
            cur = db.duck.cursor()
            try:
                cur.execute("BEGIN")
                cur.execute(f'DELETE FROM sys."{name}"')
                if rows:
                    marks = ", ".join("?" for _ in cols)
                    cur.executemany(f'INSERT INTO sys."{name}" VALUES ({marks})',
                                    [list(r) for r in rows])
                cur.execute("COMMIT")
            finally:
                cur.close()


def live_rows(db: "Database", name: str) -> tuple[list[str], list[tuple]]:
    """A system table's column names and its rows computed from live figures, without
    touching the serving store. Call it on the engine loop, where the figures are written."""
    cols, fn = _TABLES[name]
    return [c for c, _t in cols], fn(db)


def names() -> list[str]:
    """The system tables' names (schema `sys`), in the order they are registered."""
    return list(_TABLES)


async def _collect(db: "Database", fn: Rows) -> list[tuple]:
    # Read runtime figures on the engine loop, where they are written.
    return fn(db)


def _ts(t: float | None) -> dt.datetime | None:
    return None if t is None else dt.datetime.fromtimestamp(t, dt.timezone.utc)


@system_table("relations", [("id", T.INT32), ("name", T.VARCHAR), ("kind", T.VARCHAR),
                            ("definition", T.VARCHAR), ("status", T.VARCHAR),
                            ("error", T.VARCHAR)])
def _relations(db: "Database") -> list[tuple]:
    return [(r.id, r.name, r.kind, r.definition, "broken" if r.id in db.broken else "ok",
             db.broken.get(r.id)) for r in db.catalog.relations.values()
            if r.kind != SYSTEM_TABLE]


@system_table("fragments", [("fragment_id", T.INT32), ("relation", T.VARCHAR),
                            ("operators", T.VARCHAR), ("parallelism", T.INT32),
                            ("upstream_fragment_ids", T.VARCHAR)])
def _fragments(db: "Database") -> list[tuple]:
    out = []
    for rt, frag, actors in _fragment_actors(db):
        ups = _upstream_fragments(db, rt, frag)
        out.append((fragment_id(rt.relation.id, frag), rt.relation.name,
                    " -> ".join(reversed(actors[0].operators)), len(actors),
                    ",".join(str(u) for u in ups)))
    return out


def fragment_id(rel_id: int, frag: int) -> int:
    return rel_id * 1000 + frag


def _runtime(db: "Database") -> "Runtime":
    assert db.runtime is not None
    return db.runtime


def _fragment_actors(db: "Database") -> list[tuple["RelationRuntime", int, list["Actor"]]]:
    out = []
    for rt in _runtime(db).relations.values():
        by_frag: dict[int, list[Actor]] = {}
        for a in rt.actors:
            by_frag.setdefault(a.fragment, []).append(a)
        out += [(rt, f, actors) for f, actors in by_frag.items()]
    return out


def _upstream_fragments(db: "Database", rt: "RelationRuntime", frag: int) -> list[int]:
    if rt.plan is None:  # a table: source fragment 0 feeds materialize fragment 1
        return [fragment_id(rt.relation.id, 0)] if frag == 1 else []
    ups: list[int] = []
    for f in rt.plan.fragments:
        if f.index != frag:
            continue
        for leaf in f.leaves:
            if leaf.kind == "exchange":
                ups.append(fragment_id(rt.relation.id, leaf.upstream_fragment))
            elif leaf.upstream_relation in _runtime(db).relations:
                up = _runtime(db).relations[leaf.upstream_relation]
                if up.mat_actors:
                    ups.append(fragment_id(up.relation.id, up.mat_actors[0].fragment))
    return list(dict.fromkeys(ups))


@system_table("actors", [("actor_id", T.INT32), ("fragment_id", T.INT32),
                         ("relation", T.VARCHAR), ("operator", T.VARCHAR),
                         ("rows_in", T.INT64), ("rows_out", T.INT64),
                         ("busy_ratio", T.FLOAT64), ("idle_ratio", T.FLOAT64),
                         ("backpressure_ratio", T.FLOAT64), ("rows_per_second", T.FLOAT64)])
def _actors(db: "Database") -> list[tuple]:
    out = []
    for rt in _runtime(db).relations.values():
        for a in rt.actors:
            f = a.metrics.figures() if a.metrics is not None else None
            out.append((a.id, fragment_id(rt.relation.id, a.fragment), rt.relation.name,
                        _operator(a), a.rows_in, a.rows_out,
                        f and f.busy_ratio, f and f.idle_ratio, f and f.backpressure_ratio,
                        f and f.rows_per_second))
    return out


def _operator(a: "Actor") -> str:
    """The actor's chain, innermost first, as one name (e.g. `StreamProject -> StreamHashAgg`)."""
    return " -> ".join(reversed(a.operators)) if a.operators else ""


@system_table("backpressure", [("actor_id", T.INT32), ("fragment_id", T.INT32),
                               ("relation", T.VARCHAR), ("operator", T.VARCHAR),
                               ("downstream_fragment_id", T.INT32), ("busy_ratio", T.FLOAT64),
                               ("idle_ratio", T.FLOAT64), ("backpressure_ratio", T.FLOAT64),
                               ("queue_rows", T.INT64), ("queue_capacity", T.INT64),
                               ("rows_per_second", T.FLOAT64)])
def _backpressure(db: "Database") -> list[tuple]:
    """One row per actor output edge; an actor without outputs (a sink) gets one row
    with a null downstream so every actor's time split is visible."""
    out = []
    for rt in _runtime(db).relations.values():
        for a in rt.actors:
            if a.metrics is None:
                continue
            f = a.metrics.figures()
            head = (a.id, fragment_id(rt.relation.id, a.fragment), rt.relation.name,
                    _operator(a))
            ratios = (f.busy_ratio, f.idle_ratio, f.backpressure_ratio)
            edges = [e for e in a.dispatcher.edges if e.channels]
            if not edges:
                out.append(head + (None,) + ratios + (None, None, f.rows_per_second))
            for e in edges:
                rx = e.channels[0].rx
                down = fragment_id(rx.relation_id, rx.fragment) if rx is not None else None
                out.append(head + (down,) + ratios + (
                    sum(ch.rows for ch in e.channels), sum(ch.capacity for ch in e.channels),
                    f.rows_per_second))
    return out


@system_table("barrier_latency", [("epoch", T.INT64), ("kind", T.VARCHAR),
                                  ("injected_at", T.TIMESTAMPTZ), ("collected_at", T.TIMESTAMPTZ),
                                  ("committed_at", T.TIMESTAMPTZ), ("latency_ms", T.FLOAT64)])
def _barrier_latency(db: "Database") -> list[tuple]:
    assert db.runtime is not None
    return [(r.epoch, r.kind, _ts(r.injected_at), _ts(r.collected_at), _ts(r.committed_at),
             r.latency_ms) for r in db.runtime.barriers.history]


@system_table("state_tables", [("relation", T.VARCHAR), ("operator", T.VARCHAR),
                               ("rows", T.INT64), ("bytes", T.INT64),
                               ("state_table", T.VARCHAR)])
def _state_tables(db: "Database") -> list[tuple]:
    out = []
    for rt in _runtime(db).relations.values():
        for a in rt.actors:
            for st in a.states:
                out.append((rt.relation.name, _state_operator(a, st.table_id),
                            st.row_count(), state_bytes(st), st.table_id))
    return out


def state_bytes(st: Any) -> int:
    """Approximate bytes of a state table: entries times the size of a sampled few
    (their printed form plus dict overhead): cheap enough to read on every query."""
    n = st.row_count()
    if not n:
        return 0
    sample = st.sample(8)
    per = sum(len(repr(kv)) for kv in sample) / len(sample) + 100
    return int(n * per)


def _state_operator(a: "Actor", table_id: str) -> str:
    """The operator owning a state table `r<rel>/f<frag>/o<op>...`: its plan name."""
    if "/mat/" in table_id:
        return "StreamMaterialize"
    return _operator(a)


@system_table("sources", [("source", T.VARCHAR), ("connector", T.VARCHAR),
                          ("rows_read", T.INT64), ("rows_per_second", T.FLOAT64),
                          ("lag", T.INT64), ("parse_errors", T.INT64),
                          ("last_error", T.VARCHAR), ("relation", T.VARCHAR),
                          ("reader", T.VARCHAR), ("late_rows", T.INT64),
                          ("matched_files", T.INT64)])
def _sources(db: "Database") -> list[tuple]:
    """One row per reader: a table's own (its DML input, with the reader of its
    connector if it has one), and each reader of a source inside a view (a view
    reading a source gets its own, one per actor of the fragment). Lag is what
    can be known: rows written but not yet read by a table's source actor, a
    bounded generator's rest, unread lines of files, rows a rate limit asked for
    and not produced yet (rows dropped as late count as produced). late_rows: rows
    dropped for being older than the watermark; matched_files: the files a file
    connector's reader found (NULL for other connectors)."""
    out = []
    runtime = _runtime(db)
    readers_by_name: dict[str, list[Any]] = getattr(runtime, "sources", {})
    for rt in runtime.relations.values():
        src = next((a for a in rt.actors if a.source is not None), None)
        if src is None or src.source is None:
            continue
        own = [r for r in readers_by_name.get(rt.relation.name, [])
               if r.key == f"source:table{rt.relation.id}"]
        lag: int | None = rt.input.rows if rt.input is not None else 0
        for r in own:
            lag = (lag or 0) + (r.lag or 0)
        with_opts = rt.relation.options.get("with") or {}
        rate = src.metrics.figures().rows_per_second if src.metrics is not None else None
        out.append((rt.relation.name, str(with_opts.get("connector", "table")),
                    src.source.rows_read, rate, lag, sum(r.parse_errors for r in own),
                    next((r.last_error for r in own if r.last_error), None),
                    rt.relation.name, "table", sum(r.late_rows for r in own),
                    _files(own)))
    views = {rt.relation.id: rt.relation.name for rt in runtime.relations.values()}
    window = float(db.settings.get("metrics_window_s", 10))  # as the actors' rates
    for name, readers in readers_by_name.items():
        rel = db.catalog.get(name)
        connector = str(((rel.options.get("with") or {}) if rel is not None else {})
                        .get("connector", ""))
        for r in readers:
            if r.key.startswith("source:table"):
                continue  # a table's own reader: listed above
            # key "source:r<view>/f<fragment>/o<op>/a<i>of<n>"
            head, _, where = r.key.removeprefix("source:r").partition("/")
            view = views.get(int(head)) if head.isdigit() else None
            out.append((name, connector, r.rows_read, _reader_rate(runtime, r, window), r.lag,
                        r.parse_errors, r.last_error, view, where, r.late_rows,
                        r.matched_files))
    return out


def _files(readers: list[Any]) -> int | None:
    counts = [r.matched_files for r in readers if r.matched_files is not None]
    return sum(counts) if counts else None


@system_table("sinks", [("sink", T.VARCHAR), ("connector", T.VARCHAR),
                        ("rows_written", T.INT64), ("rows_per_second", T.FLOAT64),
                        ("pending_epochs", T.INT64), ("errors", T.INT64),
                        ("last_error", T.VARCHAR)])
def _sinks(db: "Database") -> list[tuple]:
    """One row per sink: rows handed to the target, epochs flushed but not yet
    committed, delivery errors (see sqlstream.sinks)."""
    from sqlstream.sinks import sink_rows
    return sink_rows(db)


def _reader_rate(runtime: "Runtime", reader: Any, window: float) -> float:
    """Rows per second a reader handed out over the metrics window: measured by its
    actor's clock where metrics are on (as EXPLAIN ANALYZE shows it), else by the
    reader's own samples."""
    m = re.fullmatch(r"source:r(\d+)/f(\d+)/o(\d+)/a(\d+)of\d+", reader.key)
    rt = runtime.relations.get(int(m.group(1))) if m else None
    if m is not None and rt is not None:
        frag, op, idx = int(m.group(2)), int(m.group(3)), int(m.group(4))
        for a in rt.actors:
            if a.fragment == frag and a.index == idx and a.metrics is not None:
                return round(a.metrics.op_rate(op), 1)
    return round(reader.rate_over(window), 1)


def _source_actors(runtime: "Runtime", name: str) -> list["Actor"]:
    """The actors (of every view reading the source) whose chain holds its reader."""
    out = []
    for rt in runtime.relations.values():
        for frag in rt.plan.fragments if rt.plan is not None else []:
            stack = [frag.root]
            while stack:
                n = stack.pop()
                if n.kind == "source" and n.params.get("name") == name:
                    out += [a for a in rt.actors if a.fragment == frag.index]
                    break
                if n.kind not in ("exchange", "table_scan"):
                    stack.extend(n.inputs)
    return out


@system_table("ddl_progress", [("ddl_id", T.INT32), ("relation", T.VARCHAR),
                               ("progress", T.FLOAT64), ("rows_done", T.INT64),
                               ("started_at", T.TIMESTAMPTZ)])
def _ddl_progress(db: "Database") -> list[tuple]:
    assert db.runtime is not None
    out = []
    for rt in db.runtime.relations.values():
        if rt.relation.options.get("creating") and rt.backfill_total:
            out.append((rt.relation.id, rt.relation.name,
                        rt.backfill_sent / max(rt.backfill_total, 1), rt.backfill_sent,
                        _ts(rt.created_at)))
    return out


__all__ = ["register_system_tables", "refresh", "time"]


# ---------------------------------------------------------------- bottlenecks
_BLOCKED = 0.5  # an upstream sending at most half the time is backpressured
_NOT_BLOCKED = 0.3  # the root itself is not waiting on its own downstream
_BUSY = 0.3  # ... and spends a real share of its time working
_EXTERNAL = 0.5  # share of busy time inside blocking calls that makes them the cause
_SKEW = 2.0  # busiest actor of a fragment this many times its quietest sibling
_LOOP_BOUND = 0.9  # actors' busy time (outside blocking calls) per wall second, summed:
# the event loop runs one of them at a time, so near 1 (or above: actors runnable but
# waiting for their turn) the process is out of CPU
_SHARE = 0.8  # ... and the root has at most this share of it: others compete for the loop


@system_table("bottlenecks", [("relation", T.VARCHAR), ("fragment_id", T.INT32),
                              ("operator", T.VARCHAR), ("cause", T.VARCHAR),
                              ("evidence", T.VARCHAR), ("suggestion", T.VARCHAR)])
def _bottlenecks(db: "Database") -> list[tuple]:
    """The operators at the root of backpressure: busy, not blocked themselves, with
    an upstream actor blocked sending to them. Empty when nothing is backpressured."""
    rt_all = _runtime(db)
    actors = [(rt, a, a.metrics.figures()) for rt in rt_all.relations.values()
              for a in rt.actors if a.metrics is not None]
    by_metrics = {id(a.metrics): (rt, a, f) for rt, a, f in actors}
    # Upstream actors of each actor: who sends into the channels it reads.
    upstream: dict[int, list[tuple[Any, Any, Any]]] = {}
    for rt, a, f in actors:
        for e in a.dispatcher.edges:
            for ch in e.channels:
                if ch.rx is not None and id(ch.rx) in by_metrics:
                    upstream.setdefault(id(ch.rx), []).append((rt, a, f))
    cpu = rt_all.cpu.utilization()
    loop = sum(max(0.0, f.busy_ratio - f.external_ratio) for _rt, _a, f in actors)
    limit = int(db.settings.get("state_size_limit_mb", 64)) << 20
    out: dict[tuple[int, int], tuple] = {}
    for rt, a, f in actors:
        assert a.metrics is not None
        ups = [u for u in upstream.get(id(a.metrics), []) if u[2].backpressure_ratio >= _BLOCKED]
        # Not itself blocked: an actor blocked part of the time but busy for more of it
        # is still where the time goes (its downstream waits for it less than it works).
        blocked = f.backpressure_ratio >= _NOT_BLOCKED and f.backpressure_ratio >= f.busy_ratio
        if not ups or blocked or f.busy_ratio < _BUSY:
            continue
        key = (rt.relation.id, a.fragment)
        if key in out and out[key][-1] >= f.busy_ratio:
            continue
        siblings = [x for x in actors if x[0] is rt and x[1].fragment == a.fragment]
        out[key] = _diagnose(rt, a, f, ups, siblings, (cpu, loop), limit) + (f.busy_ratio,)
    # A source reading in the same actor as the slow operator is not blocked but
    # falls behind the rate it was asked for: that actor is the root as well.
    for name, readers in getattr(rt_all, "sources", {}).items():
        asked = sum(r._rate() or 0 for r in readers if hasattr(r, "_rate"))
        for a in _source_actors(rt_all, name):
            rt, _a, f = by_metrics[id(a.metrics)] if a.metrics is not None and \
                id(a.metrics) in by_metrics else (None, None, None)
            if rt is None or not asked or (rt.relation.id, a.fragment) in out:
                continue
            if f.busy_ratio >= 0.8 and f.backpressure_ratio < _NOT_BLOCKED and \
                    f.rows_per_second < 0.8 * asked:
                siblings = [x for x in actors if x[0] is rt and x[1].fragment == a.fragment]
                behind = (None, None, _Behind(name, asked))
                out[(rt.relation.id, a.fragment)] = _diagnose(
                    rt, a, f, [behind], siblings, (cpu, loop), limit) + (f.busy_ratio,)
    return [row[:-1] for row in out.values()]


class _Behind:
    """Stands for the upstream of a source sharing its actor: the rate it asked for."""

    backpressure_ratio = 1.0

    def __init__(self, name: str, asked: float) -> None:
        self.name, self.asked = name, asked


def _diagnose(rt: "RelationRuntime", a: "Actor", f: Any, ups: list, siblings: list,
              load: tuple[float | None, float], limit: int) -> tuple:
    name = rt.relation.name
    frag = fragment_id(rt.relation.id, a.fragment)
    up = max(ups, key=lambda u: u[2].backpressure_ratio)
    evidence = (f"actor {a.id} busy {f.busy_ratio:.0%}, idle {f.idle_ratio:.0%}, "
                f"backpressured {f.backpressure_ratio:.0%} at {f.rows_per_second:.0f} rows/s; ")
    if isinstance(up[2], _Behind):
        evidence += (f"source {up[2].name} in the same actor reads {f.rows_per_second:.0f} "
                     f"of the {up[2].asked:.0f} rows/s asked")
    else:
        evidence += (f"upstream actor {up[1].id} ({up[0].relation.name}) backpressured "
                     f"{up[2].backpressure_ratio:.0%}")
    cpu, loop = load
    if cpu is not None:
        evidence += f"; process CPU {cpu:.0%} of one core"
    ops = [o for o in a.operators if o not in ("StreamMaterialize",)] or a.operators
    stateful = [o for o in ops if "Agg" in o or "Join" in o or "TopN" in o or "Distinct" in o]
    operator = (stateful or ops or [""])[0]
    n = len(siblings)
    rescale = f"ALTER MATERIALIZED VIEW {name} SET PARALLELISM = {max(2, 2 * n)}"
    state = sum(state_bytes(st) for st in a.states)
    busy = [s[2].busy_ratio for s in siblings]
    if f.busy_ratio > 0 and f.external_ratio / f.busy_ratio >= _EXTERNAL:
        calls = ", ".join(a.metrics.external_names) if a.metrics is not None else ""
        if "StreamSink" in a.operators:  # waiting for the sink's target
            return (name, frag, f"StreamSink ({calls})", "external calls",
                    evidence + f"; {f.external_ratio / f.busy_ratio:.0%} of busy time waiting "
                               f"for the target of {calls or 'the sink'}",
                    "the sink's target takes rows more slowly than they come: make it faster "
                    "(more partitions, a closer or faster server), or send fewer changes "
                    "(aggregate or filter before the sink)")
        operator = "StreamProject" if "StreamProject" in a.operators else operator
        operator += f" ({calls})" if calls else ""
        return (name, frag, operator, "external calls",
                evidence + f"; {f.external_ratio / f.busy_ratio:.0%} of busy time inside "
                           f"blocking calls of {calls or 'a UDF'}",
                f"make the call async (async def, calls then overlap) or add parallelism: "
                f"{rescale}")
    if n > 1 and max(busy) >= _BUSY and max(busy) >= _SKEW * max(min(busy), 0.01):
        return (name, frag, operator, "skewed partitions",
                evidence + f"; busy ratios of the fragment's {n} actors: "
                           + ", ".join(f"{b:.0%}" for b in busy),
                "one key range gets most rows, so more parallelism does not help: filter "
                "earlier, or spread the hot keys (e.g. pre-aggregate on a finer key)")
    if state >= limit:
        return (name, frag, operator, "state too large",
                evidence + f"; its state holds about {state / 2**20:.1f} MiB, over "
                           f"state_size_limit_mb = {limit >> 20}",
                "give state more room, filter earlier, or bound the state "
                "(a window closed by a watermark)")
    own = max(0.0, f.busy_ratio - f.external_ratio)
    if loop >= _LOOP_BOUND and own < _SHARE * loop:
        return (name, frag, operator, "insufficient resources",
                evidence + f"; the actors of the process are busy {loop:.0%} of the time "
                           f"together on one event loop, this one {own:.0%}: they wait for "
                           "their turn, not for this operator",
                "give the process more CPU (run heavy views in another process), "
                "or filter earlier to do less work")
    return (name, frag, operator, "slow operator", evidence,
            f"add parallelism ({rescale}), optimize the expression, or filter earlier")
