"""DDL and catalog commands: CREATE TABLE, CREATE MATERIALIZED VIEW, DROP,
EXPLAIN, DESCRIBE, SHOW TABLES / MATERIALIZED VIEWS."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Sequence

from sqlglot import exp

from planner import types as T
from planner.binder import position_of
from planner.catalog import (MATERIALIZED_VIEW, ROW_ID, SOURCE, SYSTEM_TABLE, TABLE, VIEW,
                             ColumnDef, Relation)
from planner.errors import (DEPENDENT_OBJECTS, DUPLICATE_COLUMN, DUPLICATE_TABLE,
                            SYNTAX_ERROR, UNDEFINED_COLUMN, UNDEFINED_TABLE, ProgrammingError,
                            not_supported)
from planner.column_defaults import default_sql
from planner.parse import bind_parameters, parse
from planner.table_clauses import split_table_clauses
from planner.table_watermark import table_watermark
from planner.expressions.udf import user_functions
from planner import plan_shape
from planner.planner import plan_view, view_query
from sqlstream import udf
from planner.source_def import has_connector
from planner.window import parse_view
from sqlstream import recovery, rescale, sinks, sources, tables, views
from sqlstream.result import Column, StatementResult
from storage.serving_store import NameClash, ServingError

if TYPE_CHECKING:
    from sqlstream.session import Session

_CREATE_MV = re.compile(r"^CREATE\s+MATERIALIZED\s+VIEW\b", re.I)


def execute(session: "Session", text: str, params: Sequence[Any] | None) -> StatementResult:
    head = " ".join(text.split()[:3]).upper()
    if udf.is_function_ddl(text):
        return udf.create(session, text) if head.startswith("CREATE") else udf.drop(session, text)
    if head.startswith("CREATE SOURCE") or (head.startswith("CREATE TABLE")
                                            and has_connector(text)):
        return sources.create(session, text)
    if head.startswith("ALTER") and sources.is_alter_rate_limit(text):
        return sources.alter_rate_limit(session, text)
    if head.startswith("CREATE SINK"):
        return sinks.create(session, text)
    if head.startswith("DROP SINK") and sinks.is_drop_sink(text):
        return sinks.drop(session, text)
    if head.startswith("CREATE FUNCTION") or head.startswith("CREATE INDEX"):
        raise not_supported(" ".join(text.split()[:2]).upper(), 1)
    if m := _ALTER_PARALLELISM.match(text.strip()):
        return alter_parallelism(session, m.group(1), int(m.group(2)))
    if head.startswith("ALTER"):
        raise not_supported("ALTER", 1)
    clauses = split_table_clauses(text)
    tree = parse_view(clauses.text)
    if params:
        tree = bind_parameters(tree, list(params))
    if isinstance(tree, exp.Create):
        kind = (tree.args.get("kind") or "").upper()
        if kind == "TABLE":
            if tree.expression is not None:
                return tables.create_table_as(session, tree, clauses)
            if not isinstance(tree.this, exp.Schema):  # `CREATE TABLE t`: no column list
                raise ProgrammingError("syntax error at end of input", SYNTAX_ERROR,
                                       len(text.rstrip().rstrip(";").rstrip()) + 1)
            return create_table(session, tree, tables.options_of(clauses))
        if kind == "VIEW":
            if not _CREATE_MV.match(text):
                return views.create(session, tree, text)
            return create_materialized_view(session, tree, text)
        raise not_supported(f"CREATE {kind}", 1)
    if isinstance(tree, exp.Drop):
        return drop(session, tree)
    raise not_supported(f"{tree.key.upper()} statement", 1)


# ---------------------------------------------------------------- CREATE TABLE
def column_type(node: exp.DataType) -> T.DataType:
    if node.this == exp.DataType.Type.DECIMAL and node.expressions:
        params = [int(p.this.this) for p in node.expressions]
        return T.numeric(params[0], params[1] if len(params) > 1 else 0)
    base = node.copy()
    base.set("expressions", [])
    name = base.sql(dialect="postgres").lower()
    t = T.type_from_name(name)
    if t is None:
        raise not_supported(f"type {node.sql(dialect='postgres')}", position_of(node))
    return t


def create_table(session: "Session", tree: exp.Create,
                 options: dict[str, Any] | None = None) -> StatementResult:
    """`options`: the table's catalog options (APPEND ONLY, ON CONFLICT)."""
    db = session.db
    options = dict(options or {})
    schema = tree.this
    name = schema.this.name
    cols: list[ColumnDef] = []
    pk_names: list[str] = []
    watermark = None
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            cname = item.this.name
            if any(c.name == cname for c in cols):
                raise ProgrammingError(f'column "{cname}" specified more than once',
                                       DUPLICATE_COLUMN, position_of(item))
            if cname == ROW_ID:  # the hidden key of a table without a primary key
                raise ProgrammingError(f'column name "{cname}" is reserved', "42939",
                                       position_of(item))
            if item.args.get("kind") is None:
                raise ProgrammingError(f'column "{cname}" has no type', "42601",
                                       position_of(item))
            col = ColumnDef(cname, column_type(item.args["kind"]))
            for cons in item.args.get("constraints") or []:
                k = cons.args.get("kind")
                if isinstance(k, exp.PrimaryKeyColumnConstraint):
                    pk_names.append(cname)
                    col.nullable = False
                elif isinstance(k, exp.NotNullColumnConstraint):
                    col.nullable = bool(k.args.get("allow_null"))
                elif isinstance(k, exp.DefaultColumnConstraint):
                    options.setdefault("defaults", {})[cname] = default_sql(k.this, col.type,
                                                                            cname)
                elif isinstance(k, (exp.ComputedColumnConstraint,
                                    exp.GeneratedAsIdentityColumnConstraint)):
                    # Refused rather than kept as an always-NULL column.
                    raise not_supported("generated column", position_of(item))
            cols.append(col)
        elif isinstance(item, exp.PrimaryKey):
            if pk_names:
                raise ProgrammingError(f'multiple primary keys for table "{name}" are not allowed',
                                       "42P16", position_of(item))
            pk_names = [e.name for e in item.expressions]
        elif isinstance(item, exp.WatermarkColumnConstraint):
            watermark = item
        else:
            raise not_supported(f"{item.key} in CREATE TABLE", position_of(item))
    if not cols:
        raise not_supported("a table without columns", position_of(schema))
    with db.lock:
        if db.catalog.get(name) is not None:
            if tree.args.get("exists"):
                return StatementResult("CREATE TABLE", notices=[
                    f'relation "{name}" already exists, skipping'])
            raise ProgrammingError(f'relation "{name}" already exists', DUPLICATE_TABLE)
        pk = []
        for pn in pk_names:
            idx = next((i for i, c in enumerate(cols) if c.name == pn), None)
            if idx is None:
                raise ProgrammingError(f'column "{pn}" named in key does not exist',
                                       UNDEFINED_COLUMN)
            cols[idx].nullable = False
            pk.append(idx)
        if watermark is not None:
            options["watermark"] = list(table_watermark(watermark, cols))
        tables.check_options(options, bool(pk))
        if not pk:
            cols.append(ColumnDef(ROW_ID, T.INT64, False, hidden=True))
            pk = [len(cols) - 1]
        rel = Relation(db.catalog.allocate_id(), name, TABLE, cols, pk,
                       parallelism=_parallelism(session), options=options)
        db.catalog.add(rel)
        db.run(_deploy_and_persist(db, rel))
    return StatementResult("CREATE TABLE")


async def _deploy_and_persist(db: Any, rel: Relation) -> None:
    """Start a new relation (added to the catalog in memory), then record the catalog.
    A failure before the record takes the relation out again, and the catalog on
    disk never held it."""
    try:
        await recovery.deploy(db, rel, backfill=False)
    except BaseException as e:
        await _undo_create(db, rel)
        if isinstance(e, ServingError):
            raise serving_error(e) from None
        raise
    await db.persist_catalog()


async def _undo_create(db: Any, rel: Relation) -> None:
    """Take a relation whose creation failed out of the catalog, the runtime and the
    serving store (it was never recorded, or recorded as still being created)."""
    if db.catalog.relations.get(rel.key) is rel:
        db.catalog.relations.pop(rel.key)
        db.catalog.version += 1
    db.writers.pop(rel.id, None)
    await db.runtime.drop(rel.id)
    db.serving.drop_relation(rel.id, rel.name)
    await db.store.drop_state(f"r{rel.id}/")


def serving_error(e: ServingError) -> ProgrammingError:
    """DuckDB refused a relation's table or view: a name it cannot hold."""
    if isinstance(e, NameClash):
        return not_supported(f"{e}: relation names differing only in case")
    return ProgrammingError(f"invalid relation: {e}", "42602")


def _parallelism(session: "Session") -> int:
    n = int(session.settings.get("streaming_parallelism") or 1)
    return max(1, n)


# ---------------------------------------------------------------- CREATE MATERIALIZED VIEW
def create_materialized_view(session: "Session", tree: exp.Create, text: str) -> StatementResult:
    db = session.db
    target = tree.this
    column_names = None
    if isinstance(target, exp.Schema):
        column_names = [e.name for e in target.expressions]
        target = target.this
    name = target.name
    with db.lock:
        if db.catalog.get(name) is not None:
            if tree.args.get("exists"):
                return StatementResult("CREATE MATERIALIZED VIEW", notices=[
                    f'relation "{name}" already exists, skipping'])
            raise ProgrammingError(f'relation "{name}" already exists', DUPLICATE_TABLE)
        rid = db.catalog.allocate_id()
        parallelism = _parallelism(session)
        used = udf.Recorder(db)  # the functions it calls are dependencies too
        with user_functions(used):
            planned = plan_view(db.catalog, view_query(tree), rid, name, parallelism,
                                column_names, plan_shape.CURRENT)
        cols = [ColumnDef(f.name, f.type) for f in planned.fields]
        rel = Relation(rid, name, MATERIALIZED_VIEW, cols, [], text, planned.depends_on + used.used,
                       parallelism,
                       options={"creating": True, "plan_shape": plan_shape.CURRENT})
        if column_names:
            rel.options["column_names"] = column_names
        for dep in planned.depends_on:
            if (used_rel := db.catalog.by_id(dep)) is not None:
                db.check_usable(used_rel)
        db.catalog.add(rel)
        try:
            db.run(_create_view(db, rel))
        except BaseException as e:
            db.run(_undo_create(db, rel))
            db.run(db.persist_catalog())
            if isinstance(e, ServingError):
                raise serving_error(e) from None
            raise
        # The backfill snapshot precedes the next barrier on every edge, so once that
        # barrier's checkpoint commits the view holds the full result. Only then is it
        # recorded as created: after a crash before that, recovery drops it (it
        # would otherwise come back with part of its backfill).
        try:
            db.flush()
        except BaseException:
            # The graph failed before the backfill committed: the view is not created
            # (a rebuild would bring it back without its backfill).
            forget_relation(db, rel)
            raise
        rel.options.pop("creating", None)
        db.run(db.persist_catalog())
    return StatementResult("CREATE MATERIALIZED VIEW")


async def _create_view(db: Any, rel: Relation) -> None:
    await db.persist_catalog()  # marked "creating": dropped at recovery if we die now
    # Subscribe while the graph is between barriers: no barrier is injected from the
    # checkpoint below until the new edges are in place, so the first barrier on every
    # edge of the view is the same one, whichever upstream it comes from (a table is
    # ahead of a view over it by the actors in between).
    barriers = db.runtime.barriers
    paused, barriers.paused = barriers.paused, True
    try:
        await barriers.flush()
        await recovery.deploy(db, rel, backfill=True)
    finally:
        barriers.paused = paused


# ---------------------------------------------------------------- DROP
def drop(session: "Session", tree: exp.Drop) -> StatementResult:
    db = session.db
    kind = (tree.args.get("kind") or "").upper()
    materialized = bool(tree.args.get("materialized"))
    want = {"TABLE": TABLE, "VIEW": MATERIALIZED_VIEW if materialized else VIEW,
            "SOURCE": SOURCE}.get(kind)
    if want is None:
        raise not_supported(f"DROP {kind}", 1)
    tag = {TABLE: "DROP TABLE", MATERIALIZED_VIEW: "DROP MATERIALIZED VIEW",
           SOURCE: "DROP SOURCE", VIEW: "DROP VIEW"}[want]
    notices = []
    with db.lock:
        targets = []
        for t in tree.args.get("tables") or [tree.this]:
            rel = db.catalog.get(t.name)
            if rel is None or rel.kind == SYSTEM_TABLE:
                if tree.args.get("exists"):
                    notices.append(f'{want} "{t.name}" does not exist, skipping')
                    continue
                raise ProgrammingError(f'{want} "{t.name}" does not exist', UNDEFINED_TABLE,
                                       position_of(t))
            if rel.kind != want:
                raise ProgrammingError(f'"{rel.name}" is not a {want}', "42809", position_of(t))
            targets.append(rel)
        order: list[Relation] = []
        for rel in targets:
            _collect_drop(db, rel, bool(tree.args.get("cascade")), order)
        # The catalog without them is recorded first: a crash part way through the
        # teardown then leaves unreferenced state, never a relation missing its data.
        for rel in order:
            db.catalog.remove(rel.key)
            db.writers.pop(rel.id, None)
        db.run(db.persist_catalog())
        for rel in order:
            db.run(_drop_one(db, rel))
    return StatementResult(tag, notices=notices)


def _collect_drop(db: Any, rel: Relation, cascade: bool, order: list[Relation]) -> None:
    deps = db.catalog.dependents(rel)
    if deps and not cascade:
        names = ", ".join(d.name for d in deps)
        raise ProgrammingError(
            f'cannot drop {rel.kind} {rel.name} because other objects depend on it',
            DEPENDENT_OBJECTS, detail=f"{names} depend(s) on {rel.name}",
            hint="Use DROP ... CASCADE to drop the dependent objects too.")
    for d in deps:
        _collect_drop(db, d, cascade, order)
    if rel not in order:
        order.append(rel)


def forget_relation(db: Any, rel: Relation) -> None:
    """Take a relation whose CREATE failed after it was recorded back out of the
    catalog (persisted), the runtime and the serving store."""
    db.catalog.relations.pop(rel.key, None)
    db.catalog.version += 1
    db.run(db.persist_catalog())
    db.run(_drop_one(db, rel))


async def _drop_one(db: Any, rel: Relation) -> None:
    db.broken.pop(rel.id, None)
    if rel.kind == VIEW:  # a plain view has no actors, rows or state
        return
    await db.runtime.drop(rel.id)
    db.serving.drop_relation(rel.id, rel.name)
    await db.store.drop_state(f"r{rel.id}/")
    await db.store.drop_dml(rel.id)


# ---------------------------------------------------------------- EXPLAIN / DESCRIBE / SHOW
def explain(session: "Session", rest: str, params: Sequence[Any] | None) -> StatementResult:
    db = session.db
    text = rest.strip()
    if m := re.match(r"^ANALYZE\s+MATERIALIZED\s+VIEW\s+(\w+)\s*;?$", text, re.I):
        return explain_analyze(session, m.group(1))
    if _CREATE_MV.match(text):
        tree = parse_view(text)
        target = tree.this
        cols = None
        if isinstance(target, exp.Schema):
            cols = [e.name for e in target.expressions]
            target = target.this
        with db.lock:
            planned = plan_view(db.catalog, view_query(tree), 0, target.name,
                                _parallelism(session), cols)
        lines = planned.plan.explain().split("\n")
    else:
        lines = _explain_batch(session, text, params)
    return StatementResult("EXPLAIN", [Column("QUERY PLAN", T.VARCHAR)],
                           [(ln,) for ln in lines])


# `EXPLAIN (VERBOSE) query`, `EXPLAIN (VERBOSE true) query`, `EXPLAIN VERBOSE query`
_VERBOSE = re.compile(r"^(?:\(\s*VERBOSE(?:\s+(?:TRUE|ON|1))?\s*\)|VERBOSE\b)\s*(.*)$",
                      re.I | re.S)


def _explain_batch(session: "Session", text: str, params: Sequence[Any] | None) -> list[str]:
    """A batch query's plan in the stream plans' style, over the user's relations;
    with VERBOSE, DuckDB's physical plan of the translated query."""
    from planner.batch import translate
    from planner.batch_explain import explain_batch
    from sqlstream.query import run_duckdb
    db = session.db
    verbose = _VERBOSE.match(text)
    if verbose:
        text = verbose.group(1)
    tree = bind_parameters(parse(text), list(params) if params else None)
    if not isinstance(tree, (exp.Select, exp.SetOperation, exp.Values)):
        raise not_supported("EXPLAIN of this statement", 1)
    with db.lock:
        batch = translate(tree, db.catalog)  # refuses what the query itself would
        if not verbose:
            return explain_batch(tree, db.catalog)
    _cols, rows = run_duckdb(db, "EXPLAIN " + batch.sql)
    return "\n".join(str(r[-1]) for r in rows).split("\n")


_ALTER_PARALLELISM = re.compile(r"^ALTER\s+MATERIALIZED\s+VIEW\s+(\w+)\s+SET\s+PARALLELISM"
                                r"\s*(?:=|\bTO\b)\s*(\d+)\s*;?$", re.I)


def alter_parallelism(session: "Session", name: str, n: int) -> StatementResult:
    """Rescale a running view: its state is regrouped by vnode for `n` actors per
    fragment and its actors rebuilt without backfill (results unchanged)."""
    db = session.db
    with db.lock:
        rel = db.catalog.get(name)
        if rel is None or rel.kind != MATERIALIZED_VIEW:
            raise ProgrammingError(f'materialized view "{name}" does not exist', UNDEFINED_TABLE)
        if n < 1:
            raise ProgrammingError("parallelism must be at least 1", "22023")
        db.check_usable(rel)
        if db.catalog.dependents(rel):
            raise not_supported("rescaling a view that other views read", 1)
        assert rel.definition is not None
        with user_functions(udf.Recorder(db)):
            planned = plan_view(db.catalog, view_query(parse_view(rel.definition)), rel.id,
                                rel.name, n, rel.options.get("column_names"),
                                rel.options.get("plan_shape", 1))
        try:
            mat_dist = rescale.check(rel, planned.plan)
        except NotImplementedError as e:
            raise not_supported(f"SET PARALLELISM of {e}", 1) from None
        db.flush()
        db.run(rescale.rescale(db, rel, planned.plan, mat_dist, n))
    db.flush()  # the new actors have started and refilled the serving store
    return StatementResult("ALTER MATERIALIZED VIEW")


def explain_analyze(session: "Session", name: str) -> StatementResult:
    """The running view's plan with measured rows/s, busy and backpressure ratios."""
    from executor.metrics import explain_analyze as render
    db = session.db
    with db.lock:
        rel = db.catalog.get(name)
        if rel is None or rel.kind != MATERIALIZED_VIEW:
            raise ProgrammingError(f'materialized view "{name}" does not exist', UNDEFINED_TABLE)
    rt = db.runtime.relations.get(rel.id) if db.runtime is not None else None
    if rt is None or rt.plan is None:
        raise ProgrammingError(f'materialized view "{name}" is not running', "55000")

    async def lines() -> list[str]:  # read on the engine loop, where figures are written
        return render(rt.plan, rt.actors)
    return StatementResult("EXPLAIN", [Column("QUERY PLAN", T.VARCHAR)],
                           [(ln,) for ln in db.run(lines())])


def describe(session: "Session", name: str) -> StatementResult:
    db = session.db
    with db.lock:
        rel = db.catalog.get(name)
        if rel is None:
            raise ProgrammingError(f'relation "{name}" does not exist', UNDEFINED_TABLE)
        pk = {rel.columns[i].name for i in rel.pk}
        rows = [(c.name, str(c.type), "NO" if not c.nullable else "YES",
                 "YES" if c.name in pk else "NO") for c in rel.visible_columns]
    cols = [Column("name", T.VARCHAR), Column("type", T.VARCHAR), Column("nullable", T.VARCHAR),
            Column("primary key", T.VARCHAR)]
    return StatementResult("DESCRIBE", cols, rows)


def show_relations(session: "Session", what: str) -> StatementResult:
    kind = {"tables": TABLE, "materialized views": MATERIALIZED_VIEW, "views": VIEW,
            "sources": SOURCE, "functions": "function"}[what]
    with session.db.lock:
        names = sorted(r.name for r in session.db.catalog.relations.values()
                       if r.kind == kind and r.schema == "public")
    return StatementResult(f"SHOW {len(names)}", [Column("Name", T.VARCHAR)],
                           [(n,) for n in names])
