"""The runner itself: it must fail on wrong results, wrong errors and missing errors."""

from __future__ import annotations

import pytest

import sqlstream
from tests.slt.runner import Runner, SltFailure, parse


def _run(text: str) -> None:
    with sqlstream.connect(barrier_interval_ms=20) as conn:
        Runner(conn).run(parse(text))


def test_parse_records() -> None:
    recs = parse("""
# comment
statement ok
CREATE TABLE t (a int)

statement error 23505 duplicate key
INSERT INTO t VALUES (1)

query IT rowsort
SELECT 1,
  'x'
----
1 x

flush
""")
    assert [r.kind for r in recs] == ["statement", "statement", "query", "flush"]
    assert recs[1].sqlstate == "23505" and recs[1].pattern == "duplicate key"
    assert recs[1].position is None
    assert recs[2].sql == "SELECT 1,\n  'x'" and recs[2].expected == ["1 x"]
    assert recs[2].sort == "rowsort" and recs[2].line == 9


def test_passing_file() -> None:
    _run("""
statement ok
CREATE TABLE t (a int, b varchar)

statement count 2
INSERT INTO t VALUES (2, 'two words'), (1, NULL)

flush

query IT rowsort
SELECT a, b FROM t
----
1 NULL
2 two   words

query I valuesort
SELECT a FROM t
----
2
1

statement error 42P01 @15 "nope"
SELECT * FROM nope
""")


@pytest.mark.parametrize("text, message", [
    ("query I\nSELECT 1\n----\n2\n", "result mismatch"),
    ("query II\nSELECT 1\n----\n1\n", "expected 2 columns"),
    ("statement error\nSELECT 1\n", "expected an error"),
    ("statement error 22012\nSELECT * FROM nope\n", "expected SQLSTATE 22012"),
    ("statement ok\nSELECT * FROM nope\n", "unexpected error"),
    ("statement error 42P01 @1\nSELECT * FROM nope\n", "expected the error at position 1"),
    ("statement error @3 nope\nSELECT * FROM nope\n", "expected the error at position 3"),
    ("query I\nSELECT 1 UNION ALL SELECT 2\n----\n2\n1\n", "result mismatch"),
])
def test_failures_name_the_line(text: str, message: str) -> None:
    with pytest.raises(SltFailure, match=message) as info:
        _run("\n" + text)
    assert "<string>:2:" in str(info.value)


def test_values_print_as_postgresql_text() -> None:
    from decimal import Decimal

    from tests.slt.runner import format_value
    assert format_value(None) == "NULL" and format_value("") == "(empty)"
    assert format_value(True) == "t" and format_value(Decimal("1.50")) == "1.50"
    assert format_value(0.10000000149011612, "real") == "0.1"
    assert format_value(0.10000000149011612, "double precision") == "0.10000000149011612"
    assert format_value(3.4028234663852886e38, "real") == "3.4028235e+38"
    import datetime as dt
    assert format_value(dt.timedelta(hours=-1), "interval") == "-01:00:00"
    assert format_value(dt.timedelta(days=-2, hours=-3), "interval") == "-2 days -03:00:00"
    assert format_value(dt.timedelta(days=1, hours=2), "interval") == "1 day 02:00:00"
