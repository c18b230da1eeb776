"""DDL for sinks: CREATE SINK ... FROM relation | AS query, DROP SINK, and the
rows of `sys.sinks`.

A sink is a catalog entry (kind `sink`) whose graph is planned like a view's,
with a sink operator at the root instead of a materialize: it keeps no contents
of its own. The root fragment has one actor, so changes leave in order. CREATE
SINK sends the current contents of its input first (a backfill, as a new view
gets), then every change. Options are checked at CREATE, where an unreachable
target or a missing topic is an error (see docs/sinks.md).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from executor.runtime import inserts_only
from executor.sinks import SinkSpec, sink
from planner import plan_shape
from planner.catalog import SINK, ColumnDef, Relation
from planner.errors import DUPLICATE_TABLE, UNDEFINED_TABLE, ProgrammingError
from planner.parse import parse
from planner.planner import plan_view
from planner.sink_def import parse_drop_sink, parse_sink
from planner.stream_plan import StreamPlan
from sqlstream.result import StatementResult

if TYPE_CHECKING:
    from sqlstream.database import Database
    from sqlstream.session import Session


def is_drop_sink(text: str) -> bool:
    return parse_drop_sink(text) is not None


def sink_plan(db: "Database", rel: Relation) -> StreamPlan:
    """The sink's graph: its query planned as a view, the materialize at the root
    replaced by the sink operator."""
    opts = rel.options
    planned = plan_view(db.catalog, parse(opts["query"]), rel.id, rel.name, rel.parallelism,
                        None, opts.get("plan_shape", plan_shape.CURRENT))
    plan = planned.plan
    assert db.runtime is not None
    for frag in plan.fragments:
        root = frag.root
        if root.kind != "materialize":
            continue
        append = inserts_only(list(root.inputs), plan, db.runtime.append_only)
        # One writer: each key's changes reach the target in the order they were made
        # (an update pair split over two writers could arrive reversed).
        frag.parallelism = 1
        frag.root = dataclasses.replace(root, kind="sink", params={
            "name": rel.name, "relation_id": rel.id, "options": dict(opts["with"]),
            "columns": [(f.name, f.type) for f in plan.schema], "format": opts.get("format"),
            "encode": opts.get("encode"), "encode_options": dict(opts.get("encode_options") or {}),
            "append_only": append})
    return plan


async def deploy(db: "Database", rel: Relation, backfill: bool) -> None:
    assert db.runtime is not None
    await db.runtime.deploy_view(rel, sink_plan(db, rel), backfill)


def create(session: "Session", text: str) -> StatementResult:
    from sqlstream.ddl import _parallelism, forget_relation
    d = parse_sink(text)
    db = session.db
    with db.lock:
        if db.catalog.get(d.name) is not None:
            if d.if_not_exists:
                return StatementResult("CREATE SINK", notices=[
                    f'relation "{d.name}" already exists, skipping'])
            raise ProgrammingError(f'relation "{d.name}" already exists', DUPLICATE_TABLE)
        if d.from_relation is not None:
            db.catalog.require(d.from_relation)
        connector = sink(d.options["connector"])
        rid = db.catalog.allocate_id()
        planned = plan_view(db.catalog, parse(d.query), rid, d.name, _parallelism(session),
                            None, plan_shape.CURRENT)
        cols = [ColumnDef(f.name, f.type) for f in planned.fields]
        rel = Relation(rid, d.name, SINK, cols, [], text, planned.depends_on,
                       _parallelism(session), options={
                           "with": dict(d.options), "format": d.format, "encode": d.encode,
                           "encode_options": d.encode_options, "query": d.query,
                           "plan_shape": plan_shape.CURRENT, "creating": True})
        plan = sink_plan(db, rel)
        params = next(f.root.params for f in plan.fragments if f.root.kind == "sink")
        connector.validate(SinkSpec(d.name, dict(d.options), list(params["columns"]),
                                    d.format, d.encode, d.encode_options,
                                    params["append_only"]))
        db.catalog.add(rel)
        runtime = db.runtime
        assert runtime is not None
        try:
            db.run(runtime.deploy_view(rel, plan, backfill=True))
            # Recorded as created once the backfill's checkpoint committed (as a view).
            db.flush()
        except BaseException:
            forget_relation(db, rel)
            raise
        rel.options.pop("creating", None)
        db.run(db.persist_catalog())
    return StatementResult("CREATE SINK")


def drop(session: "Session", text: str) -> StatementResult:
    from sqlstream.ddl import _drop_one
    parsed = parse_drop_sink(text)
    assert parsed is not None
    names, if_exists = parsed
    db = session.db
    notices = []
    with db.lock:
        targets = []
        for name in names:
            rel = db.catalog.get(name)
            if rel is None:
                if if_exists:
                    notices.append(f'sink "{name}" does not exist, skipping')
                    continue
                raise ProgrammingError(f'sink "{name}" does not exist', UNDEFINED_TABLE)
            if rel.kind != SINK:
                raise ProgrammingError(f'"{rel.name}" is not a sink', "42809")
            targets.append(rel)
        for rel in targets:
            db.catalog.remove(rel.key)
        db.run(db.persist_catalog())
        for rel in targets:
            db.run(_drop_one(db, rel))
    return StatementResult("DROP SINK", notices=notices)


def sink_rows(db: "Database") -> list[tuple[Any, ...]]:
    """sys.sinks: one row per sink, its writers' figures added up."""
    runtime = db.runtime
    out = []
    for rel in db.catalog.relations.values():
        if rel.kind != SINK:
            continue
        ops = runtime.sinks.get(rel.id, []) if runtime is not None else []
        metrics = [op.metrics for op in ops]
        last = next((m.last_error for m in metrics if m.last_error), None)
        out.append((rel.name, str(rel.options.get("with", {}).get("connector", "")),
                    sum(m.rows_written for m in metrics),
                    sum(m.rows_per_second for m in metrics),
                    max((len(m.pending) for m in metrics), default=0),
                    sum(m.errors for m in metrics), last))
    return out
