"""A seeded generator of typed SQL expressions that mean the same in PostgreSQL and in
sqlstream: literals, columns, operators, casts, functions, CASE and NULLs over int,
bigint, numeric, double precision, text, boolean, date, timestamp and interval.

Each production is typed, so every generated expression is well typed in PostgreSQL;
what is left out on purpose, or because sqlstream still answers it wrongly, is listed
in tests/postgres/differences.py and never generated."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

INT, BIGINT, NUMERIC, DOUBLE = "int", "bigint", "numeric", "double precision"
TEXT, BOOL, DATE, TIMESTAMP, INTERVAL = "text", "boolean", "date", "timestamp", "interval"
TYPES = (INT, BIGINT, NUMERIC, DOUBLE, TEXT, BOOL, DATE, TIMESTAMP, INTERVAL)
NUMBERS = (INT, BIGINT, NUMERIC, DOUBLE)
ORDERED = (INT, BIGINT, NUMERIC, DOUBLE, TEXT, BOOL, DATE, TIMESTAMP, INTERVAL)

Columns = dict[str, Sequence[str]]  # type -> column names of that type in scope


class ExprGen:
    """Random expressions of a requested type, at most `depth` operators deep."""

    def __init__(self, rng: random.Random, columns: Columns | None = None,
                 null_rate: float = 0.08) -> None:
        self.rng = rng
        self.columns = columns or {}
        self.null_rate = null_rate

    def expr(self, t: str, depth: int = 3) -> str:
        r = self.rng
        if depth <= 0 or r.random() < 0.25:
            return self.leaf(t)
        rules = _RULES[t]
        return r.choice(rules)(self, depth - 1)

    def leaf(self, t: str) -> str:
        r = self.rng
        cols = self.columns.get(t)
        if cols and r.random() < 0.6:
            return r.choice(list(cols))
        if r.random() < self.null_rate:
            return f"NULL::{t}"
        return _LITERALS[t](r)

    # helpers for the rules
    def e(self, t: str, d: int) -> str:
        return self.expr(t, d)

    def pick(self, *options: str) -> str:
        return self.rng.choice(options)


def _int_lit(r: random.Random) -> str:
    v = r.choice([0, 1, 2, 3, -1, -7, 10, 42, 100, r.randint(-1000, 1000)])
    return f"({v})" if v < 0 else str(v)


def _bigint_lit(r: random.Random) -> str:
    v = r.choice([0, 1, -5, 3000000000, r.randint(-10**12, 10**12)])
    return f"({v}::bigint)" if v < 0 else f"{v}::bigint"


def _numeric_lit(r: random.Random) -> str:
    whole = r.choice([0, 1, 2, 12, 100, r.randint(0, 10000)])
    frac = r.choice(["", ".5", ".25", ".125", ".1", f".{r.randint(0, 99):02d}"])
    sign = r.choice(["", "", "-"])
    return f"({sign}{whole}{frac}::numeric)"


def _double_lit(r: random.Random) -> str:
    v = r.choice([0.0, 0.5, 1.5, 2.5, -2.5, 0.1, 3.25, 1e10, -0.75, round(r.uniform(-100, 100), 3)])
    return f"({v!r}::float8)"


_WORDS = ["", "a", "abc", "Hello", "hello world", "x_y", "A%B", "  pad  ", "123", "ünï",
          "foo,bar", "MiXeD"]


def _text_lit(r: random.Random) -> str:
    return "'" + r.choice(_WORDS).replace("'", "''") + "'"


def _bool_lit(r: random.Random) -> str:
    return r.choice(["true", "false"])


def _date_lit(r: random.Random) -> str:
    y, m, d = r.randint(1990, 2030), r.randint(1, 12), r.randint(1, 28)
    return f"date '{y:04d}-{m:02d}-{d:02d}'"


def _ts_lit(r: random.Random) -> str:
    y, m, d = r.randint(1990, 2030), r.randint(1, 12), r.randint(1, 28)
    hh, mm, ss = r.randint(0, 23), r.randint(0, 59), r.randint(0, 59)
    frac = r.choice(["", ".5", ".123456"])
    return f"timestamp '{y:04d}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}{frac}'"


def _interval_lit(r: random.Random) -> str:
    n = r.randint(0, 100)
    unit = r.choice(["days", "hours", "minutes", "seconds", "months", "years"])
    return f"interval '{n} {unit}'"


_LITERALS: dict[str, Callable[[random.Random], str]] = {
    INT: _int_lit, BIGINT: _bigint_lit, NUMERIC: _numeric_lit, DOUBLE: _double_lit,
    TEXT: _text_lit, BOOL: _bool_lit, DATE: _date_lit, TIMESTAMP: _ts_lit,
    INTERVAL: _interval_lit,
}

Rule = Callable[[ExprGen, int], str]


def _common(t: str) -> list[Rule]:
    """Rules every type has: CASE, COALESCE, NULLIF, GREATEST/LEAST (ordered types)."""
    return [
        lambda g, d: f"(CASE WHEN {g.e(BOOL, d)} THEN {g.e(t, d)} ELSE {g.e(t, d)} END)",
        lambda g, d: f"coalesce({g.e(t, d)}, {g.e(t, d)})",
        lambda g, d: f"nullif({g.e(t, d)}, {g.e(t, d)})",
        lambda g, d: f"{g.pick('greatest', 'least')}({g.e(t, d)}, {g.e(t, d)})",
    ]


def _arith(t: str, ops: str) -> list[Rule]:
    return [lambda g, d, op=op: f"({g.e(t, d)} {op} {g.e(t, d)})" for op in ops.split()]


_RULES: dict[str, list[Rule]] = {
    INT: [*_arith(INT, "+ - * / %"), *_common(INT),
          lambda g, d: f"(- {g.e(INT, d)})",
          lambda g, d: f"abs({g.e(INT, d)})",
          lambda g, d: f"length({g.e(TEXT, d)})",
          lambda g, d: f"char_length({g.e(TEXT, d)})",
          lambda g, d: f"position({g.e(TEXT, d)} in {g.e(TEXT, d)})",
          lambda g, d: f"({g.e(DATE, d)} - {g.e(DATE, d)})",
          lambda g, d: f"CAST({g.e(NUMERIC, d)} AS int)",
          lambda g, d: f"CAST({g.e(DOUBLE, d)} AS int)",
          lambda g, d: f"CAST({g.e(BOOL, d)} AS int)"],
    BIGINT: [*_arith(BIGINT, "+ - * / %"), *_common(BIGINT),
             lambda g, d: f"CAST({g.e(INT, d)} AS bigint)",
             lambda g, d: f"({g.e(INT, d)} + {g.e(BIGINT, d)})",
             lambda g, d: f"({g.e(BIGINT, d)} / {g.e(INT, d)})",
             lambda g, d: f"abs({g.e(BIGINT, d)})"],
    NUMERIC: [*_arith(NUMERIC, "+ - *"), *_common(NUMERIC),
              lambda g, d: f"CAST({g.e(INT, d)} AS numeric)",
              lambda g, d: f"({g.e(NUMERIC, d)} + {g.e(INT, d)})",
              lambda g, d: f"round({g.e(NUMERIC, d)})",
              lambda g, d: f"round({g.e(NUMERIC, d)}, {g.rng.randint(0, 3)})",
              lambda g, d: f"trunc({g.e(NUMERIC, d)})",
              lambda g, d: f"abs({g.e(NUMERIC, d)})",
              lambda g, d: f"floor({g.e(NUMERIC, d)})",
              lambda g, d: f"ceil({g.e(NUMERIC, d)})"],
    DOUBLE: [*_arith(DOUBLE, "+ - * /"), *_common(DOUBLE),
             lambda g, d: f"CAST({g.e(INT, d)} AS double precision)",
             lambda g, d: f"CAST({g.e(NUMERIC, d)} AS double precision)",
             lambda g, d: f"CAST(CAST({g.e(DOUBLE, d)} AS real) AS double precision)",
             lambda g, d: f"abs({g.e(DOUBLE, d)})",
             lambda g, d: f"round({g.e(DOUBLE, d)})",
             lambda g, d: f"floor({g.e(DOUBLE, d)})",
             lambda g, d: f"ceil({g.e(DOUBLE, d)})",
             lambda g, d: f"sqrt(abs({g.e(DOUBLE, d)}))",
             lambda g, d: f"(- {g.e(DOUBLE, d)})"],
    TEXT: [*_common(TEXT),
           lambda g, d: f"({g.e(TEXT, d)} || {g.e(TEXT, d)})",
           lambda g, d: f"upper({g.e(TEXT, d)})",
           lambda g, d: f"lower({g.e(TEXT, d)})",
           lambda g, d: f"substr({g.e(TEXT, d)}, {g.rng.randint(-1, 4)}, {g.rng.randint(0, 4)})",
           lambda g, d: f"substr({g.e(TEXT, d)}, {g.rng.randint(1, 4)})",
           lambda g, d: f"replace({g.e(TEXT, d)}, {g.e(TEXT, d)}, {g.e(TEXT, d)})",
           lambda g, d: f"trim({g.e(TEXT, d)})",
           lambda g, d: f"ltrim({g.e(TEXT, d)})",
           lambda g, d: f"rtrim({g.e(TEXT, d)})",
           lambda g, d: f"left({g.e(TEXT, d)}, {g.rng.randint(-2, 4)})",
           lambda g, d: f"right({g.e(TEXT, d)}, {g.rng.randint(-2, 4)})",
           lambda g, d: f"lpad({g.e(TEXT, d)}, {g.rng.randint(0, 8)}, 'xy')",
           lambda g, d: f"rpad({g.e(TEXT, d)}, {g.rng.randint(0, 8)})",
           lambda g, d: f"repeat({g.e(TEXT, d)}, {g.rng.randint(0, 3)})",
           lambda g, d: f"reverse({g.e(TEXT, d)})",
           lambda g, d: f"concat({g.e(TEXT, d)}, {g.e(INT, d)}, {g.e(TEXT, d)})",
           lambda g, d: f"split_part({g.e(TEXT, d)}, ',', {g.rng.randint(1, 3)})",
           lambda g, d: f"CAST({g.e(INT, d)} AS text)",
           lambda g, d: f"CAST({g.e(BIGINT, d)} AS text)",
           lambda g, d: f"CAST({g.e(BOOL, d)} AS text)",
           lambda g, d: f"CAST({g.e(DATE, d)} AS text)"],
    BOOL: [*_common(BOOL),
           *[lambda g, d, t=t: f"({g.e(t, d)} {g.pick('=', '<>', '<', '<=', '>', '>=')} "
                               f"{g.e(t, d)})" for t in ORDERED],
           lambda g, d: f"({g.e(INT, d)} = {g.e(DOUBLE, d)})",
           lambda g, d: f"({g.e(INT, d)} < {g.e(NUMERIC, d)})",
          lambda g, d: f"({g.e(NUMERIC, d)} {g.pick('=', '<', '>=')} CAST({g.e(NUMERIC, d)} "
                       f"AS real))",
          lambda g, d: f"(CAST({g.e(DOUBLE, d)} AS real) {g.pick('=', '<', '>')} "
                       f"{g.e(DOUBLE, d)})",
           lambda g, d: f"({g.e(BOOL, d)} AND {g.e(BOOL, d)})",
           lambda g, d: f"({g.e(BOOL, d)} OR {g.e(BOOL, d)})",
           lambda g, d: f"(NOT {g.e(BOOL, d)})",
           lambda g, d: f"({g.e(g.rng.choice(TYPES), d)} IS {g.pick('', 'NOT ')}NULL)",
           lambda g, d: f"({g.e(INT, d)} IS {g.pick('', 'NOT ')}DISTINCT FROM {g.e(INT, d)})",
           lambda g, d: f"({g.e(TEXT, d)} {g.pick('LIKE', 'NOT LIKE', 'ILIKE')} "
                        f"{g.pick(repr('a%'), repr('%b_'), repr('%'), repr('_'), repr('H%'))})",
           lambda g, d: f"({g.e(INT, d)} {g.pick('', 'NOT ')}BETWEEN {g.e(INT, d)} AND "
                        f"{g.e(INT, d)})",
           lambda g, d: f"({g.e(INT, d)} {g.pick('', 'NOT ')}IN ({g.e(INT, d)}, "
                        f"{g.e(INT, d)}, {g.e(INT, d)}))",
           lambda g, d: f"({g.e(BOOL, d)} IS {g.pick('', 'NOT ')}{g.pick('TRUE', 'FALSE')})",
           lambda g, d: f"starts_with({g.e(TEXT, d)}, {g.e(TEXT, d)})"],
    DATE: [*_common(DATE),
           lambda g, d: f"({g.e(DATE, d)} + {g.rng.randint(-400, 400)})",
           lambda g, d: f"({g.e(DATE, d)} - {g.rng.randint(0, 400)})",
           lambda g, d: f"CAST({g.e(TIMESTAMP, d)} AS date)",
           lambda g, d: f"make_date({g.rng.randint(1990, 2030)}, {g.rng.randint(1, 12)}, "
                        f"{g.rng.randint(1, 28)})"],
    TIMESTAMP: [*_common(TIMESTAMP),
                lambda g, d: f"({g.e(TIMESTAMP, d)} + {g.e(INTERVAL, d)})",
                lambda g, d: f"({g.e(TIMESTAMP, d)} - {g.e(INTERVAL, d)})",
                lambda g, d: f"({g.e(DATE, d)} + {g.e(INTERVAL, d)})",
                lambda g, d: f"CAST({g.e(DATE, d)} AS timestamp)",
                lambda g, d: f"date_trunc('{g.pick('day', 'hour', 'month', 'year', 'minute')}', "
                             f"{g.e(TIMESTAMP, d)})"],
    INTERVAL: [*_common(INTERVAL),
               lambda g, d: f"({g.e(INTERVAL, d)} + {g.e(INTERVAL, d)})",
               lambda g, d: f"({g.e(INTERVAL, d)} - {g.e(INTERVAL, d)})",
               lambda g, d: f"({g.e(INTERVAL, d)} * {g.rng.randint(-3, 3)})",
               lambda g, d: f"(- {g.e(INTERVAL, d)})",
               lambda g, d: f"({g.e(TIMESTAMP, d)} - {g.e(TIMESTAMP, d)})"],
}
