"""The tables the table-based differential tests use, random rows for them, and
generated queries over them: filters and projections, aggregates, joins and set
operations, all spelled the same for sqlstream and PostgreSQL."""

from __future__ import annotations

import random

from tests.postgres.generate import (
    _LITERALS,
    BIGINT,
    BOOL,
    DATE,
    DOUBLE,
    INT,
    NUMERIC,
    TEXT,
    TIMESTAMP,
    ExprGen,
)

TABLES = {
    "t1": "CREATE TABLE t1 (k int PRIMARY KEY, g int, v int, b bigint, n numeric(10,2), "
          "f double precision, s varchar, flag boolean, d date, ts timestamp)",
    "t2": "CREATE TABLE t2 (id int PRIMARY KEY, g int, w int, s varchar, n numeric(10,2))",
}
T1_COLUMNS = {INT: ["k", "g", "v"], BIGINT: ["b"], NUMERIC: ["n"], DOUBLE: ["f"],
              TEXT: ["s"], BOOL: ["flag"], DATE: ["d"], TIMESTAMP: ["ts"]}
T2_COLUMNS = {INT: ["id", "g", "w"], TEXT: ["s"], NUMERIC: ["n"]}
_T1_TYPES = [INT, INT, INT, BIGINT, NUMERIC, DOUBLE, TEXT, BOOL, DATE, TIMESTAMP]
_T2_TYPES = [INT, INT, INT, TEXT, NUMERIC]


def _value(rng: random.Random, t: str, null_rate: float = 0.15) -> str:
    if rng.random() < null_rate:
        return "NULL"
    if t == INT:
        return str(rng.randint(-20, 20))
    if t == NUMERIC:
        return f"{rng.randint(-9999, 9999) / 100:.2f}"
    if t == TEXT:
        return "'" + rng.choice(["a", "b", "abc", "", "Hello", "x_y", "b"]) + "'"
    return _LITERALS[t](rng)


def row(rng: random.Random, table: str, key: int) -> str:
    types = _T1_TYPES if table == "t1" else _T2_TYPES
    values = [str(key)] + [_value(rng, t) for t in types[1:]]
    if table == "t1":
        values[1] = str(rng.randint(0, 4)) if rng.random() > 0.1 else "NULL"
    else:
        values[1] = str(rng.randint(0, 5)) if rng.random() > 0.1 else "NULL"
    return "(" + ", ".join(values) + ")"


def dml(rng: random.Random, keys: dict[str, set[int]]) -> str:
    """One random INSERT, UPDATE or DELETE that is valid on both sides."""
    table = rng.choice(["t1", "t2"])
    live = keys[table]
    kind = rng.choice(["insert", "insert", "update", "delete"]) if live else "insert"
    if kind == "insert":
        new = [k for k in range(1, 200) if k not in live]
        chosen = rng.sample(new, k=min(len(new), rng.randint(1, 4)))
        live.update(chosen)
        return f"INSERT INTO {table} VALUES " + ", ".join(row(rng, table, k) for k in chosen)
    key = rng.choice(sorted(live))
    if kind == "delete":
        live.discard(key)
        return f"DELETE FROM {table} WHERE {'k' if table == 't1' else 'id'} = {key}"
    col, t = (("v", INT), ("s", TEXT), ("n", NUMERIC), ("g", INT))[rng.randint(0, 3)] \
        if table == "t1" else (("w", INT), ("s", TEXT), ("g", INT))[rng.randint(0, 2)]
    pk = "k" if table == "t1" else "id"
    return f"UPDATE {table} SET {col} = {_value(rng, t)} WHERE {pk} = {key}"


_AGGS_T1 = ["count(*)", "count(v)", "count(DISTINCT s)", "sum(v)", "sum(b)", "sum(n)", "sum(f)",
            "min(v)", "max(v)", "min(s)", "max(s)", "min(n)", "max(d)", "min(ts)", "max(f)",
            "bool_and(flag)", "bool_or(flag)", "avg(v)", "avg(f)", "avg(n)", "string_agg(s, ',' ORDER BY s, k)",
            "count(*) FILTER (WHERE v > 0)", "sum(v * 2 + 1)", "max(upper(s))"]


def select_query(rng: random.Random) -> str:
    gen = ExprGen(rng, T1_COLUMNS, null_rate=0.05)
    exprs = [gen.expr(rng.choice([INT, BIGINT, NUMERIC, DOUBLE, TEXT, BOOL, DATE, TIMESTAMP]), 2)
             for _ in range(rng.randint(1, 4))]
    where = f" WHERE {gen.expr(BOOL, 2)}" if rng.random() < 0.6 else ""
    return f"SELECT k, {', '.join(exprs)} FROM t1{where}"


def aggregate_query(rng: random.Random) -> str:
    aggs = rng.sample(_AGGS_T1, k=rng.randint(1, 4))
    if rng.random() < 0.3:
        return f"SELECT {', '.join(aggs)} FROM t1"
    having = " HAVING count(*) > 1" if rng.random() < 0.3 else ""
    return f"SELECT g, {', '.join(aggs)} FROM t1 GROUP BY g{having}"


def join_query(rng: random.Random) -> str:
    kind = rng.choice(["JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"])
    extra = rng.choice(["", " AND t1.v < t2.w", " AND t1.s = t2.s", " AND t1.n <> t2.n"])
    cols = "t1.k, t1.v, t1.s, t2.id, t2.w, t2.n"
    if rng.random() < 0.3:
        return (f"SELECT t1.g, count(*), sum(t2.w), max(t1.s) FROM t1 {kind} t2 "
                f"ON t1.g = t2.g{extra} GROUP BY t1.g")
    return f"SELECT {cols} FROM t1 {kind} t2 ON t1.g = t2.g{extra}"


def set_query(rng: random.Random) -> str:
    op = rng.choice(["UNION", "UNION ALL", "INTERSECT", "INTERSECT ALL", "EXCEPT",
                     "EXCEPT ALL"])
    left, right = rng.choice([("g, s", "g, s"), ("v", "w"), ("n", "n"), ("g, v", "g, w")])
    return f"SELECT {left} FROM t1 {op} SELECT {right} FROM t2"


def subquery_query(rng: random.Random) -> str:
    return rng.choice([
        "SELECT k, v FROM t1 WHERE g IN (SELECT g FROM t2 WHERE w > 0)",
        "SELECT k FROM t1 WHERE NOT EXISTS (SELECT 1 FROM t2 WHERE t2.g = t1.g AND t2.w > t1.v)",
        "SELECT k, (SELECT max(w) FROM t2 WHERE t2.g = t1.g) FROM t1",
        "SELECT g, count(*) FROM (SELECT g, s FROM t1 UNION ALL SELECT g, s FROM t2) u GROUP BY g",
        ("WITH c AS (SELECT g, sum(v) AS sv FROM t1 GROUP BY g) SELECT c.g, c.sv, t2.w "
         "FROM c JOIN t2 ON c.g = t2.g"),
    ])


QUERY_KINDS = (select_query, aggregate_query, join_query, set_query, subquery_query)
