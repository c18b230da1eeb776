"""The serving store: DuckDB tables holding each relation's committed contents,
answering batch SELECTs with full SQL.

Each relation is a table `_ss.r<id>` with a surrogate row id `_rid`, a
multiplicity `_n` (a view is a multiset) and its columns; the user-facing name
is a DuckDB view in `main` exposing the visible columns, one row per copy.
Deltas are applied once per committed epoch, in one DuckDB transaction, so a
SELECT sees whole epochs only.
"""

from __future__ import annotations

import decimal
import itertools
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Sequence

import duckdb
import numpy as np
import pyarrow as pa


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class ServingError(Exception):
    """DuckDB refused a relation's table or view (a name, a type)."""


class NameClash(ServingError):
    """A view name another relation holds in another case (DuckDB ignores case)."""


@dataclass
class Delta:
    """One relation's change for an epoch: rids to delete, rows (rid, n, values...) to
    insert, and batches (first_rid, n, columns) of n rows appended once each, with the
    row ids first_rid, first_rid + 1, ..., given as one list of values per column (an
    append-only relation: no tuple per row)."""

    deletes: list[int] = field(default_factory=list)
    inserts: list[tuple] = field(default_factory=list)
    appends: list[tuple[int, int, list[list]]] = field(default_factory=list)


class ServingStore:
    def __init__(self) -> None:
        # Only the database's own relations: no files, extensions, other databases or
        # settings changes from SQL (Arrow tables registered by this process still work).
        self.duck = duckdb.connect(config={"enable_external_access": False,
                                           "lock_configuration": True})
        self.duck.execute("CREATE SCHEMA IF NOT EXISTS _ss")
        self.lock = threading.Lock()
        self._columns: dict[int, list[tuple[str, str, bool]]] = {}
        self._names: dict[str, tuple[int, str]] = {}  # lower-cased view name -> (rid, name)

    def create_relation(self, rid: int, name: str, columns: list[tuple[str, str, bool]],
                        multiset: bool) -> None:
        """columns: (name, duckdb type, hidden). Both DuckDB objects or neither: a
        name or type DuckDB refuses leaves nothing behind. DuckDB's names ignore case,
        so a name another relation holds in another case is refused (NameClash)."""
        visible = ", ".join(f"c{i} AS {_q(n)}" for i, (n, _t, h) in enumerate(columns) if not h)
        if not visible:
            raise ServingError("a relation needs at least one visible column")
        other = self._names.get(name.lower())
        if other is not None and other[0] != rid:
            raise NameClash(f'relation "{name}" differs only in case from "{other[1]}"')
        cols = ", ".join(f"c{i} {t}" for i, (_, t, _h) in enumerate(columns))
        source = f"_ss.r{rid}" + (", range(_n)" if multiset else "")
        with self.lock:
            cur = self.duck.cursor()
            try:
                cur.execute("BEGIN")
                cur.execute(f"CREATE TABLE IF NOT EXISTS _ss.r{rid} "
                            f"(_rid BIGINT, _n INTEGER{', ' if cols else ''}{cols})")
                cur.execute(f"CREATE OR REPLACE VIEW main.{_q(name)} AS SELECT {visible} "
                            f"FROM {source}")
                cur.execute("COMMIT")
            except duckdb.Error as e:
                cur.execute("ROLLBACK")
                raise ServingError(str(e).split("\n")[0]) from None
            finally:
                cur.close()
        self._columns[rid] = columns
        self._names[name.lower()] = (rid, name)

    def drop_relation(self, rid: int, name: str) -> None:
        with self.lock:
            if self._names.get(name.lower(), (rid,))[0] == rid:
                try:
                    self.duck.execute(f"DROP VIEW IF EXISTS main.{_q(name)}")
                except duckdb.Error:
                    pass  # a name DuckDB refuses: its view was never created
                self._names.pop(name.lower(), None)
            self.duck.execute(f"DROP TABLE IF EXISTS _ss.r{rid}")
        self._columns.pop(rid, None)

    def apply(self, deltas: dict[int, Delta]) -> None:
        """Apply one epoch's deltas of every relation atomically."""
        if not any(d.deletes or d.inserts or d.appends for d in deltas.values()):
            return
        with self.lock:
            cur = self.duck.cursor()
            cur.execute("BEGIN")
            try:
                for rid, delta in deltas.items():
                    if rid not in self._columns:
                        continue
                    if delta.deletes:
                        dels = pa.table({"rid": pa.array(delta.deletes, pa.int64())})
                        cur.register("_del", dels)
                        cur.execute(f"DELETE FROM _ss.r{rid} WHERE _rid IN (SELECT rid FROM _del)")
                        cur.unregister("_del")
                    if delta.inserts:
                        cur.register("_ins", self._arrow(rid, delta.inserts))
                        cur.execute(f"INSERT INTO _ss.r{rid} SELECT * FROM _ins")
                        cur.unregister("_ins")
                    if delta.appends:
                        cur.register("_app", self._arrow_appends(rid, delta.appends))
                        cur.execute(f"INSERT INTO _ss.r{rid} SELECT * FROM _app")
                        cur.unregister("_app")
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    def _arrow(self, rid: int, rows: list[tuple]) -> pa.Table:
        cols = self._columns[rid]
        data = list(zip(*rows))
        arrays: dict[str, Any] = {"_rid": pa.array(data[0], pa.int64()),
                                  "_n": pa.array(data[1], pa.int32())}
        for i, (_, duck_type, _h) in enumerate(cols):
            values = data[i + 2]
            arrays[f"c{i}"] = _to_arrow(values, duck_type)
        return pa.table(arrays)

    def _arrow_appends(self, rid: int, batches: list[tuple[int, int, list[list]]]) -> pa.Table:
        """Batches of rows given column by column as one arrow table: row ids from
        ranges, `_n` = 1."""
        cols = self._columns[rid]
        rids = np.concatenate([np.arange(first, first + n, dtype=np.int64)
                               for first, n, _c in batches])
        arrays: dict[str, Any] = {"_rid": pa.array(rids),
                                  "_n": pa.array(np.ones(len(rids), dtype=np.int32))}
        for i, (_, duck_type, _h) in enumerate(cols):
            values = batches[0][2][i] if len(batches) == 1 else \
                list(itertools.chain.from_iterable(b[2][i] for b in batches))
            arrays[f"c{i}"] = _to_arrow(values, duck_type)
        return pa.table(arrays)


_DECIMAL_CTX = decimal.Context(prec=100, rounding=decimal.ROUND_HALF_UP)


def _to_decimal_array(values: Sequence, duck_type: str) -> pa.Array:
    """Numeric values at the column's scale (rounded half away from zero, as
    PostgreSQL rounds numeric). A value too large for the column (numeric is unbounded
    in PostgreSQL, not here) is stored as NULL: DuckDB would refuse the whole epoch
    and the relation could never be written again."""
    m = re.match(r"DECIMAL\((\d+),\s*(\d+)\)", duck_type)
    p, s = (int(m.group(1)), int(m.group(2))) if m else (38, 10)
    try:  # the usual epoch: every value fits the column's scale and precision as it is
        return pa.array(values, pa.decimal128(p, s))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        pass
    limit = decimal.Decimal(10) ** (p - s)
    quantum = decimal.Decimal(1).scaleb(-s)
    out: list[decimal.Decimal | None] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        d = v if isinstance(v, decimal.Decimal) else decimal.Decimal(v)
        if d.is_finite() and d.as_tuple().exponent < -s:  # type: ignore[operator]
            d = d.quantize(quantum, context=_DECIMAL_CTX)
        out.append(d if d.is_finite() and abs(d) < limit else None)
    return pa.array(out, pa.decimal128(p, s))


def _to_arrow(values: Sequence, duck_type: str) -> pa.Array:
    if duck_type == "INTERVAL":
        return pa.array([None if v is None else pa.MonthDayNano([v.months, v.days, v.micros * 1000])
                         for v in values], pa.month_day_nano_interval())
    if duck_type.startswith("DECIMAL"):
        return _to_decimal_array(values, duck_type)
    if duck_type == "TIMESTAMPTZ":
        return pa.array(values, pa.timestamp("us", tz="UTC"))
    if duck_type == "FLOAT":
        # A double beyond real's range becomes +/-Infinity here; DuckDB would refuse the
        # whole epoch and the relation could never be written again.
        return pa.array(values, pa.float32())
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())
