"""Unit tests of the table clauses, plain-view expansion and the new scalar
functions (expected values: PostgreSQL 15's results)."""

from __future__ import annotations

import doctest
import math

import pytest

import planner.table_clauses as clauses
from planner import types as T
from planner.catalog import TABLE, VIEW, Catalog, ColumnDef, Relation
from planner.errors import DataError, ProgrammingError
from planner.expressions import builtins_misc as misc
from planner.expressions import builtins_trig as trig
from planner.parse import parse
from planner.views import expand_views


def test_table_clauses_doctests() -> None:
    result = doctest.testmod(clauses)
    assert result.attempted > 0 and result.failed == 0


def test_table_clauses_in_any_order_and_inside_strings() -> None:
    c = clauses.split_table_clauses(
        "CREATE TABLE t (a varchar DEFAULT 'APPEND ONLY)', b int PRIMARY KEY) "
        "ON CONFLICT DO UPDATE IF NOT NULL")
    assert c.text == "CREATE TABLE t (a varchar DEFAULT 'APPEND ONLY)', b int PRIMARY KEY)"
    assert c.on_conflict == clauses.UPDATE_IF_NOT_NULL and not c.append_only
    with pytest.raises(ProgrammingError) as e:
        clauses.split_table_clauses("CREATE TABLE t (a int) ON CONFLICT REPLACE")
    assert e.value.sqlstate == "42601"


def test_resolve_conflict() -> None:
    old, new = (1, 10, "a"), (1, None, "b")
    assert clauses.resolve_conflict(clauses.OVERWRITE, old, new) == new
    assert clauses.resolve_conflict(clauses.IGNORE, old, new) is None
    assert clauses.resolve_conflict(clauses.UPDATE_IF_NOT_NULL, old, new) == (1, 10, "b")
    assert clauses.resolve_conflict(clauses.UPDATE_IF_NOT_NULL, old, (1, None, None)) is None


def _catalog() -> Catalog:
    cat = Catalog()
    cat.add(Relation(1, "t", TABLE, [ColumnDef("a", T.INT32)], [0]))
    cat.add(Relation(2, "v", VIEW, [ColumnDef("x", T.INT32)], [],
                     "CREATE VIEW v (x) AS SELECT a FROM t WHERE a > 1", [1]))
    return cat


def test_expand_views_names_columns_and_respects_ctes() -> None:
    tree = expand_views(parse("SELECT x FROM v AS w"), _catalog())
    assert tree.sql() == 'SELECT x FROM (SELECT a FROM t WHERE a > 1) AS w("x")'
    shadowed = expand_views(parse("WITH v AS (SELECT 1 AS x) SELECT x FROM v"), _catalog())
    assert "FROM t" not in shadowed.sql()


@pytest.mark.parametrize("fn, arg, want", [
    (trig.sind, 30.0, 0.5), (trig.sind, -180.0, -0.0), (trig.cosd, 60.0, 0.5),
    (trig.cosd, 90.0, 0.0), (trig.tand, 45.0, 1.0), (trig.tand, 135.0, -1.0),
    (trig.tand, 90.0, math.inf), (trig.cotd, 45.0, 1.0), (trig.cotd, 0.0, math.inf),
    (trig.asind, 0.5, 30.0), (trig.acosd, -0.5, 120.0), (trig.atand, 1.0, 45.0),
    (trig.atanh, 1.0, math.inf), (trig.cot, 0.0, math.inf),
])
def test_trig_exact_values(fn, arg, want) -> None:
    got = fn(arg)
    assert got == want and math.copysign(1, got) == math.copysign(1, want)


@pytest.mark.parametrize("fn, arg", [(trig.asin, 2.0), (trig.acosd, -1.5), (trig.acosh, 0.5),
                                     (trig.sind, math.inf), (trig.atanh, 1.5)])
def test_trig_domain_errors(fn, arg) -> None:
    with pytest.raises(DataError) as e:
        fn(arg)
    assert e.value.sqlstate == "22003"


def test_string_and_integer_functions() -> None:
    assert misc.translate("12345", "143", "ax") == "a2x5"
    assert misc.quote_ident("Foo") == '"Foo"' and misc.quote_ident("foo_1") == "foo_1"
    assert misc.quote_ident("select") == '"select"'
    assert misc.quote_literal("O'Reilly") == "'O''Reilly'"
    assert misc.quote_literal("a\\b") == "E'a\\\\b'"
    assert misc.to_hex(-1) == "ffffffff" and misc.to_hex(255) == "ff"
    assert misc.gcd(-12, 18) == 6 and misc.lcm(4, 6) == 12
    assert misc.width_bucket(5.35, 0.024, 10.06, 5) == 3
    assert misc.width_bucket(-1, 10, 0, 5) == 6
    assert misc.regexp_replace("Thomas", ".[mN]a.", "M") == "ThM"
    assert misc.regexp_replace("foobarbaz", "b(..)", "X\\1Y", "g") == "fooXarYXazY"
    assert misc.decode(misc.encode(b"\x00\\a\xff", "escape"), "escape") == b"\x00\\a\xff"
