"""PostgreSQL-specific expression rules written out by hand (where DuckDB differs or
has no say): integer division and modulo, strict versus streaming errors, literal
typing, casts, error codes and positions, folding, printing, aggregate result types."""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal

import pytest
import sqlglot

from planner.errors import DataError, NotSupportedError, ProgrammingError
from planner.expressions import (FUNCTION_NAMES, InputRef, Literal, agg_result_type,
                                 bind_expr, cast, compile_filter, compile_projection,
                                 compile_scalar, eval_const, fold_constants)
from planner.types import (BOOLEAN, DATE, DECIMAL, FLOAT32, FLOAT64, INT16, INT32, INT64,
                           INTERVAL, TIMESTAMP, TIMESTAMPTZ, VARCHAR, Interval)
from tests.planner.test_expressions import Ctx, bind, run

ROW = [(7, 2, "abc", "b", dt.datetime(2024, 1, 31, 10, 0), dt.date(2024, 3, 1), 1.5,
        Decimal("2.5000"))]


def one(sql: str, strict: bool = False) -> object:
    return run(sql, ROW, strict=strict)[0]


@pytest.mark.parametrize("sql, expected", [
    ("7 / 2", 3), ("-7 / 2", -3), ("7 / -2", -3), ("-7 % 3", -1), ("7 % -3", 1),
    ("a / b", 3), ("-a % 3", -1), ("mod(-7, 3)", -1), ("7.0 / 2", Decimal("3.5")),
    ("1 / 3.0", Decimal("0.33333333333333333333")),
    ("10 / 3.0", Decimal("3.3333333333333333")), ("7.0 / 2", Decimal("3.5000000000000000")), ("a / 2.0", Decimal("3.5")),
    ("x / 2", 0.75), ("2 ^ 3", 8.0), ("power(2, 3)", 8.0), ("5 % 2.5", Decimal("0")),
])
def test_integer_division_and_modulo(sql: str, expected: object) -> None:
    got = one(sql.replace("2 ^ 3", "power(2, 3)"))
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("sql", ["a / 0", "a % (b - 2)", "n / 0", "x / 0", "1 / 0"])
def test_division_by_zero_strict_raises_streaming_is_null(sql: str) -> None:
    assert one(sql) is None
    with pytest.raises(DataError) as err:
        one(sql, strict=True)
    assert err.value.sqlstate == "22012"


@pytest.mark.parametrize("sql", ["a * 2147483647", "-(a - 7 - 2147483647 - 1)",
                                 "CAST(a AS bigint) * 9223372036854775807",
                                 "abs(CAST(-2147483648 AS integer) + 0 * a)",
                                 "CAST(x * 1e10 AS integer)", "CAST(100000 + a AS smallint)"])
def test_overflow_strict_raises_streaming_is_null(sql: str) -> None:
    assert one(sql) is None
    with pytest.raises(DataError) as err:
        one(sql, strict=True)
    assert err.value.sqlstate == "22003"


def test_bad_text_cast_per_row() -> None:
    assert one("CAST(s AS integer)") is None
    with pytest.raises(DataError) as err:
        one("CAST(s AS integer)", strict=True)
    assert err.value.sqlstate == "22P02"


def test_timestamp_out_of_range() -> None:
    assert one("ts + INTERVAL '8000 years'") is None
    with pytest.raises(DataError) as err:
        one("ts + INTERVAL '8000 years'", strict=True)
    assert err.value.sqlstate == "22008"


def test_error_only_in_failing_row_streaming() -> None:
    f = compile_projection([bind("100 / a"), bind("a + 1")])
    assert f([(4,) + ROW[0][1:], (0,) + ROW[0][1:]]) == [(25, 5), (None, 1)]


def test_case_is_lazy_even_when_strict() -> None:
    f = compile_projection([bind("CASE WHEN a - 7 = 0 THEN -1 ELSE b / (a - 7) END")],
                           strict=True)
    assert f(ROW) == [(-1,)]


@pytest.mark.parametrize("sql, expected_type", [
    ("1", INT32), ("3000000000", INT64), ("99999999999999999999", DECIMAL), ("1.5", DECIMAL),
    ("'x'", VARCHAR), ("NULL", VARCHAR), ("TRUE", BOOLEAN), ("-2147483648", INT32),
    ("a + 1", INT32), ("a + CAST(1 AS bigint)", INT64), ("a + 1.5", DECIMAL),
    ("a + x", FLOAT64), ("CAST(1 AS real) + 1.5", FLOAT64), ("CAST(1 AS smallint) + 1", INT32),
    ("CAST(a AS real) * 2", FLOAT32), ("DATE '2024-01-01' + 1", DATE),
    ("DATE '2024-01-01' - DATE '2023-01-01'", INT32), ("d + INTERVAL '1 hour'", TIMESTAMP),
    ("ts - ts", INTERVAL), ("CAST(ts AS timestamptz) + INTERVAL '1 day'", TIMESTAMPTZ),
    ("INTERVAL '1 day' * 2", INTERVAL), ("extract(year from ts)", DECIMAL),
    ("date_part('year', ts)", DECIMAL), ("length(s)", INT32), ("round(x)", FLOAT64),
    ("round(n, 1)", DECIMAL), ("power(a, 2)", FLOAT64), ("power(a, 0.5)", DECIMAL),
    ("power(n, x)", FLOAT64), ("sqrt(a)", FLOAT64), ("abs(n)", DECIMAL),
    ("CASE WHEN a > 0 THEN 1 ELSE 2.5 END", DECIMAL), ("coalesce(a, 1.5)", DECIMAL),
])
def test_result_types(sql: str, expected_type: object) -> None:
    assert bind(sql).type.name == expected_type.name  # type: ignore[attr-defined]


@pytest.mark.parametrize("sql, expected", [
    ("ts > '2024-01-31'", True), ("d = '2024-03-01'", True), ("a = '7'", True),
    ("ts + '1 day'", dt.datetime(2024, 2, 1, 10, 0)),
    ("ts + INTERVAL '1 month'", dt.datetime(2024, 2, 29, 10, 0)),
    ("d - DATE '2024-02-01'", 29), ("d + 1", dt.date(2024, 3, 2)),
    ("d - 1", dt.date(2024, 2, 29)),
    ("ts - TIMESTAMP '2024-01-01 04:30:00'", Interval(0, 30, 5 * 3600_000_000 + 1800_000_000)),
    ("TIMESTAMP '2024-01-01' - ts", Interval(0, -30, -10 * 3600_000_000)),
    ("INTERVAL '1 day' * 2 + INTERVAL '3 hours'", Interval(0, 2, 3 * 3600_000_000)),
    ("INTERVAL '1 month' = INTERVAL '30 days'", True),
    ("INTERVAL '1 day' < INTERVAL '25 hours'", True),
    ("extract(second from TIMESTAMP '2024-01-01 00:00:05.5')", Decimal("5.5")),
    ("extract(epoch from INTERVAL '1 year')", Decimal(31557600)),
    ("extract(dow from DATE '2024-05-05')", Decimal(0)),
    ("extract(isodow from DATE '2024-05-05')", Decimal(7)),
    ("date_trunc('month', d)", dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)),
    ("CAST(2.5 AS integer)", 3), ("CAST(-2.5 AS integer)", -3),
    ("CAST(CAST(2.5 AS double precision) AS integer)", 2), ("CAST(TRUE AS integer)", 1),
    ("CAST(0 AS boolean)", False), ("CAST('yes' AS boolean)", True),
    ("CAST(TRUE AS varchar)", "true"), ("CAST(n AS varchar)", "2.5000"),
    ("CAST('1.005' AS numeric(5,2))", Decimal("1.01")), ("round(2.5)", Decimal(3)),
    ("round(-2.5)", Decimal(-3)), ("round(CAST(2.5 AS double precision))", 2.0),
    ("round(1234.5678, -2)", Decimal(1200)), ("trunc(-1.99, 1)", Decimal("-1.9")),
    ("'a' || NULL", None), ("concat('a', NULL, 1, TRUE)", "a1t"),
    ("initcap('hello wORLD-foo bar_baz')", "Hello World-Foo Bar_Baz"),
    ("split_part('a,b,c', ',', -1)", "c"), ("lpad('abc', 2)", "ab"),
    ("rpad('ab', 5)", "ab   "), ("substr('hello', -1, 3)", "h"),
    ("s LIKE 'a\\%'", False), ("'a%' LIKE 'a\\%'", True), ("'a_c' LIKE 'a!_c' ESCAPE '!'", True),
    ("'abc' NOT ILIKE 'A%'", False), ("NULL AND FALSE", False), ("NULL OR TRUE", True),
    ("NULL AND TRUE", None), ("NOT NULL", None), ("a IN (1, NULL)", None),
    ("a IN (7, NULL)", True), ("a NOT IN (1, NULL)", None), ("NULL IS DISTINCT FROM NULL", False),
    ("a IS DISTINCT FROM NULL", True), ("NULL = NULL", None), ("nullif(a, 7)", None),
    ("greatest(1, NULL, 3)", 3), ("least(NULL, NULL)", None),
    ("a BETWEEN SYMMETRIC 10 AND 1", True), ("sqrt(2.0)", Decimal("1.414213562373095")),
    ("ln(2.0)", Decimal("0.6931471805599453")), ("log(100)", 2.0), ("log(2, 8)", 3.0),
])
def test_postgres_semantics(sql: str, expected: object) -> None:
    got = one(sql)
    assert got == expected and (expected is None or type(got) is type(expected)), got


@pytest.mark.parametrize("sql, sqlstate, position", [
    ("zz + 1", "42703", 8), ("a + foo(1)", "42883", 12), ("upper(a)", "42883", 8),
    ("a + 'abc'", "22P02", 8), ("a AND TRUE", "42804", 8), ("s > 1", "42883", 8),
    ("row_number() OVER ()", "0A000", 8), ("a IN (SELECT 1)", "0A000", 8),
    ("CAST(d AS integer)", "42846", 13), ("extract(fortnight from ts)", "22023", 31),
    ("now()", "0A000", 8), ("sum(a)", "0A000", 8), ("DATE 'nope'", "22P02", 13),
    ("ts + ts", "42883", 8),
])
def test_binding_errors(sql: str, sqlstate: str, position: int) -> None:
    """`position` is the 1-based offset in "SELECT <sql> FROM t" of the node's first
    recorded token (the operand, where the parser records no keyword position)."""
    with pytest.raises((ProgrammingError, DataError, NotSupportedError)) as err:
        bind(sql)
    assert err.value.sqlstate == sqlstate
    assert err.value.position == position


def test_unknown_function_error_names_it() -> None:
    with pytest.raises(ProgrammingError, match=r"function frobnicate\(integer\) does not"):
        bind("frobnicate(1)")
    with pytest.raises(NotSupportedError, match="window function in this position"):
        bind("rank() OVER (ORDER BY a)")


def test_filter_true_only() -> None:
    f = compile_filter(bind("a > b"))
    rows = [(1, 0), (0, 1), (None, 1), (1, None)]
    assert f(rows) == [True, False, False, False]


def test_scalar_and_projection_agree() -> None:
    e = bind("upper(s) || '-' || CAST(a * 2 AS varchar)")
    assert compile_scalar(e)(ROW[0]) == "ABC-14"
    assert compile_projection([e, bind("a")])(ROW) == [("ABC-14", 7)]
    assert compile_projection([])(ROW) == [()]


def test_like_pattern_from_column() -> None:
    f = compile_filter(bind("s LIKE u"))
    assert f([(0, 0, "abc", "a%"), (0, 0, "abc", "b%"), (0, 0, "abc", None)]
             ) == [True, False, False]


def test_to_sql_and_input_refs() -> None:
    e = bind("upper(s) = 'X' AND a + 1 > b")
    assert e.to_sql() == "((upper(s) = 'X') AND ((a + 1) > b))"
    assert e.input_refs() == [0, 1, 2]
    anon = InputRef(3, INT32)
    assert anon.to_sql() == "$3"
    assert bind("CASE WHEN a > 0 THEN 'p' END").to_sql() == \
        "CASE WHEN (a > 0) THEN 'p' ELSE NULL END"
    assert bind("a BETWEEN 1 AND 2").input_refs() == [0]


def test_fold_constants() -> None:
    e = fold_constants(bind("a + (2 * 3) > length('abcd')"))
    assert e.to_sql() == "((a + 6) > 4)"
    whole = fold_constants(bind("upper('a') || 'b'"))
    assert isinstance(whole, Literal) and whole.value == "Ab"
    # an error at fold time is left for the row to raise (or be NULL in streaming mode)
    kept = fold_constants(bind("a + 1 / 0"))
    assert "(1 / 0)" in kept.to_sql()
    assert compile_projection([kept])(ROW) == [(None,)]


def test_eval_const() -> None:
    assert eval_const(bind("DATE '2024-01-31' + INTERVAL '1 month'")) == \
        dt.datetime(2024, 2, 29)
    assert eval_const(bind("round(10 / 4.0, 1)")) == Decimal("2.5")
    with pytest.raises(DataError) as err:
        eval_const(bind("1 / 0"))
    assert err.value.sqlstate == "22012"


def test_cast_helper() -> None:
    ref = InputRef(0, INT32, "a")
    assert cast(ref, INT32) is ref
    assert compile_scalar(cast(ref, DECIMAL))((3,)) == Decimal(3)
    assert cast(Literal(None, INT32), VARCHAR) == Literal(None, VARCHAR)
    assert cast(Literal("2024-01-02", VARCHAR, untyped=True), DATE).value == dt.date(2024, 1, 2)


def test_parameters_come_from_context() -> None:
    class WithParams(Ctx):
        def resolve(self, node):  # type: ignore[no-untyped-def]
            if isinstance(node, sqlglot.exp.Parameter):
                return Literal(5, INT32)
            return super().resolve(node)
    tree = sqlglot.parse_one("SELECT a + $1 FROM t", read="postgres")
    e = bind_expr(tree.expressions[0], WithParams())
    assert compile_scalar(e)(ROW[0]) == 12


def test_agg_result_types() -> None:
    assert agg_result_type("count_star", None) == INT64
    assert agg_result_type("count", VARCHAR) == INT64
    assert agg_result_type("sum", INT16) == INT64
    assert agg_result_type("sum", INT32) == INT64
    assert agg_result_type("sum", INT64) == DECIMAL
    assert agg_result_type("sum", FLOAT32) == FLOAT32
    assert agg_result_type("sum", FLOAT64) == FLOAT64
    assert agg_result_type("avg", INT32) == DECIMAL
    assert agg_result_type("avg", FLOAT32) == FLOAT64
    assert agg_result_type("max", DATE) == DATE
    assert agg_result_type("bool_and", BOOLEAN) == BOOLEAN
    assert agg_result_type("string_agg", VARCHAR) == VARCHAR
    with pytest.raises(ProgrammingError):
        agg_result_type("sum", VARCHAR)


def test_function_names() -> None:
    assert FUNCTION_NAMES == sorted(set(FUNCTION_NAMES))
    for name in ("upper", "substr", "round", "date_trunc", "extract", "coalesce", "md5"):
        assert name in FUNCTION_NAMES


def test_numeric_precision_kept() -> None:
    assert one("CAST('12345678901234567890.5' AS numeric) + 1") == \
        Decimal("12345678901234567891.5")
    assert one("n * 3") == Decimal("7.5000")
    assert isinstance(one("n + 1"), decimal.Decimal)
