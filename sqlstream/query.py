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
                            ProgrammingError, ProgramLimitError)
from sqlstream.result import Column, RowSource, StatementResult

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
        if db.broken:
            _check_usable(db, tree)
        batch = translate(tree, db.catalog)
    if batch.system_tables:
        from sqlstream.system_tables import refresh
        refresh(db, batch.system_tables)
    arrays = not catalog or not pg_compat.looks_up_types(tree)
    try:
        if getattr(session, "stream_results", False):
            cols, source = open_duckdb(db, batch.sql, session=session, arrays=arrays)
            if not _needs_whole_result(cols):
                return StatementResult("SELECT", cols, source=source)
            rows = source.drain()
            _list_columns(cols, rows, [i for i, c in enumerate(cols)
                                       if c.type.duckdb.endswith("[][]")])
        else:
            cols, rows = run_duckdb(db, batch.sql, session=session, arrays=arrays)
    except Error as e:
        if e.position is None and text:
            e.position = _locate(str(e), text)
        raise
    return StatementResult(f"SELECT {len(rows)}", cols, rows)


def _check_usable(db: Any, tree: exp.Expression) -> None:
    from planner.binder import position_of
    for node in tree.find_all(exp.Table):
        rel = db.catalog.get(node.name) if not node.db else None
        if rel is not None:
            db.check_usable(rel, position_of(node))


def _locate(message: str, text: str) -> int | None:
    """The position in the user's text of the name an error is about: DuckDB reports
    positions in its own translation of the query, not in what the user wrote."""
    m = (re.search(r'"([^"]+)"[^"]*$', message)
         or re.search(r"^(?:column|function) ([\w.]+) does not exist", message))
    if m is None:
        return None
    name, lowered = m.group(1).lower(), text.lower()
    at = lowered.find(name)
    while at >= 0:  # the name as a whole word (no regex: a name may be megabytes long)
        before = lowered[at - 1] if at else " "
        after = lowered[at + len(name):at + len(name) + 1] or " "
        if not (before.isalnum() or before in "_.") and not (after.isalnum() or after == "_"):
            return at + 1
        at = lowered.find(name, at + 1)
    return None


def run_duckdb(db: Any, sql: str, params: list | None = None, session: Any = None,
               arrays: bool = True) -> tuple[list[Column], list[tuple]]:
    """Columns and rows of a DuckDB query. Lists are arrays unless `arrays` is false:
    drivers' type lookups (catalog queries over pg_type) keep them as text, since a
    driver that met an array type it has to look up would look it up with such a
    query again. Other catalog queries (reflection of keys and indexes) get arrays."""
    cols, source = open_duckdb(db, sql, params, session, arrays)
    rows = source.drain()
    nested = [i for i, c in enumerate(cols) if c.type.duckdb.endswith("[][]")]
    if nested and rows:
        _list_columns(cols, rows, nested)
    return cols, rows


def open_duckdb(db: Any, sql: str, params: list | None = None, session: Any = None,
                arrays: bool = True) -> tuple[list[Column], DuckRows]:
    """Start a DuckDB query; its rows are then read in batches from the source."""
    cur = db.duck.cursor()
    if session is not None:
        session.running_cursor = cur  # Session.cancel() interrupts it
    try:
        cur.execute(sql, params) if params else cur.execute(sql)
        desc = cur.description or []
    except duckdb.Error as e:
        cur.close()
        raise _duck_error(e, session) from None
    finally:
        if session is not None:
            session.running_cursor = None
    cols = [Column(d[0], duck_type(str(d[1])) if arrays or not _LIST.match(str(d[1]))
                   else T.VARCHAR) for d in desc]
    loose = [i for i, d in enumerate(desc) if str(d[1]) in (T.DECIMAL.duckdb, AVG_DUCKDB_TYPE)]
    lists = [i for i, c in enumerate(cols)
             if arrays and c.type.duckdb.startswith(T.DECIMAL.duckdb + "[")]
    if not desc:
        cur.close()
        cur = None
    intervals = any(str(d[1]) == "INTERVAL" for d in desc)
    return cols, DuckRows(cur, session, loose, lists, desc if intervals else None)


def _needs_whole_result(cols: list[Column]) -> bool:
    """Whether a column's type depends on every row (nested lists that are not all
    rectangular are text): such a result is read whole before it is described."""
    return any(c.type.duckdb.endswith("[][]") for c in cols)


def _duck_error(e: Exception, session: Any) -> Error:
    if isinstance(e, duckdb.InterruptException) and session is not None:
        return session.cancel_error()
    return translate_error(e)


class DuckRows(RowSource):
    """The rows of an open DuckDB query, fetched as they are asked for, with unconstrained
    numeric (and lists of it) printed without padding zeros."""

    def __init__(self, cur: Any, session: Any, loose: list[int], lists: list[int],
                 interval_desc: list | None = None) -> None:
        self.cur = cur
        # A result with interval columns is read whole through Arrow (see
        # _fetch_with_intervals): its description, else None.
        self.interval_desc = interval_desc
        self.session = session
        self.loose = loose
        self.lists = lists
        self.ahead: list[tuple] = []

    def fetch(self, n: int) -> list[tuple]:
        if self.ahead:
            out, self.ahead = self.ahead[:n], self.ahead[n:]
            if len(out) == n or self.cur is None:
                return out
            return out + self._read(n - len(out))
        return self._read(n)

    def at_end(self) -> bool:
        if not self.ahead and self.cur is not None:
            self.ahead = self._read(_READ_AHEAD)
        return not self.ahead

    def drain(self, batch: int = 0) -> list[tuple]:
        """Every remaining row (one fetchall: faster than batches)."""
        out, self.ahead = self.ahead, []
        if self.cur is not None:
            out.extend(self._read(-1))
        self.close()
        return out

    def close(self) -> None:
        cur, self.cur = self.cur, None
        self.ahead = []
        if cur is not None:
            cur.close()

    def _read(self, n: int) -> list[tuple]:
        cur, session = self.cur, self.session
        if cur is None or n == 0:
            return []
        if session is not None:
            if session.cancelled:
                self.close()
                raise session.cancel_error()
            session.running_cursor = cur
        try:
            if self.interval_desc is not None:
                rows = _fetch_with_intervals(cur, self.interval_desc)
                self.cur = None
                cur.close()
            else:
                rows = cur.fetchmany(n) if n > 0 else cur.fetchall()
        except duckdb.Error as e:
            self.close()
            raise _duck_error(e, session) from None
        except OverflowError:  # a value Python's types cannot hold (an interval past timedelta)
            self.close()
            raise DataError("value out of range for the result type", "22008") from None
        finally:
            if session is not None:
                session.running_cursor = None
        if not rows:
            self.close()
            return rows
        if self.loose:
            rows = _trim_numeric(rows, self.loose)
        for i in self.lists:
            rows = [r[:i] + (_trim_list(r[i]),) + r[i + 1:] for r in rows]
        if self.interval_desc is not None and 0 < n < len(rows):
            self.ahead, rows = rows[n:], rows[:n]
        return rows


_READ_AHEAD = 256


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


def _list_columns(cols: list[Column], rows: list[tuple], positions: list[int]) -> None:
    """A column of nested lists that are not all rectangular cannot be a PostgreSQL array
    (whose sub-arrays all have one length) and becomes text."""
    for i in positions:
        if not all(is_rectangular(r[i]) for r in rows):
            cols[i] = Column(cols[i].name, T.VARCHAR)


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
    if "expression depth limit" in msg:
        return ProgramLimitError("stack depth limit exceeded", "54001", pos, detail=msg)
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
    if m := re.search(r"UDF: ValueError: \[([0-9A-Z]{5})\] (.*)$", msg):
        return DataError(m.group(2), m.group(1), pos)  # raised by sqlstream.batch_builtins
    if isinstance(e, duckdb.InvalidInputException):
        if "division by zero" in msg.lower():
            return DataError("division by zero", "22012", pos)
        return DataError(msg, "22023", pos)
    if isinstance(e, duckdb.PermissionException):  # external access is off in the store
        return ProgrammingError(msg, "42501", pos)
    if isinstance(e, duckdb.InterruptException):
        return OperationalError("canceling statement due to user request", "57014")
    return _by_class(e, msg, pos)


# DuckDB's other error classes and PostgreSQL's nearest SQLSTATE: only DuckDB's own
# internal and fatal errors stay XX000.
_CLASS_CODES: list[tuple[type, str]] = [
    (duckdb.TypeMismatchException, "42804"), (duckdb.InvalidTypeException, "42804"),
    (duckdb.SyntaxException, "42601"), (duckdb.OutOfMemoryException, "53200"),
    (duckdb.PermissionException, "42501"), (duckdb.ConstraintException, "23000"),
    (duckdb.SequenceException, "55000"), (duckdb.DependencyException, "2BP01"),
    (duckdb.TransactionException, "25000"), (duckdb.SerializationException, "40001"),
    (duckdb.IOException, "58030"), (duckdb.DataError, "22000"),
]


def _by_class(e: Exception, msg: str, pos: int | None) -> Error:
    for cls, code in _CLASS_CODES:
        if isinstance(e, cls):
            kind = DataError if code.startswith("22") else OperationalError \
                if code[:2] in ("53", "55", "25", "40", "58") else ProgrammingError
            return kind(msg, code, pos)
    return ProgrammingError(msg, "XX000", pos)


__all__ = ["select", "run_duckdb", "duck_type", "dt"]
