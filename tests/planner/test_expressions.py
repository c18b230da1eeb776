"""Scalar expressions against DuckDB as the oracle (where it agrees with PostgreSQL):
bind a parsed expression, compile it, run it over rows, compare with DuckDB on the
same rows. PostgreSQL-specific rules are checked by hand in test_expressions_rules.py."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

import duckdb
import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from planner.expressions import (BoundExpr, InputRef, bind_expr, compile_filter,
                                 compile_projection)
from planner.types import (DATE, DECIMAL, FLOAT64, INT32, TIMESTAMP, VARCHAR, DataType,
                           Interval, numeric)

COLUMNS: list[tuple[str, DataType, str]] = [
    ("a", INT32, "INTEGER"), ("b", INT32, "INTEGER"), ("s", VARCHAR, "VARCHAR"),
    ("u", VARCHAR, "VARCHAR"), ("ts", TIMESTAMP, "TIMESTAMP"), ("d", DATE, "DATE"),
    ("x", FLOAT64, "DOUBLE"), ("n", numeric(18, 4), "DECIMAL(18,4)"),
]

ROWS: list[tuple[Any, ...]] = [
    (7, 2, "Hello World", "lo", dt.datetime(2024, 5, 6, 7, 8, 9, 123456), dt.date(2024, 2, 29),
     2.5, decimal.Decimal("12.3456")),
    (-7, 3, "a,b,,c", ",", dt.datetime(2023, 12, 31, 23, 59, 59), dt.date(2023, 1, 1),
     -0.75, decimal.Decimal("-0.5000")),
    (0, -4, "  padded  ", " ", dt.datetime(2000, 1, 1), dt.date(1999, 12, 31),
     100.0, decimal.Decimal("2.5000")),
    (None, 5, None, "x", None, None, None, None),
    (12, None, "xxabcxx", None, dt.datetime(2024, 11, 3, 12, 0), dt.date(2024, 7, 14),
     1e-3, decimal.Decimal("1000.0001")),
]


class Ctx:
    """Resolves column names to InputRefs, as the query binder does."""

    def __init__(self, columns: list[tuple[str, DataType, str]] = COLUMNS) -> None:
        self.cols = {name: InputRef(i, t, name) for i, (name, t, _) in enumerate(columns)}

    def resolve(self, node: exp.Expression) -> BoundExpr | None:
        if isinstance(node, exp.Column):
            return self.cols.get(node.name)
        return None


def bind(sql: str, ctx: Ctx | None = None) -> BoundExpr:
    tree = sqlglot.parse_one(f"SELECT {sql} FROM t", read="postgres")
    return bind_expr(tree.expressions[0], ctx or Ctx())


def run(sql: str, rows: list[tuple] = ROWS, strict: bool = False) -> list[Any]:
    return [r[0] for r in compile_projection([bind(sql)], strict=strict)(rows)]


@pytest.fixture(scope="module")
def duck() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    cols = ", ".join(f"{n} {d}" for n, _, d in COLUMNS)
    con.execute(f"CREATE TABLE t (id INTEGER, {cols})")
    marks = ", ".join("?" for _ in range(len(COLUMNS) + 1))
    con.executemany(f"INSERT INTO t VALUES ({marks})", [(i, *r) for i, r in enumerate(ROWS)])
    return con


def oracle(con: duckdb.DuckDBPyConnection, sql: str) -> list[Any]:
    return [r[0] for r in con.execute(f"SELECT {sql} FROM t ORDER BY id").fetchall()]


def same(ours: Any, theirs: Any) -> bool:
    if ours is None or theirs is None:
        return ours is None and theirs is None
    if isinstance(ours, Interval) and isinstance(theirs, dt.timedelta):
        return ours.to_timedelta() == theirs
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return ours is theirs
    if isinstance(ours, (int, float, decimal.Decimal)) and isinstance(
            theirs, (int, float, decimal.Decimal)):
        return math.isclose(float(ours), float(theirs), rel_tol=1e-9, abs_tol=1e-12)
    return bool(ours == theirs)


ORACLE_EXPRESSIONS = [
    # arithmetic and comparison on numbers that DuckDB types like PostgreSQL
    "a + b", "a - b * 2", "a * b", "-a", "a + 1.5", "x * 2", "x + a", "n + a", "n * 2",
    "a < b", "a = 7", "a <> b", "x >= 2.5", "n > 1", "a + x > n",
    # three-valued logic and predicates
    "a > 0 AND b > 0", "a > 0 OR b > 0", "NOT (a > b)", "a IS NULL", "b IS NOT NULL",
    "(a > 0) IS TRUE", "(a > 0) IS NOT FALSE", "a IS DISTINCT FROM b",
    "a IS NOT DISTINCT FROM 7", "a IN (7, 12)", "a IN (1, NULL)", "a NOT IN (0, 12)",
    "a BETWEEN -7 AND 7", "a NOT BETWEEN 0 AND 10", ("a BETWEEN SYMMETRIC 10 AND 0", "a BETWEEN 0 AND 10"),
    "s LIKE '%o%'", "s LIKE 'H_llo%'", "s NOT LIKE '%,%'", "s ILIKE 'hello%'",
    "s LIKE u", "s LIKE '%a\\_b%'",
    "CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'zero' END",
    "CASE a WHEN 7 THEN 1 WHEN 12 THEN 2 END", "coalesce(a, b, 0)", "nullif(a, 0)",
    "greatest(a, b, 1)", "least(a, b)", "CAST(a AS varchar)", "CAST(x AS integer)",
    "CAST(n AS double precision)", "CAST('12' AS integer) + a", "a::bigint * 3",
    # strings
    "upper(s)", "lower(s)", "length(s)", "char_length(s)", "substr(s, 2)",
    "substr(s, 2, 3)", "substring(s from 3 for 2)", "substring(s, 0, 3)",
    "strpos(s, u)", "position('l' in s)", "trim(s)", "ltrim(s, 'x')", "rtrim(s, 'x')",
    ("btrim(s, 'x')", "trim(s, 'x')"), "trim(both 'x' from s)", "replace(s, 'l', 'L')",
    "split_part(s, ',', 2)", "split_part(s, ',', 5)", "left(s, 3)", "left(s, -2)",
    "right(s, 3)", "right(s, -2)", "repeat(u, 3)", "reverse(s)", "lpad(s, 14, '*-')",
    "rpad(s, 14, '*-')", "lpad(s, 3, '*')", "starts_with(s, 'He')", "md5(s)",
    "concat(s, a, u)", "s || u", "s || a", "upper(s) || '!'", "concat_ws('/', s, u, a)",
    "concat_ws(u, s, 'z')",
    # math
    "abs(a)", "abs(x)", "abs(n)", "floor(x)", "ceil(x)", "ceiling(n)", "floor(n)",
    "round(n)", "round(n, 2)", "round(n, 1)", "trunc(n, 2)", "trunc(x)", "sqrt(abs(x))",
    "cbrt(x)", "exp(x)", "ln(abs(x) + 1)", "log10(abs(x) + 1)", "power(x, 2)",
    "power(a, 2)", "sign(x)", "sign(n)", "pi() * x", "a % 5",
    # date/time
    "extract(year from ts)", "extract(month from ts)", "extract(day from ts)",
    "extract(hour from ts)", "extract(minute from ts)",
    ("extract(second from ts)", "extract(microseconds from ts) / 1000000"),
    "extract(dow from ts)", "extract(doy from ts)", "extract(week from ts)",
    "extract(quarter from ts)", "extract(epoch from ts)",
    ("extract(millisecond from ts)", "extract(microseconds from ts) / 1000"),
    "extract(year from d)", "extract(dow from d)", "date_part('month', ts)",
    "date_trunc('year', ts)", "date_trunc('quarter', ts)", "date_trunc('month', ts)",
    "date_trunc('week', ts)", "date_trunc('day', ts)", "date_trunc('hour', ts)",
    "date_trunc('minute', ts)", "date_trunc('second', ts)", "date_trunc('millisecond', ts)",
    "ts + INTERVAL '1' DAY", "ts - INTERVAL '2 hours'", "ts + INTERVAL '1 month'",
    "d + INTERVAL '1 month'", "ts - TIMESTAMP '2024-01-01 00:00:00'", "d + 1", "d - 1",
    "ts > '2024-01-01'", "d < '2024-01-01'", "d = DATE '2024-02-29'", "ts >= d",
    "ts BETWEEN '2023-01-01' AND '2024-06-01'",
    "CAST(ts AS time) + INTERVAL '90 minutes'", "CAST(ts AS time) - INTERVAL '1 day 13 hours'",
    "INTERVAL '12 hours' + CAST(ts AS time)",
]


@pytest.mark.parametrize("sql", ORACLE_EXPRESSIONS)
def test_matches_duckdb(duck: duckdb.DuckDBPyConnection, sql: str | tuple[str, str]) -> None:
    """Entries are SQL text, or (our text, DuckDB's spelling of the same expression)."""
    sql, duck_sql = sql if isinstance(sql, tuple) else (sql, sql)
    ours = run(sql)
    theirs = oracle(duck, duck_sql)
    mismatched = [(i, o, t) for i, (o, t) in enumerate(zip(ours, theirs)) if not same(o, t)]
    assert not mismatched, f"{sql}: (row, ours, duckdb) {mismatched}"


@pytest.mark.parametrize("sql", ["a > 0 AND b > 0", "s LIKE '%o%'", "a IN (7, NULL)",
                                 "(a > 0) IS NOT TRUE", "coalesce(a > b, a < b)"])
def test_filter_matches_duckdb_where(duck: duckdb.DuckDBPyConnection, sql: str) -> None:
    keep = compile_filter(bind(sql))(ROWS)
    ids = [r[0] for r in duck.execute(f"SELECT id FROM t WHERE {sql} ORDER BY id").fetchall()]
    assert [i for i, k in enumerate(keep) if k] == ids


# ---------------------------------------------------------------- differential (hypothesis)

_INT_COLS = [("p", INT32, "INTEGER"), ("q", INT32, "INTEGER"), ("r", INT32, "INTEGER")]
_small = st.one_of(st.none(), st.integers(-50, 50))


@st.composite
def int_exprs(draw: st.DrawFn, depth: int = 0) -> str:
    """A random integer-valued expression over p, q, r without division."""
    if depth >= 2 or draw(st.booleans()):
        return draw(st.sampled_from(["p", "q", "r", "1", "-3", "0", "NULL::int"]))
    op = draw(st.sampled_from(["+", "-", "*"]))
    return f"({draw(int_exprs(depth + 1))} {op} {draw(int_exprs(depth + 1))})"


@st.composite
def bool_exprs(draw: st.DrawFn, depth: int = 0) -> str:
    """A random predicate mixing comparisons, IS [NOT] NULL, IN, AND/OR/NOT."""
    if depth >= 2 or draw(st.booleans()):
        kind = draw(st.sampled_from(["cmp", "null", "in", "between", "lit"]))
        if kind == "cmp":
            op = draw(st.sampled_from(["=", "<>", "<", "<=", ">", ">="]))
            return f"({draw(int_exprs())} {op} {draw(int_exprs())})"
        if kind == "null":
            return f"({draw(int_exprs())} IS {draw(st.sampled_from(['', 'NOT ']))}NULL)"
        if kind == "in":
            items = draw(st.lists(st.sampled_from(["1", "0", "-3", "NULL", "q"]), min_size=1,
                                  max_size=3))
            return f"(p IN ({', '.join(items)}))"
        if kind == "between":
            return f"(p BETWEEN {draw(int_exprs())} AND {draw(int_exprs())})"
        return draw(st.sampled_from(["TRUE", "FALSE", "NULL::boolean"]))
    op = draw(st.sampled_from(["AND", "OR", "NOT"]))
    if op == "NOT":
        return f"(NOT {draw(bool_exprs(depth + 1))})"
    return f"({draw(bool_exprs(depth + 1))} {op} {draw(bool_exprs(depth + 1))})"


@st.composite
def div_exprs(draw: st.DrawFn) -> str:
    """Integer division and modulo, whose PostgreSQL rules DuckDB writes as // and %."""
    return f"({draw(int_exprs())} {draw(st.sampled_from(['/', '%']))} {draw(int_exprs())})"


@settings(max_examples=60, deadline=None)
@given(exprs=st.lists(st.one_of(int_exprs(), bool_exprs()), min_size=1, max_size=4),
       rows=st.lists(st.tuples(_small, _small, _small), min_size=1, max_size=8))
def test_random_int_logic_against_duckdb(exprs: list[str], rows: list[tuple]) -> None:
    ctx = Ctx(_INT_COLS)
    project = compile_projection([bind(e, ctx) for e in exprs])
    con = duckdb.connect()
    con.execute("CREATE TABLE t (id INTEGER, p INTEGER, q INTEGER, r INTEGER)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", [(i, *r) for i, r in enumerate(rows)])
    theirs = con.execute(f"SELECT {', '.join(exprs)} FROM t ORDER BY id").fetchall()
    assert project(rows) == [tuple(r) for r in theirs]


@settings(max_examples=60, deadline=None)
@given(expr=div_exprs(), rows=st.lists(st.tuples(_small, _small, _small), min_size=1,
                                       max_size=8))
def test_random_division_against_duckdb(expr: str, rows: list[tuple]) -> None:
    """Integer division truncates toward zero and % keeps the dividend's sign (DuckDB's
    // and % do the same); division by zero is NULL in streaming mode."""
    ctx = Ctx(_INT_COLS)
    ours = [r[0] for r in compile_projection([bind(expr, ctx)])(rows)]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (id INTEGER, p INTEGER, q INTEGER, r INTEGER)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", [(i, *r) for i, r in enumerate(rows)])
    con.execute("SET error_on_division_by_zero = false")
    duck_sql = expr.replace(" / ", " // ")
    theirs = [r[0] for r in con.execute(f"SELECT {duck_sql} FROM t ORDER BY id").fetchall()]
    assert ours == theirs


def test_real_overflow_is_22003_or_null_when_streaming() -> None:
    """real arithmetic runs on doubles; a finite result beyond real's range must not
    escape (the serving store could not hold it), as PostgreSQL reports an overflow."""
    from planner.errors import DataError
    from planner.types import FLOAT32
    ctx = Ctx([("r", FLOAT32, "FLOAT")])
    rows = [(3.4e38,), (1.5,), (float("inf"),), (None,)]
    prog = compile_projection([bind("r * 2", ctx), bind("-r - r", ctx)])
    assert prog(rows) == [(None, None), (3.0, -3.0), (float("inf"), float("-inf")),
                          (None, None)]
    strict = compile_projection([bind("r * 2", ctx)], strict=True)
    with pytest.raises(DataError) as err:
        strict(rows[:1])
    assert err.value.sqlstate == "22003"
