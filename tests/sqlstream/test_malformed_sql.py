"""Malformed SQL gets a PostgreSQL error (never an internal one), and leaves the
database running with its data intact, also after a restart."""

from __future__ import annotations

import gc
import os
import re
from pathlib import Path

import pytest

import sqlstream
from tests.sqlstream.malformed import CONTENTS, SETUP, corpus, truncations

_SQLSTATE = re.compile(r"^[0-9A-HJ-Z][0-9A-Z]{4}$")


def _run_corpus(cur: sqlstream.Cursor, statements: list[str]) -> dict[str, int]:
    codes: dict[str, int] = {}
    for sql in statements:
        try:
            cur.execute(sql)
            code = "ok"
        except sqlstream.Error as e:  # anything else escaping fails the test
            code = e.sqlstate
            assert _SQLSTATE.match(code) and not code.startswith("XX"), (sql[:200], code, e)
            if str(e).startswith("syntax error"):
                assert e.position is not None, (sql[:200], str(e))
        codes[code] = codes.get(code, 0) + 1
    return codes


def _check_contents(cur: sqlstream.Cursor) -> None:
    cur.execute("SELECT k, v FROM s WHERE k <= 4 ORDER BY k")
    assert cur.fetchall() == CONTENTS
    cur.execute("SELECT v, n FROM sv WHERE v IN ('one', 'two', 'three', 'four') ORDER BY v")
    assert cur.fetchall() == [("four", 1), ("one", 1), ("three", 1), ("two", 1)]


def test_malformed_corpus_embedded(tmp_path: Path) -> None:
    statements = list(corpus())
    assert len(statements) > 500
    with sqlstream.connect(str(tmp_path)) as conn:
        cur = conn.cursor()
        for sql in SETUP:
            cur.execute(sql)
        codes = _run_corpus(cur, statements)
        assert codes.get("42601", 0) > 300 and codes.get("54001", 0) >= 15
        cur.execute("FLUSH")
        _check_contents(cur)
    with sqlstream.connect(str(tmp_path)) as conn:
        cur = conn.cursor()
        _check_contents(cur)
        cur.execute("SELECT name, status FROM sys.relations ORDER BY id")
        rows = cur.fetchall()
        assert rows[:2] == [("s", "ok"), ("sv", "ok")]
        assert all(status == "ok" for _n, status in rows)


@pytest.mark.parametrize("sql,position", [
    ("INSERT INTO s VALUES (9,'nine'),", 33),
    ("UPDATE s SET ", 13),
    ("SELECT * FROM s a LEFT JOIN s b ON", 35),
    ("SELECT * FROM s a LEFT JOIN s b", 32),
    ("SELECT * FROM s a JOIN s b WHERE true", 28),
    ("INSERT INTO s", 14),
    ("UPDATE s SET v", 15),
    ("CREATE MATERIALIZED VIEW v", 27),
    ("SELECT 1; SELECT 2 +", 21),
])
def test_truncated_statements_are_syntax_errors(sql: str, position: int) -> None:
    with sqlstream.connect() as conn:
        cur = conn.cursor()
        cur.execute("CREATE TABLE s (k int, v varchar)")
        cur.execute("INSERT INTO s VALUES (1, 'one')")
        with pytest.raises(sqlstream.ProgrammingError) as info:
            cur.execute(sql)
        assert (info.value.sqlstate, info.value.position) == ("42601", position)
        cur.execute("FLUSH")
        cur.execute("SELECT count(*) FROM s")
        assert cur.fetchall() == [(1,)]


def test_every_truncation_is_refused_or_valid() -> None:
    """A cut statement is a syntax error unless what is left is itself a statement."""
    assert sum(1 for _ in truncations()) > 200


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_memory_returns_after_failed_huge_statements() -> None:
    """What a failed statement took (a 50 MB literal, its tokens and tree) is given back."""
    failing = [
        "SELECT '" + "x" * 50_000_000,                          # unterminated
        "INSERT INTO s VALUES (1, '" + "y" * 10_000_000 + "')",  # duplicate key
        "SELECT " + "a" * 2_000_000 + " FROM s",                 # no such column
        "SELECT nosuchfn('" + "z" * 10_000_000 + "')",
    ]
    with sqlstream.connect() as conn:
        cur = conn.cursor()
        cur.execute("CREATE TABLE s (k int PRIMARY KEY, v varchar)")
        cur.execute("INSERT INTO s VALUES (1, 'one')")
        cur.execute("FLUSH")
        with pytest.raises(sqlstream.Error):  # warm-up: the allocator's first growth
            cur.execute(failing[1])
        gc.collect()
        before = _rss_mb()
        for sql in failing:
            with pytest.raises(sqlstream.Error) as info:
                cur.execute(sql)
            assert not info.value.sqlstate.startswith("XX")
        del failing
        gc.collect()
        assert _rss_mb() - before < 50
        cur.execute("SELECT k, v FROM s")
        assert cur.fetchall() == [(1, "one")]
