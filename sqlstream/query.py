"""Batch SELECT: answered by DuckDB over the serving store (the last committed
epoch of every table and view) and the system tables."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from typing import TYPE_CHECKING, Any

import duckdb
from sqlglot import exp

from planner import types as T
from planner.batch import translate
from planner.batch_functions_pg import ERROR_CODES
from planner.batch_semantics import AVG_DUCKDB_TYPE
from planner.errors import (DataError, Error, NotSupportedError, OperationalError,
                            ProgrammingError)
from sqlstream.result import Column, StatementResult

if TYPE_CHECKING:
    from sqlstream.session import Session

try:  # provided by the wire-protocol layer: PostgreSQL catalog compatibility
    from planner import pg_compat
except ImportError:  # pragma: no cover
    pg_compat = None  # type: ignore[assignment]


def select(session: "Session", tree: exp.Expression, text: str) -> StatementResult:
    db = session.db
    catalog = pg_compat is not None and pg_compat.references_catalog(tree)
    if catalog:
        if db.pg_catalog is not None:
            db.pg_catalog.refresh()
        tree = pg_compat.rewrite(tree)
    with db.lock:
        batch = translate(tree, db.catalog)
    if batch.system_tables:
        from sqlstream.system_tables import refresh
        refresh(db, batch.system_tables)
    try:
        cols, rows = run_duckdb(db, batch.sql, session=session, arrays=not catalog)
    except Error as e:
        if e.position is None and text:
            e.position = _locate(str(e), text)
        raise
    return StatementResult(f"SELECT {len(rows)}", cols, rows)


def _locate(message: str, text: str) -> int | None:
    """The position in the user's text of the name an error is about: DuckDB reports
    positions in its own translation of the query, not in what the user wrote."""
    m = (re.search(r'"([^"]+)"[^"]*$', message)
         or re.search(r"^(?:column|function) ([\w.]+) does not exist", message))
    if m is None:
        return None
    found = re.search(rf"(?<![\w.]){re.escape(m.group(1))}(?!\w)", text, re.I)
    return found.start() + 1 if found else None


def run_duckdb(db: Any, sql: str, params: list | None = None, session: Any = None,
               arrays: bool = True) -> tuple[list[Column], list[tuple]]:
    """Columns and rows of a DuckDB query. Lists are arrays unless `arrays` is false:
    catalog queries of drivers keep them as text, since their array columns have
    PostgreSQL types we do not model (oid[], name[], int2vector) and a driver that met
    an array type it has to look up would look it up with such a query again."""
    cur = db.duck.cursor()
    if session is not None:
        session.running_cursor = cur  # Session.cancel() interrupts it
    try:
        cur.execute(sql, params) if params else cur.execute(sql)
        desc = cur.description or []
        rows = (_fetch_with_intervals(cur, desc) if any(str(d[1]) == "INTERVAL" for d in desc)
                else cur.fetchall() if desc else [])
    except duckdb.Error as e:
        raise translate_error(e) from None
    except OverflowError:  # a value Python's types cannot hold (an interval past timedelta)
        raise DataError("value out of range for the result type", "22008") from None
    finally:
        if session is not None:
            session.running_cursor = None
        cur.close()
    cols = [Column(d[0], duck_type(str(d[1])) if arrays or not _LIST.match(str(d[1]))
                   else T.VARCHAR) for d in desc]
    loose = [i for i, d in enumerate(desc) if str(d[1]) in (T.DECIMAL.duckdb, AVG_DUCKDB_TYPE)]
    if loose and rows:
        rows = _trim_numeric(rows, loose)
    lists = [i for i, d in enumerate(desc) if arrays and _LIST.match(str(d[1]))]
    if lists and rows:
        rows = _list_columns(cols, rows, lists)
    return cols, rows


def _fetch_with_intervals(cur: Any, desc: list) -> list[tuple]:
    """Rows of a result with interval columns, read through Arrow so that an interval
    keeps its months apart from its days (DuckDB's Python rows make it a timedelta of
    30-day months: '1 year 1 mon 1 day' would read as '391 days')."""
    with warnings.catch_warnings():  # the copy it warns about is the point here
        warnings.simplefilter("ignore")
        table = cur.to_arrow_table()
    columns = []
    for d, col in zip(desc, table.columns):
        values = col.to_pylist()
        if str(d[1]) == "INTERVAL":
            values = [None if v is None else T.Interval(v.months, v.days, v.nanoseconds // 1000)
                      for v in values]
        columns.append(values)
    return list(zip(*columns))


def _list_columns(cols: list[Column], rows: list[tuple], positions: list[int]) -> list[tuple]:
    """Lists of unconstrained numeric lose their padding zeros as single values do; a
    column of nested lists that are not all rectangular cannot be a PostgreSQL array
    (whose sub-arrays all have one length) and becomes text."""
    for i in positions:
        if cols[i].type.duckdb.startswith(T.DECIMAL.duckdb + "["):
            rows = [r[:i] + (_trim_list(r[i]),) + r[i + 1:] for r in rows]
        if cols[i].type.duckdb.endswith("[][]") and not all(
                is_rectangular(r[i]) for r in rows):
            cols[i] = Column(cols[i].name, T.VARCHAR)
    return rows


def _trim_list(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_trim_list(x) for x in v]
    if v is not None and v == v:
        v = v.normalize()
        return v.quantize(1) if v.as_tuple().exponent > 0 else v
    return v


def array_dims(v: Any) -> list[int] | None:
    """The size of each dimension of a list of lists, as PostgreSQL's arrays have them
    ([[1, 2], [3, 4]] -> [2, 2]), or None when the sub-lists differ in length or a
    sub-list is NULL."""
    dims: list[int] = []
    x = v
    while isinstance(x, (list, tuple)):
        dims.append(len(x))
        if not x:
            break
        x = x[0]

    def fits(x: Any, depth: int) -> bool:
        if depth == len(dims):
            return not isinstance(x, (list, tuple))
        return (isinstance(x, (list, tuple)) and len(x) == dims[depth]
                and all(fits(y, depth + 1) for y in x))

    return dims if fits(v, 0) else None


def is_rectangular(v: Any) -> bool:
    return v is None or array_dims(v) is not None


def _trim_numeric(rows: list[tuple], positions: list[int]) -> list[tuple]:
    """Unconstrained numeric is stored with a fixed scale; print it without the padding
    zeros, as PostgreSQL prints a value of the scale it was written with."""
    out = []
    for row in rows:
        vals = list(row)
        for i in positions:
            v = vals[i]
            if v is not None and v == v:
                v = v.normalize()
                vals[i] = v.quantize(1) if v.as_tuple().exponent > 0 else v
        out.append(tuple(vals))
    return out


_DUCK_TYPES = {
    "INTEGER": T.INT32, "BIGINT": T.INT64, "SMALLINT": T.INT16, "TINYINT": T.INT16,
    "UTINYINT": T.INT16, "USMALLINT": T.INT32, "UINTEGER": T.INT64, "UBIGINT": T.DECIMAL,
    "HUGEINT": T.DECIMAL, "UHUGEINT": T.DECIMAL, "DOUBLE": T.FLOAT64, "FLOAT": T.FLOAT32,
    "BOOLEAN": T.BOOLEAN, "VARCHAR": T.VARCHAR, "DATE": T.DATE, "TIME": T.TIME,
    "TIMESTAMP": T.TIMESTAMP, "TIMESTAMP WITH TIME ZONE": T.TIMESTAMPTZ,
    "INTERVAL": T.INTERVAL, "BLOB": T.BYTEA, "NULL": T.VARCHAR, "UUID": T.VARCHAR,
    "TIMESTAMP_NS": T.TIMESTAMP, "TIMESTAMP_MS": T.TIMESTAMP, "TIMESTAMP_S": T.TIMESTAMP,
}


_LIST = re.compile(r"^(.*)\[\d*\]$")  # DuckDB's LIST (INTEGER[]) and ARRAY (INTEGER[3])


def duck_type(name: str) -> T.DataType:
    if _LIST.match(name):
        return _list_type(name)
    if name in (T.DECIMAL.duckdb, AVG_DUCKDB_TYPE):  # avg is plain numeric
        return T.DECIMAL
    if name.startswith("DECIMAL"):
        m = re.match(r"DECIMAL\((\d+),\s*(\d+)\)", name)
        return T.numeric(int(m.group(1)), int(m.group(2))) if m else T.DECIMAL
    return _DUCK_TYPES.get(name, T.VARCHAR)


def _list_type(name: str) -> T.DataType:
    """A list of a type PostgreSQL has an array of is that array type (`INTEGER[][]` is
    `integer[]`, OID 1007); lists of structs, maps and the like are text."""
    base, ndim = name, 0
    while m := _LIST.match(base):
        base, ndim = m.group(1), ndim + 1
    if base not in _DUCK_TYPES and not base.startswith("DECIMAL") and base != "JSON":
        return T.VARCHAR
    return T.array_of(duck_type(base), ndim) or T.VARCHAR


def translate_error(e: Exception) -> Error:
    msg = str(e).split("\n")[0]
    msg = re.sub(r"^[A-Za-z ]+ Error: ", "", msg)
    pos = None
    m = re.search(r"LINE (\d+):", str(e))
    del m
    if m := re.match(r"Scalar Function with name (\w+) does not exist", msg):
        return ProgrammingError(f"function {m.group(1)} does not exist", "42883", pos)
    if isinstance(e, duckdb.CatalogException):
        code = "42P01" if "Table" in msg or "relation" in msg.lower() else "42704"
        if "Function" in str(e) or "function" in msg:
            code = "42883"
        return ProgrammingError(msg, code, pos)
    if isinstance(e, duckdb.BinderException):
        if m := re.match(r'Referenced column "([^"]+)" not found', msg):
            return ProgrammingError(f'column "{m.group(1)}" does not exist', "42703", pos)
        if m := re.match(r'Referenced table "([^"]+)" not found', msg):
            return ProgrammingError(f'missing FROM-clause entry for table "{m.group(1)}"',
                                    "42P01", pos)
        if m := re.match(r'Values list "([^"]+)" does not have a column named "([^"]+)"', msg):
            return ProgrammingError(f'column {m.group(1)}.{m.group(2)} does not exist', "42703",
                                    pos)
        code = "42703" if "column" in msg.lower() else "42883" if "function" in msg.lower() \
            else "42804"
        return ProgrammingError(msg, code, pos)
    if isinstance(e, duckdb.ParserException):
        return ProgrammingError(msg, "42601", pos)
    if msg in ERROR_CODES:  # raised by the PostgreSQL semantics of the batch translation
        return DataError(msg, ERROR_CODES[msg], pos)
    if isinstance(e, duckdb.ConversionException):
        if msg.startswith("Date out of range"):
            return DataError("date field value out of range", "22008", pos)
        if "out of range for the destination type" in msg:
            return DataError(msg, "22003", pos)
        return DataError(msg, "22P02", pos)
    if isinstance(e, duckdb.OutOfRangeException):
        return DataError(msg, "22003", pos)
    if isinstance(e, duckdb.NotImplementedException):
        return NotSupportedError(msg, "0A000", pos)
    if isinstance(e, duckdb.InvalidInputException):
        if "division by zero" in msg.lower():
            return DataError("division by zero", "22012", pos)
        return DataError(msg, "22023", pos)
    if isinstance(e, duckdb.InterruptException):
        return OperationalError("canceling statement due to user request", "57014")
    return ProgrammingError(msg, "XX000", pos)


__all__ = ["select", "run_duckdb", "duck_type", "dt"]
