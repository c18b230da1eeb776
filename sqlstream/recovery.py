"""Start-up: load the catalog, rebuild every relation's actors with their state
as of the last committed epoch, refill the serving store, and replay the DML
statements acknowledged after that epoch. Views then are exactly as if the
process had never stopped."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from executor.message import SIGN
from executor.operators.table_source import parse_offset
from executor.runtime import Runtime
from planner.catalog import MATERIALIZED_VIEW, ROW_ID, SINK, TABLE, Catalog, Relation
from planner.planner import plan_view, view_query
from planner.window import parse_view

if TYPE_CHECKING:
    from sqlstream.database import Database

log = logging.getLogger("sqlstream")


async def start(db: "Database") -> None:
    await db.store.open()
    text = await db.store.get_meta("catalog")
    catalog = Catalog.from_json(text) if text else Catalog()
    # A view whose CREATE never returned is dropped, with whatever state it left.
    for rel in [r for r in catalog.relations.values() if r.options.get("creating")]:
        catalog.remove(rel.name)
        await db.store.drop_state(f"r{rel.id}/")
    db.catalog = catalog
    from sqlstream.system_tables import register_system_tables
    register_system_tables(db)
    await rebuild(db)


async def restart(db: "Database") -> None:
    """After an actor failed: drop every actor and all uncommitted state, then
    rebuild from the last committed epoch and replay the acknowledged DML after it."""
    if db.runtime is not None:
        await db.runtime.stop()
    for rel in db.catalog.relations.values():
        if rel.kind in (TABLE, MATERIALIZED_VIEW):
            db.serving.drop_relation(rel.id, rel.name)
    db.writers.clear()
    await rebuild(db)


async def rebuild(db: "Database") -> None:
    catalog = db.catalog
    db.runtime = runtime = Runtime(db.store, db.serving, db.settings)
    offsets = await db.store.load_offsets()
    positions = {rel.id: parse_offset(offsets.get(f"table:{rel.id}"))
                 for rel in catalog.relations.values()}
    db.broken.clear()
    for rel in sorted(catalog.relations.values(), key=lambda r: r.id):
        seq, partial = positions[rel.id]
        if any(dep in db.broken for dep in rel.depends_on):
            _mark_broken(db, rel, "a relation it reads is broken")
            continue
        try:
            await deploy(db, rel, backfill=False, offset=seq, partial=partial)
        except Exception as e:  # noqa: BLE001 - one relation must not keep the database from opening
            await _undeploy(db, rel)
            _mark_broken(db, rel, f"{type(e).__name__}: {e}".split("\n")[0])
    for rel in sorted(catalog.relations.values(), key=lambda r: r.id):
        if rel.kind == TABLE and rel.id not in db.broken:
            await replay_dml(db, rel, skip=positions[rel.id][1])
    await db.persist_catalog()
    runtime.barriers.start()


def _mark_broken(db: "Database", rel: Relation, why: str) -> None:
    db.broken[rel.id] = why
    log.error("relation %r (id %d) could not be started and is marked broken: %s",
              rel.name, rel.id, why)


async def _undeploy(db: "Database", rel: Relation) -> None:
    """Remove what a failed deploy left (actors, serving table, writer); its state and
    logged DML stay on disk, untouched."""
    db.writers.pop(rel.id, None)
    if db.runtime is not None:
        try:
            await db.runtime.drop(rel.id)
        except Exception:
            log.exception("removing the actors of %r", rel.name)
    try:
        db.serving.drop_relation(rel.id, rel.name)
    except Exception:
        log.exception("removing the serving table of %r", rel.name)


def serving_columns(rel: Relation) -> list[tuple[str, str, bool]]:
    return [(c.name, c.type.duckdb, c.hidden) for c in rel.columns]


async def deploy(db: "Database", rel: Relation, backfill: bool, offset: int = 0,
                 partial: int = 0) -> None:
    runtime = db.runtime
    assert runtime is not None
    if rel.kind == TABLE:
        db.serving.create_relation(rel.id, rel.name, serving_columns(rel), multiset=False)
        rt = await runtime.deploy_table(rel, rel.parallelism, offset, partial)
        from sqlstream.database import TableWriter
        writer = TableWriter(rel)
        for actor in rt.mat_actors:
            assert actor.materialize is not None
            for key, (row, _rid) in actor.materialize.state.data.items():
                writer.rows[key] = row
        writer.seq = offset
        rid_col = rel.column_index(ROW_ID)
        if rid_col is not None and writer.rows:
            writer.next_row_id = max(r[rid_col] for r in writer.rows.values()) + 1
        db.writers[rel.id] = writer
    elif rel.kind == MATERIALIZED_VIEW:
        db.serving.create_relation(rel.id, rel.name, serving_columns(rel), multiset=True)
        assert rel.definition is not None
        planned = plan_view(db.catalog, view_query(parse_view(rel.definition)), rel.id, rel.name,
                            rel.parallelism, rel.options.get("column_names"),
                            rel.options.get("plan_shape", 1))
        await runtime.deploy_view(rel, planned.plan, backfill)
    elif rel.kind == SINK:
        from sqlstream import sinks
        await sinks.deploy(db, rel, backfill)


async def replay_dml(db: "Database", rel: Relation, skip: int = 0) -> None:
    """Feed the logged statements after the committed offset; the first `skip` rows
    of the first one are already in the committed state (it spanned a checkpoint)."""
    from sqlstream.database import feed
    runtime = db.runtime
    assert runtime is not None
    writer = db.writers[rel.id]
    rt = runtime.relations[rel.id]
    rid_col = rel.column_index(ROW_ID)
    pk = rel.pk
    for seq, (ops, rows) in await db.store.load_dml(rel.id, writer.seq):
        for op, row in zip(ops, rows):
            key = tuple(row[i] for i in pk)
            if SIGN[op] > 0:
                writer.rows[key] = row
                if rid_col is not None:
                    writer.next_row_id = max(writer.next_row_id, row[rid_col] + 1)
            else:
                writer.rows.pop(key, None)
        writer.seq = seq
        if skip:
            ops, rows, skip = ops[skip:], rows[skip:], 0
        await feed(rt, seq, ops, rows, int(db.settings["chunk_size"]))
