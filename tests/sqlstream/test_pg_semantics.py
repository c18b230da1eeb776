"""Answers that follow PostgreSQL where DuckDB alone would differ: batch SELECTs and,
where the streaming path supports the expression, a materialized view of the same
expression over a one-row table. tests/postgres/test_known_answers_pg.py checks these
expected values against a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from typing import Any

import pytest

import sqlstream

D = decimal.Decimal

# (expression, PostgreSQL's value, also in a view)
ANSWERS: list[tuple[str, Any, bool]] = [
    ("3 / 2", 1, True),
    ("-7 / 2", -3, True),
    ("(3::bigint) / 2", 1, True),
    ("round(4.5::float8)", 4.0, True),
    ("round(5.5::float8)", 6.0, True),
    ("round(-2.5::float8)", -2.0, True),
    ("round(4.5::numeric)", D("5"), True),
    ("CAST(2.5::float8 AS int)", 2, True),
    ("CAST(3.5::float8 AS int)", 4, True),
    ("'test_table' LIKE 'test\\_table'", True, True),
    ("'testxtable' LIKE 'test\\_table'", False, True),
    ("'a%b' LIKE 'a\\%b'", True, True),
    ("'abc' SIMILAR TO 'a%'", True, False),
    ("'abc' SIMILAR TO '(a|b)_c'", True, False),
    ("'abc' SIMILAR TO 'b%'", False, False),
    ("(ARRAY['foo','bar'])[-1]", None, False),
    ("(ARRAY['foo','bar'])[0]", None, False),
    ("(ARRAY['foo','bar'])[2]", "bar", False),
    ("(ARRAY[1,2,3])[-1:2]", [1, 2], False),
    ("(ARRAY[1,2,3])[2:-1]", [], False),
    ("1 = SOME(NULL::int[])", None, False),
    ("1 = ANY(ARRAY[1, 2])", True, False),
    ("format('Hello %s', 'World')", "Hello World", False),
    ("format('%s|%s', 'a', NULL)", "a|", False),
    ("format('%L and %I %%', 'it''s', 'Ab')", "'it''s' and \"Ab\" %", False),
    ("format('%2$s %1$s', 'a', 'b')", "b a", False),
    ("string_to_array('abc', '')", ["abc"], False),
    ("string_to_array('abc', NULL)", ["a", "b", "c"], False),
    ("string_to_array('a,b', ',')", ["a", "b"], False),
    ("string_to_array('', ',')", [], False),
    ("substr('Hello', -1, 3)", "H", True),
    ("substr('Hello', 0)", "Hello", True),
    ("replace('ab', '', 'x')", "ab", True),
    ("make_date(2024, 1, 26)", dt.date(2024, 1, 26), True),
    ("'1.23e-3'::decimal", D("0.00123"), True),
    ("CAST('0.000123' AS numeric)", D("0.000123"), True),
    ("'1.1'::decimal < '1.1'::float4", True, True),
    ("regexp_matches('foobarbequebaz', '(bar)(beque)')", ["bar", "beque"], False),
    ("regexp_matches('foobar', 'o+')", ["oo"], False),
    ("regexp_replace('foobarbaz', 'b..', 'X', 'g')", "fooXX", False),
    ("regexp_replace('fooBarbaz', 'b..', 'X', 'gi')", "fooXX", False),
    ("1.1::numeric = 1.1::real", False, True),
]

# (expression, SQLSTATE PostgreSQL raises)
ERRORS: list[tuple[str, str]] = [
    ("1 / 0", "22012"),
    ("1.5::float8 / 0", "22012"),
    ("1.5 / 0", "22012"),
    ("make_timestamptz(2024, 6, 31, 0, 0, 0)", "22008"),
    ("make_date(2024, 2, 30)", "22008"),
    ("make_date(0, 1, 1)", "22008"),
    ("substr('abc', 1, -1)", "22011"),
]


@pytest.fixture(scope="module")
def conn() -> Iterator[sqlstream.Connection]:
    with sqlstream.connect(barrier_interval_ms=50) as c:
        c.execute("CREATE TABLE one (k int)")
        c.execute("INSERT INTO one VALUES (1); FLUSH")
        yield c


def same(got: Any, want: Any) -> bool:
    return type(got) is type(want) and got == want if want is not None else got is None


@pytest.mark.parametrize("expr,want,_view", ANSWERS, ids=[a[0] for a in ANSWERS])
def test_batch_answer(conn: sqlstream.Connection, expr: str, want: Any, _view: bool) -> None:
    got = conn.execute(f"SELECT {expr}").fetchone()[0]
    assert same(got, want), f"SELECT {expr}: {got!r}, PostgreSQL gives {want!r}"


@pytest.mark.parametrize("expr,want", [(e, w) for e, w, view in ANSWERS if view],
                         ids=[a[0] for a in ANSWERS if a[2]])
def test_view_answer(conn: sqlstream.Connection, expr: str, want: Any) -> None:
    name = f"v{abs(hash(expr))}"
    conn.execute(f"CREATE MATERIALIZED VIEW {name} AS SELECT {expr} AS x FROM one")
    conn.execute("FLUSH")
    got = conn.execute(f"SELECT x FROM {name}").fetchone()[0]
    conn.execute(f"DROP MATERIALIZED VIEW {name}")
    assert same(got, want), f"view of {expr}: {got!r}, PostgreSQL gives {want!r}"


@pytest.mark.parametrize("expr,code", ERRORS, ids=[e[0] for e in ERRORS])
def test_batch_error(conn: sqlstream.Connection, expr: str, code: str) -> None:
    with pytest.raises(sqlstream.DataError) as info:
        conn.execute(f"SELECT {expr}")
    assert info.value.sqlstate == code


def test_negative_year_is_bc(conn: sqlstream.Connection) -> None:
    """make_date(-2024, 1, 26) is 2024 BC (DuckDB on its own says 2025 BC)."""
    got = conn.execute("SELECT make_date(-2024, 1, 26)").fetchone()[0]
    assert "2024" in str(got) and "BC" in str(got)


def test_public_table_beside_cte(conn: sqlstream.Connection) -> None:
    """`public.one` is the table even where a CTE is named `one`."""
    rows = conn.execute("WITH one AS (SELECT 42 AS k) SELECT k FROM public.one").fetchall()
    assert rows == [(1,)]
    rows = conn.execute("WITH one AS (SELECT 42 AS k) SELECT k FROM one").fetchall()
    assert rows == [(42,)]


def test_sum_and_avg_types(conn: sqlstream.Connection) -> None:
    conn.execute("CREATE TABLE nums (i int, b bigint, n numeric(10,2))")
    conn.execute("INSERT INTO nums VALUES (1, 10, 1.50), (2, 20, 2.25), (4, NULL, NULL)")
    conn.execute("FLUSH")
    row = conn.execute("SELECT sum(b), avg(i), avg(n), (SELECT avg(i) FROM nums WHERE i > 5) "
                       "FROM nums").fetchone()
    assert row == (D("30"), D("2.3333333333333333"), D("1.875"), None)
    assert isinstance(row[0], D)


def test_generated_column_is_refused(conn: sqlstream.Connection) -> None:
    """A generated column is refused, not kept as a column that is always NULL."""
    with pytest.raises(sqlstream.NotSupportedError):
        conn.execute("CREATE TABLE gen (v2 int, v1 int AS v2 - 1)")
    assert conn.execute("SELECT count(*) FROM pg_catalog.pg_tables "
                        "WHERE tablename = 'gen'").fetchone()[0] == 0


def test_internal_errors_are_sqlstate_errors(conn: sqlstream.Connection) -> None:
    with pytest.raises(sqlstream.ProgrammingError) as info:
        conn.execute("CREATE TABLE t_no_columns;")
    assert info.value.sqlstate == "42601"
    conn.execute("CREATE TABLE ivs (i interval)")
    with pytest.raises(sqlstream.DataError) as err:
        conn.execute("INSERT INTO ivs VALUES (interval '1 day' * 1e10)")
    assert err.value.sqlstate == "22003"
    conn.execute("INSERT INTO ivs VALUES (interval '1000 years')")
    conn.execute("CREATE MATERIALIZED VIEW ivs_big AS SELECT i * 10000000 AS big FROM ivs")
    conn.execute("FLUSH")
    assert conn.execute("SELECT big FROM ivs_big").fetchall() == [(None,)]
    assert conn.execute("SELECT count(*) FROM ivs").fetchone()[0] == 1


def test_numeric_cast_keeps_digits_and_scale(conn: sqlstream.Connection) -> None:
    """A cast to numeric without a typmod keeps the digits and the scale written."""
    row = conn.execute("SELECT '1.23e-3'::decimal, '5727.60'::numeric, "
                       "12.345678901234::numeric, CAST(2 AS numeric)").fetchone()
    assert [str(v) for v in row] == ["0.00123", "5727.60", "12.345678901234", "2"]


def test_regexp_matches_is_a_set(conn: sqlstream.Connection) -> None:
    rows = conn.execute("SELECT regexp_matches('foobarbequebazilbarfbonk', "
                        "'(b[^b]+)(b[^b]+)', 'g')").fetchall()
    assert rows == [(["bar", "beque"],), (["bazil", "barf"],)]
    assert conn.execute("SELECT regexp_matches('xyz', 'a')").fetchall() == []


def test_regexp_replace_start_and_n(conn: sqlstream.Connection) -> None:
    """PostgreSQL 16's (and RisingWave's) form regexp_replace(s, p, r, start, N, flags)."""
    got = conn.execute("SELECT regexp_replace('A PostgreSQL function', 'a|e|i|o|u', 'X', "
                       "1, 0, 'i'), regexp_replace('abcabc', 'b', 'X', 3, 1)").fetchone()
    assert got == ("X PXstgrXSQL fXnctXXn", "abcaXc")
