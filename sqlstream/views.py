"""CREATE [OR REPLACE] VIEW: a plain view, a named query recorded in the catalog
with its output columns. It has no actors and no stored rows: queries and
materialized views that read it expand it (planner.views)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from planner.binder import Binder
from planner.catalog import VIEW, ColumnDef, Relation
from planner.errors import (
    DEPENDENT_OBJECTS,
    DUPLICATE_COLUMN,
    DUPLICATE_TABLE,
    NotSupportedError,
    ProgrammingError,
)
from planner.views import create_parts, referenced
from sqlstream.result import StatementResult

if TYPE_CHECKING:
    from sqlstream.session import Session


def create(session: Session, tree: exp.Create, text: str) -> StatementResult:
    db = session.db
    name, names, query = create_parts(tree)
    with db.lock:
        old = db.catalog.get(name)
        if old is not None:
            if tree.args.get("exists"):
                return StatementResult("CREATE VIEW", notices=[
                    f'relation "{name}" already exists, skipping'])
            if not tree.args.get("replace"):
                raise ProgrammingError(f'relation "{name}" already exists', DUPLICATE_TABLE)
            if old.kind != VIEW:
                raise ProgrammingError(f'"{name}" is not a view', "42809")
        cols = query_columns(session, query, names)
        deps = referenced(query, db.catalog)
        if old is not None:
            if old in deps or any(_reads(db, d, old) for d in deps):
                raise ProgrammingError("infinite recursion detected in rules for relation "
                                       f'"{name}"', "42P17")
            _check_replacement(db, old, cols)
            _check_no_materialized_dependents(db, old)
            rid = old.id
        else:
            rid = db.catalog.allocate_id()
        rel = Relation(rid, name, VIEW, cols, [], text, [d.id for d in deps])
        if old is not None:
            db.catalog.relations[old.key] = rel
            db.catalog.version += 1
        else:
            db.catalog.add(rel)
        db.run(db.persist_catalog())
    return StatementResult("CREATE VIEW")


def _reads(db: object, rel: Relation, target: Relation) -> bool:
    """Whether `rel` reads `target`, directly or through other relations."""
    seen: set[int] = set()
    stack = list(rel.depends_on)
    while stack:
        rid = stack.pop()
        if rid == target.id:
            return True
        if rid in seen:
            continue
        seen.add(rid)
        dep = db.catalog.by_id(rid)  # type: ignore[attr-defined]
        if dep is not None:
            stack.extend(dep.depends_on)
    return False


def query_columns(session: Session, query: exp.Expression,
             names: list[str] | None) -> list[ColumnDef]:
    """The view's output columns: typed by the streaming binder where it can plan the
    query, else by the batch engine (a plain view may use what only batch reads can)."""
    db = session.db
    try:
        logical, out_names = Binder(db.catalog).bind_query(query.copy())
        fields = [(n, f.type) for n, f in zip(out_names, logical.schema)]
    except NotSupportedError:
        from planner.batch import translate
        from sqlstream.query import run_duckdb
        batch = translate(query, db.catalog)
        if batch.system_tables:
            from sqlstream.system_tables import refresh
            refresh(db, batch.system_tables)
        cols, _rows = run_duckdb(db, f"SELECT * FROM ({batch.sql}) AS q LIMIT 0")
        fields = [(c.name, c.type) for c in cols]
    if names:
        if len(names) > len(fields):
            raise ProgrammingError("CREATE VIEW specifies more column names than columns",
                                   "42601")
        fields = [(n, t) for n, (_o, t) in zip(names, fields)] + fields[len(names):]
    seen: set[str] = set()
    for n, _t in fields:
        if n in seen:
            raise ProgrammingError(f'column "{n}" specified more than once', DUPLICATE_COLUMN)
        seen.add(n)
    return [ColumnDef(n, t) for n, t in fields]


def _check_no_materialized_dependents(db: object, view: Relation) -> None:
    """A materialized view over this view was planned from its old query and keeps
    computing that; replacing the query under it would change it at the next restart."""
    stack = [view]
    while stack:
        for dep in db.catalog.dependents(stack.pop()):  # type: ignore[attr-defined]
            if dep.kind != VIEW:
                raise ProgrammingError(
                    f'cannot replace view "{view.name}" because {dep.kind} "{dep.name}" '
                    "depends on it", DEPENDENT_OBJECTS,
                    hint=f'Drop {dep.kind} "{dep.name}" first.')
            stack.append(dep)


def _check_replacement(db: object, old: Relation, cols: list[ColumnDef]) -> None:
    """As PostgreSQL: OR REPLACE keeps the old columns (names and types, in order) and
    may only add new ones at the end."""
    if len(cols) < len(old.columns):
        raise ProgrammingError("cannot drop columns from view", "42P16")
    for o, n in zip(old.columns, cols):
        if o.name != n.name:
            raise ProgrammingError(f'cannot change name of view column "{o.name}" to '
                                   f'"{n.name}"', "42P16")
        if o.type != n.type:
            raise ProgrammingError(f'cannot change data type of view column "{o.name}" from '
                                   f"{o.type} to {n.type}", "42P16")


__all__ = ["create"]
