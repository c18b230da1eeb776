"""Python UDFs: CREATE FUNCTION ... LANGUAGE python AS $$ def f(x): ... $$ (or
`async def`), DROP FUNCTION, and their registration with DuckDB for batch SELECTs.

A function is a catalog entry of kind `function` (persisted with the catalog):
its parameters are its columns, the Python source and result type its options.
Streaming evaluates calls in `executor/operators/udf_project.py`.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from typing import TYPE_CHECKING, Any, Callable

from planner import types as T
from planner.catalog import ColumnDef, Relation
from planner.errors import (DEPENDENT_OBJECTS, DUPLICATE_TABLE, ProgrammingError,
                            not_supported)
from planner.expressions.udf import UserFunction, install_user_functions
from planner.expressions.udf import load_function as compile_function

if TYPE_CHECKING:
    from sqlstream.database import Database
    from sqlstream.session import Session

FUNCTION = "function"
INSUFFICIENT_PRIVILEGE = "42501"
INVALID_FUNCTION_DEFINITION = "42P13"

_CREATE = re.compile(
    r"^CREATE\s+(OR\s+REPLACE\s+)?FUNCTION\s+(\w+)\s*\((.*?)\)\s*RETURNS\s+(.+?)\s+"
    r"(?:LANGUAGE\s+(\w+)\s+AS\s+(\$\w*\$)(.*)\6|AS\s+(\$\w*\$)(.*)\8\s+LANGUAGE\s+(\w+))\s*$",
    re.I | re.S)
_DROP = re.compile(r"^DROP\s+FUNCTION\s+(IF\s+EXISTS\s+)?(\w+)\s*(\(.*?\))?\s*(CASCADE|RESTRICT)?"
                   r"\s*$", re.I | re.S)


def is_function_ddl(text: str) -> bool:
    return bool(re.match(r"^(CREATE\s+(OR\s+REPLACE\s+)?|DROP\s+)FUNCTION\b", text, re.I))


# ---------------------------------------------------------------- catalog entries
def user_function(rel: Relation | None) -> UserFunction | None:
    if rel is None or rel.kind != FUNCTION:
        return None
    o = rel.options
    return UserFunction(rel.name, tuple(c.type for c in rel.columns), _type(o["returns"]),
                        o["body"], bool(o.get("async")))


def lookup(db: "Database") -> Callable[[str], UserFunction | None]:
    return lambda name: user_function(db.catalog.get(name))


class Recorder:
    """A lookup that remembers which functions a plan used (its dependencies)."""

    def __init__(self, db: "Database") -> None:
        self.db = db
        self.used: list[int] = []

    def __call__(self, name: str) -> UserFunction | None:
        rel = self.db.catalog.get(name)
        func = user_function(rel)
        if func is not None and rel is not None and rel.id not in self.used:
            self.used.append(rel.id)
        return func


def _type(name: str) -> T.DataType:
    m = re.match(r"^\s*(numeric|decimal)\s*\(\s*(\d+)\s*(?:,\s*(\d+))?\s*\)\s*$", name, re.I)
    if m:
        return T.numeric(int(m.group(2)), int(m.group(3) or 0))
    t = T.type_from_name(name)
    if t is None:
        raise ProgrammingError(f'type "{name.strip()}" does not exist', "42704")
    return t


# ---------------------------------------------------------------- DDL
def create(session: "Session", text: str) -> Any:
    from sqlstream.result import StatementResult
    db = session.db
    if not getattr(session, "allow_udf", True):
        raise ProgrammingError(
            "permission denied to create a Python function over the network (start the "
            "server with --allow-udf-over-network)", INSUFFICIENT_PRIVILEGE)
    m = _CREATE.match(text.strip().rstrip(";"))
    if m is None:
        raise ProgrammingError("syntax error in CREATE FUNCTION (expected CREATE FUNCTION "
                               "f(x type, ...) RETURNS type LANGUAGE python AS $$ ... $$)",
                               "42601")
    replace, name, params, returns = m.group(1), m.group(2).lower(), m.group(3), m.group(4)
    language = (m.group(5) or m.group(10)).lower()
    body = m.group(7) if m.group(7) is not None else m.group(9)
    if language != "python":
        raise not_supported(f"LANGUAGE {language} (only python)", 1)
    cols = []
    for i, p in enumerate(x.strip() for x in _split_params(params) if x.strip()):
        words = p.split()
        t_name = p if T.type_from_name(p) is not None or len(words) == 1 else \
            " ".join(words[1:])
        arg = words[0] if t_name != p else f"arg{i + 1}"
        cols.append(ColumnDef(arg, _type(t_name)))
    result = _type(returns)
    func = UserFunction(name, tuple(c.type for c in cols), result, _dedent(body))
    fn = compile_function(func)
    is_async = inspect.iscoroutinefunction(fn)
    with db.lock:
        old = db.catalog.get(name)
        if old is not None:
            if not (replace and old.kind == FUNCTION):
                raise ProgrammingError(f'function "{name}" already exists', DUPLICATE_TABLE)
            if db.catalog.dependents(old):
                raise ProgrammingError(f"cannot replace function {name}: views use it",
                                       DEPENDENT_OBJECTS)
            db.catalog.remove(old.key)
        rel = Relation(db.catalog.allocate_id(), name, FUNCTION, cols, [], text,
                       options={"returns": str(result), "language": "python",
                                "body": func.body, "async": is_async})
        db.catalog.add(rel)
        db.run(db.persist_catalog())
        register_duckdb(db, rel)
    return StatementResult("CREATE FUNCTION")


def drop(session: "Session", text: str) -> Any:
    from sqlstream import ddl
    from sqlstream.result import StatementResult
    db = session.db
    m = _DROP.match(text.strip().rstrip(";"))
    if m is None:
        raise ProgrammingError("syntax error in DROP FUNCTION", "42601")
    name = m.group(2).lower()
    with db.lock:
        rel = db.catalog.get(name)
        if rel is None or rel.kind != FUNCTION:
            if m.group(1):
                return StatementResult("DROP FUNCTION",
                                       notices=[f'function {name} does not exist, skipping'])
            raise ProgrammingError(f"function {name} does not exist", "42883")
        order: list[Relation] = []
        ddl._collect_drop(db, rel, (m.group(4) or "").upper() == "CASCADE", order)
        for r in order:
            if r.kind == FUNCTION:
                unregister_duckdb(db, r.name)
            else:
                db.run(ddl._drop_one(db, r))
            db.catalog.remove(r.key)
            db.writers.pop(r.id, None)
        db.run(db.persist_catalog())
    return StatementResult("DROP FUNCTION")


def _split_params(text: str) -> list[str]:
    """Split on commas outside parentheses (numeric(10, 2))."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return out + [cur]


def _dedent(body: str) -> str:
    import textwrap
    return textwrap.dedent(body.strip("\n"))


# ---------------------------------------------------------------- DuckDB (batch)
def register_duckdb(db: "Database", rel: Relation) -> None:
    """Make the function callable from batch SELECTs (DuckDB calls it per row)."""
    func = user_function(rel)
    assert func is not None
    fn = compile_function(func)
    call: Callable[..., Any] = fn
    if func.is_async:
        def call(*args: Any) -> Any:
            return asyncio.run(fn(*args))
    with db.serving.lock:
        try:
            db.duck.remove_function(func.name)
        except Exception:
            pass
        db.duck.create_function(func.name, call, [t.duckdb for t in func.arg_types],
                                func.result.duckdb, null_handling="special",
                                side_effects=True)


def unregister_duckdb(db: "Database", name: str) -> None:
    with db.serving.lock:
        try:
            db.duck.remove_function(name)
        except Exception:
            pass


def install(db: "Database") -> None:
    """At start-up: the catalog's functions for DuckDB and for planning the views."""
    install_user_functions(lookup(db))
    for rel in list(db.catalog.relations.values()):
        if rel.kind == FUNCTION:
            register_duckdb(db, rel)


__all__ = ["create", "drop", "install", "is_function_ddl", "lookup", "Recorder",
           "compile_function", "user_function", "FUNCTION"]
