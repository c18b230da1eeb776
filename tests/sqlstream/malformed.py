"""A generated corpus of malformed SQL: every statement cut at every token, token
soups, deep nesting, huge literals and names, NUL bytes and lone surrogates."""

from __future__ import annotations

import random
import re
from typing import Iterator

SETUP = [
    "CREATE TABLE s (k int PRIMARY KEY, v varchar)",
    "INSERT INTO s VALUES (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four')",
    "CREATE MATERIALIZED VIEW sv AS SELECT v, count(*) AS n FROM s GROUP BY v",
    "CREATE TABLE w (k int PRIMARY KEY, v varchar)",
    "FLUSH",
]
# What SETUP leaves, as the checks read it back.
CONTENTS = [(1, "one"), (2, "two"), (3, "three"), (4, "four")]

VALID = [
    # DML goes to the scratch table w: a cut statement may be a valid one.
    "INSERT INTO w VALUES (9, 'nine'), (10, 'ten')",
    "UPDATE w SET v = 'x' WHERE k = 9",
    "DELETE FROM w WHERE k IN (9, 10)",
    "SELECT a.k, b.v FROM s a LEFT JOIN s b ON a.k = b.k WHERE a.k > 1 ORDER BY 1",
    "SELECT v, count(*) FROM s GROUP BY v HAVING count(*) > 0 ORDER BY v LIMIT 2",
    "SELECT CASE WHEN k > 1 THEN 'big' ELSE 'small' END, k::text FROM s",
    "SELECT k, row_number() OVER (PARTITION BY v ORDER BY k) FROM s",
    "WITH c AS (SELECT k FROM s WHERE k < 3) SELECT * FROM c UNION ALL SELECT 1",
    "SELECT ARRAY[1, 2][1], (SELECT max(k) FROM s), coalesce(NULL, 1) FROM s",
    "SELECT * FROM s WHERE v LIKE 'o%' AND k BETWEEN 1 AND 3 OR k IS NULL",
    "CREATE MATERIALIZED VIEW tmp_v AS SELECT k, v FROM s WHERE k > 2",
    "CREATE TABLE tmp_t (a int, b varchar, PRIMARY KEY (a))",
    "DROP MATERIALIZED VIEW IF EXISTS tmp_v",
    "DROP TABLE IF EXISTS tmp_t",
    "EXPLAIN SELECT * FROM s WHERE k = 1",
    "SELECT k FROM s WHERE k IN (SELECT k FROM s) AND EXISTS (SELECT 1)",
    "SELECT DISTINCT v FROM sv ORDER BY v DESC NULLS LAST",
]

_TOKEN = re.compile(r"'[^']*'|\w+|::|[<>!=]=|\S")
SOUP = ["SELECT", "FROM", "WHERE", "(", ")", ",", "w", "sv", "k", "v", "1", "'x'", "*",
        "+", "=", "JOIN", "ON", "GROUP", "BY", "ORDER", "CREATE", "TABLE", "INSERT", "INTO",
        "VALUES", "UPDATE", "SET", "DELETE", "NULL", "AND", "NOT", "CASE", "WHEN", "END",
        "::", "int", "[", "]", "AS", '"q"', "UNION", "LIMIT", "-", "$1", "DROP", "VIEW",
        "MATERIALIZED", "OVER", "PARTITION", ";", "''", "e'\\x'", "ARRAY", "IN", ".", "::text"]


def truncations() -> Iterator[str]:
    for stmt in VALID:
        ends = [m.end() for m in _TOKEN.finditer(stmt)]
        for end in ends[:-1]:
            yield stmt[:end]


def soups(n: int, seed: int = 12) -> Iterator[str]:
    rnd = random.Random(seed)
    for _ in range(n):
        yield " ".join(rnd.choice(SOUP) for _ in range(rnd.randint(1, 14)))


def nesting() -> Iterator[str]:
    for d in (101, 600, 5000):
        yield "SELECT " + "(" * d + "1" + ")" * d
        yield "SELECT " + "(" * d + "1"
        yield "SELECT * FROM " + "(SELECT * FROM " * d + "s" + ") x" * d
        yield "SELECT " + "NOT " * d + "true"
        yield "SELECT " + "ARRAY[" * (d // 50) + "1" + "]" * (d // 50)
        yield "SELECT " + "CASE WHEN true THEN " * d + "1" + " END" * d
        yield "SELECT " + "abs(" * d + "1" + ")" * d
    yield "SELECT " + "+".join(["1"] * 3000)
    yield "SELECT " + " AND ".join(["true"] * 3000)


def huge(size: int) -> Iterator[str]:
    yield "SELECT '" + "x" * size + "'"
    yield "SELECT '" + "x" * size          # unterminated
    yield "SELECT " + "9" * (size // 100)
    yield "SELECT " + "a" * (size // 10) + " FROM s"
    yield 'SELECT "' + "a" * (size // 10) + '" FROM s'
    yield "CREATE TABLE " + "t" * 100_000 + " (k int)"
    yield "INSERT INTO s VALUES (1, '" + "y" * size + "')"  # a duplicate key


def odd_characters() -> Iterator[str]:
    yield "SELECT 1\x00"
    yield "SELECT '\x00'"
    yield "\x00"
    yield "SELECT '\ud800'"
    yield "SELECT \ud800"
    yield "SELECT 'a\udfff' FROM s"
    yield 'CREATE TABLE "\ud800" (k int)'
    yield "SELECT U&'\\D800'"
    yield "SELECT E'\\xff\\xfe'"
    yield "SELECT '\ufeff', '\U0001F600'"
    yield "SELECT $$unterminated"
    yield "SELECT 'it''s' || chr(0)"


def semantic() -> Iterator[str]:
    yield "SELECT ROW(1, 2) = ROW(1)"
    yield "SELECT (1, 2) IN ((1, 2), (1))"
    yield "SELECT k FROM s WHERE (k, v) = (1)"
    yield "SELECT * FROM s JOIN s t"
    yield "SELECT * FROM s LEFT JOIN s t WHERE true"
    yield "SELECT count(*) FILTER (WHERE) FROM s"
    yield "SELECT x'zz'"
    yield "SELECT 1e999999"
    yield "SELECT 99999999999999999999999999999999999999999"
    yield "INSERT INTO s VALUES (1, 'dup')"
    yield "INSERT INTO s VALUES ('x', 1)"
    yield "UPDATE sv SET n = 1"
    yield "DROP TABLE s"


def corpus(size: int = 1_000_000, soup: int = 300) -> Iterator[str]:
    yield from truncations()
    yield from soups(soup)
    yield from nesting()
    yield from huge(size)
    yield from odd_characters()
    yield from semantic()


def wire_corpus() -> Iterator[str]:
    """A subset small enough for a test over the wire (text a client can send: no NUL,
    no lone surrogates)."""
    yield from list(truncations())[::4]
    yield from soups(60, seed=5)
    yield from nesting()
    yield from huge(200_000)
    yield from (s for s in odd_characters() if not any(c in s for c in "\x00\ud800\udfff"))
    yield from semantic()
