"""DDL for connectors: CREATE SOURCE, CREATE TABLE ... WITH (connector = ...),
ALTER SOURCE ... SET source_rate_limit.

A source stores nothing: it is a catalog entry whose options each view reading
it turns into its own readers. A table with a connector stores the rows its
reader produces (and accepts DML as any table). Options are checked here, at
CREATE, so a bad option fails with an error naming it, not later in a reader.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from executor.connectors import Connector, SourceSpec, connector
from planner import types as T
from planner.catalog import ROW_ID, SOURCE, TABLE, ColumnDef, Relation
from planner.errors import (DUPLICATE_TABLE, INSUFFICIENT_PRIVILEGE, INVALID_PARAMETER,
                            SYNTAX_ERROR, UNDEFINED_COLUMN, UNDEFINED_TABLE, ProgrammingError,
                            not_supported)
from planner.source_def import parse_alter_rate_limit, parse_source
from sqlstream.result import StatementResult

if TYPE_CHECKING:
    from sqlstream.session import Session


def create(session: "Session", text: str) -> StatementResult:
    d = parse_source(text)
    tag = "CREATE SOURCE" if d.kind == "source" else "CREATE TABLE"
    options = dict(d.options)
    conn = connector(options["connector"])
    columns = [(c.name, c.type) for c in d.columns]
    if not columns:
        if conn.default_columns is None:
            raise ProgrammingError(f"{d.kind} {d.name} needs a column list", SYNTAX_ERROR)
        columns = conn.default_columns(options)
    if d.format == "UPSERT" and d.watermark is not None:
        raise not_supported("WATERMARK with FORMAT UPSERT")
    if d.proctime and d.kind == "table":
        raise not_supported("AS PROCTIME() columns in a table (only in a source)")
    read = [c for c in columns if c[0] not in d.proctime]  # the connector fills these
    _confine_folder(session, conn, options)
    spec = SourceSpec(options, read, d.encode, d.encode_options, format=d.format,
                      primary_key=list(d.primary_key) if d.kind == "table" else [])
    conn.validate(spec)
    warnings = conn.warnings(spec) if conn.warnings is not None else []
    limit = options.get("source_rate_limit")
    if limit is not None:
        try:
            if int(limit) < 0:
                raise ValueError
        except ValueError:
            raise ProgrammingError('invalid option "source_rate_limit": expected a '
                                   f"non-negative integer, got '{limit}'",
                                   INVALID_PARAMETER) from None
    if conn.fixed_options is not None:
        options.update(conn.fixed_options(options))
    if d.watermark is not None:
        wtype = dict(columns)[d.watermark[0]]
        if wtype not in (T.TIMESTAMP, T.TIMESTAMPTZ, T.DATE):
            raise ProgrammingError(f'WATERMARK column "{d.watermark[0]}" must be a timestamp, '
                                   f"not {wtype}", "42804")
    rel_options: dict[str, Any] = {"with": options, "format": d.format, "encode": d.encode,
                                   "encode_options": d.encode_options}
    if d.watermark is not None:
        rel_options["watermark"] = list(d.watermark)
    if d.proctime:
        rel_options["proctime"] = list(d.proctime)
    db = session.db
    with db.lock:
        if db.catalog.get(d.name) is not None:
            if d.if_not_exists:
                return StatementResult(tag, notices=[
                    f'relation "{d.name}" already exists, skipping'])
            raise ProgrammingError(f'relation "{d.name}" already exists', DUPLICATE_TABLE)
        cols = [ColumnDef(n, t) for n, t in columns]
        if d.kind == "source":
            rel = Relation(db.catalog.allocate_id(), d.name, SOURCE, cols, [], text,
                           options=rel_options)
            db.catalog.add(rel)
            db.run(db.persist_catalog())
            return StatementResult(tag, notices=warnings)
        pk: list[int] = []
        for name in d.primary_key:
            idx = next((i for i, c in enumerate(cols) if c.name == name), None)
            if idx is None:
                raise ProgrammingError(f'column "{name}" named in key does not exist',
                                       UNDEFINED_COLUMN)
            cols[idx].nullable = False
            pk.append(idx)
        if not pk:
            cols.append(ColumnDef(ROW_ID, T.INT64, False, hidden=True))
            pk = [len(cols) - 1]
        from sqlstream.ddl import _deploy_and_persist, _parallelism
        rel = Relation(db.catalog.allocate_id(), d.name, TABLE, cols, pk, text,
                       parallelism=_parallelism(session), options=rel_options)
        db.catalog.add(rel)
        db.run(_deploy_and_persist(db, rel))
    return StatementResult(tag, notices=warnings)


def _confine_folder(session: "Session", conn: Connector, options: dict[str, str]) -> None:
    """A session limited to some folders (`session.fs_roots`, a network client) may read
    only below them: the folder is resolved (symbolic links, `..`) before the check, kept
    resolved, and the reader told not to follow links out of it."""
    roots = getattr(session, "fs_roots", None)
    if roots is None or conn.folder_option is None:
        return
    if not roots:
        raise ProgrammingError(
            f"permission denied to create a {conn.name} source over the network: start the "
            "server with --allow-fs-root DIR to let clients read files below DIR",
            INSUFFICIENT_PRIVILEGE)
    folder = options.get(conn.folder_option)
    if folder:
        real = os.path.realpath(folder)
        if not any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots):
            raise ProgrammingError(
                f"permission denied for folder '{folder}': it is not below a folder the "
                "server allows (--allow-fs-root)", INSUFFICIENT_PRIVILEGE)
        options[conn.folder_option] = real
    if conn.confine_option is not None:
        options[conn.confine_option] = "true"


def is_alter_rate_limit(text: str) -> bool:
    return parse_alter_rate_limit(text) is not None


def alter_rate_limit(session: "Session", text: str) -> StatementResult:
    """ALTER SOURCE name SET source_rate_limit = n | DEFAULT, applied to running
    readers at once and kept in the catalog for later ones."""
    parsed = parse_alter_rate_limit(text)
    assert parsed is not None
    name, limit = parsed
    db = session.db
    with db.lock:
        rel = db.catalog.get(name)
        if rel is None or not rel.options.get("with"):
            raise ProgrammingError(f'source "{name}" does not exist', UNDEFINED_TABLE)
        opts = rel.options["with"]
        if limit is None:
            opts.pop("source_rate_limit", None)
        else:
            opts["source_rate_limit"] = str(limit)
        db.catalog.version += 1

        async def apply() -> None:
            assert db.runtime is not None
            for reader in db.runtime.sources.get(rel.name, []):
                reader.rate_limit = limit
            await db.persist_catalog()
        db.run(apply())
    return StatementResult("ALTER SOURCE" if rel.kind == SOURCE else "ALTER TABLE")
