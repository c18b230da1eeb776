"""Running the same query on sqlstream (embedded) and on PostgreSQL, and comparing the
answers value for value.

Normalisation, the only one: a double precision value equals another within a relative
1e-12 (DuckDB and PostgreSQL may differ in the last bit of sqrt or of a sum's order);
NaN equals NaN. An interval equals PostgreSQL's text of it. Numeric values compare by value; two quotients (both with 12 or more
fractional digits, as avg and numeric division give) compare rounded to the shorter
one's digits, since PostgreSQL's result scale shrinks as the quotient grows. Every other value must be equal and of the same Python type."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

import sqlstream
from planner.types import Interval

_CATEGORY = {bool: "bool", int: "int", float: "float", decimal.Decimal: "numeric", str: "text",
             dt.date: "date", dt.datetime: "timestamp", dt.timedelta: "interval",
             list: "array", bytes: "bytes"}


def same_value(got: Any, want: Any) -> bool:
    if got is None or want is None:
        return got is None and want is None
    if isinstance(got, Interval):  # PostgreSQL's side is its text (conftest.py)
        return isinstance(want, str) and str(got) == want
    if _CATEGORY.get(type(got)) != _CATEGORY.get(type(want)):
        return False
    if isinstance(want, float):
        if math.isnan(want) or math.isnan(got):
            return math.isnan(want) and math.isnan(got)
        return got == want or math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-300)
    if isinstance(want, decimal.Decimal) and not (got.is_finite() and want.is_finite()):
        return str(got) == str(want)
    if isinstance(want, decimal.Decimal) and min(-got.as_tuple().exponent,
                                                 -want.as_tuple().exponent) >= 12:
        # A quotient (avg, division): equal to the shorter one's digits, rounded.
        exp_ = max(got.as_tuple().exponent, want.as_tuple().exponent)
        q = decimal.Decimal(1).scaleb(exp_)
        return got.quantize(q, decimal.ROUND_HALF_UP) == want.quantize(q, decimal.ROUND_HALF_UP)
    if isinstance(want, list):
        return len(got) == len(want) and all(same_value(a, b) for a, b in zip(got, want))
    return bool(got == want)


@dataclass
class Outcome:
    rows: list[tuple] | None
    error: str | None  # SQLSTATE or a class name

    def __str__(self) -> str:
        return f"error {self.error}" if self.error else repr(self.rows)


def run_sqlstream(conn: sqlstream.Connection, sql: str) -> Outcome:
    try:
        cur = conn.execute(sql)
        return Outcome([tuple(r) for r in cur.fetchall()], None)
    except sqlstream.Error as e:
        return Outcome(None, getattr(e, "sqlstate", None) or type(e).__name__)


def run_pg(pg: psycopg.Connection, sql: str) -> Outcome:
    try:
        cur = pg.execute(sql)
        return Outcome([tuple(r) for r in cur.fetchall()], None)
    except psycopg.DataError as e:
        return Outcome(None, e.sqlstate or type(e).__name__)
    except psycopg.Error as e:
        return Outcome(None, e.sqlstate or type(e).__name__)


def same_rows(got: Sequence[tuple], want: Sequence[tuple], ordered: bool = False) -> bool:
    if len(got) != len(want):
        return False
    if not ordered:
        got, want = _canonical(got), _canonical(want)
    return all(len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
               for a, b in zip(got, want))


def _key(v: Any) -> tuple:
    if v is None:
        return (0, "")
    if isinstance(v, float):
        return (1, "nan") if math.isnan(v) else (1, f"{v:.9e}")
    if isinstance(v, decimal.Decimal):
        return (1, f"{float(v):.9e}")
    return (1, repr(v))


def _canonical(rows: Sequence[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda r: tuple(_key(v) for v in r))


def difference(got: Sequence[tuple], want: Sequence[tuple]) -> str:
    g = Counter(tuple(_key(v) for v in r) for r in got)
    w = Counter(tuple(_key(v) for v in r) for r in want)
    only_g = [r for r in got if g[tuple(_key(v) for v in r)] > w[tuple(_key(v) for v in r)]]
    only_w = [r for r in want if w[tuple(_key(v) for v in r)] > g[tuple(_key(v) for v in r)]]
    return (f"sqlstream {len(got)} rows, PostgreSQL {len(want)}; only in sqlstream: "
            f"{only_g[:10]}; only in PostgreSQL: {only_w[:10]}")
