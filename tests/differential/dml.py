"""Hypothesis strategies producing DML statements (SQL text) on the differential
test's tables: small value domains so that NULLs, duplicates, join matches and
key reuse (delete, then insert the same key again) happen often."""

from __future__ import annotations

from hypothesis import strategies as st

KEYS = st.integers(0, 7)
GROUPS = st.one_of(st.none(), st.integers(0, 3))
VALUES = st.one_of(st.none(), st.integers(-3, 9))
STRINGS = st.sampled_from([None, "a", "b", "ab", "B", "x"])
FLOATS = st.sampled_from([None, 0.5, 1.25, -2.0, 3.0, 1e-3])


def lit(v: object) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return repr(v)


def _tuple(values: tuple) -> str:
    return "(" + ", ".join(lit(v) for v in values) + ")"


T1_ROWS = st.tuples(KEYS, GROUPS, VALUES, STRINGS, FLOATS)
T2_ROWS = st.tuples(GROUPS, VALUES, STRINGS)


@st.composite
def insert_t1(draw: st.DrawFn) -> str:
    conflict = draw(st.sampled_from(["", "nothing", "update"]))
    rows = draw(st.lists(T1_ROWS, min_size=1, max_size=5))
    if conflict == "update":  # one row per key: a second would be an error in PostgreSQL
        rows = list({r[0]: r for r in rows}.values())
    sql = "INSERT INTO t1 VALUES " + ", ".join(_tuple(r) for r in rows)
    if conflict == "nothing":
        sql += " ON CONFLICT (k) DO NOTHING"
    elif conflict == "update":
        sql += " ON CONFLICT (k) DO UPDATE SET v = excluded.v, s = excluded.s"
    return sql


@st.composite
def insert_t2(draw: st.DrawFn) -> str:
    rows = draw(st.lists(T2_ROWS, min_size=1, max_size=6))
    return "INSERT INTO t2 VALUES " + ", ".join(_tuple(r) for r in rows)


@st.composite
def where_t1(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 6))
    if kind == 0:
        return f"k = {draw(KEYS)}"
    if kind == 1:
        g = draw(GROUPS)
        return "g IS NULL" if g is None else f"g = {g}"
    if kind == 2:
        return f"v > {draw(st.integers(-3, 9))}"
    if kind == 3:
        return "v IS NULL"
    if kind == 4:
        return f"s = {lit(draw(STRINGS.filter(lambda s: s is not None)))}"
    if kind == 5:
        return f"k BETWEEN {draw(KEYS)} AND {draw(KEYS)}"
    return "TRUE"


@st.composite
def where_t2(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        g = draw(GROUPS)
        return "g IS NULL" if g is None else f"g = {g}"
    if kind == 1:
        return f"w < {draw(st.integers(-3, 9))}"
    if kind == 2:
        return "w IS NULL"
    if kind == 3:
        return f"s = {lit(draw(STRINGS.filter(lambda s: s is not None)))}"
    return "TRUE"


@st.composite
def update_t1(draw: st.DrawFn) -> str:
    sets = draw(st.sampled_from([
        "v = v + 1", "v = NULL", f"v = {draw(VALUES.filter(lambda v: v is not None))}",
        f"g = {lit(draw(GROUPS))}", f"s = {lit(draw(STRINGS))}", "f = f * 2",
        f"g = {lit(draw(GROUPS))}, v = {lit(draw(VALUES))}"]))
    return f"UPDATE t1 SET {sets} WHERE {draw(where_t1())}"


@st.composite
def move_key_t1(draw: st.DrawFn) -> str:
    """A primary key change: a delete and an insert downstream; an error when taken."""
    return f"UPDATE t1 SET k = {draw(KEYS)}, v = v - 1 WHERE k = {draw(KEYS)}"


@st.composite
def update_t2(draw: st.DrawFn) -> str:
    sets = draw(st.sampled_from([
        "w = w - 2", f"w = {lit(draw(VALUES))}", f"g = {lit(draw(GROUPS))}",
        f"s = {lit(draw(STRINGS))}"]))
    return f"UPDATE t2 SET {sets} WHERE {draw(where_t2())}"


@st.composite
def delete_t1(draw: st.DrawFn) -> str:
    return f"DELETE FROM t1 WHERE {draw(where_t1())}"


@st.composite
def delete_t2(draw: st.DrawFn) -> str:
    return f"DELETE FROM t2 WHERE {draw(where_t2())}"


DATES = st.one_of(st.none(), st.sampled_from(
    ["2023-12-31", "2024-01-01", "2024-01-31", "2024-02-29", "2024-12-31"]))
TIMESTAMPS = st.one_of(st.none(), st.sampled_from(
    ["2024-01-31 23:30:00", "2024-02-01 00:00:00", "2024-01-15 10:00:00",
     "2023-12-31 23:59:59.5"]))
AMOUNTS = st.one_of(st.none(), st.sampled_from(["12.35", "-3.15", "0.01", "7.25", "100.00"]))
TAGS = st.sampled_from([None, " a-b ", "A-bc", "xyz", "a--c"])


@st.composite
def insert_t3(draw: st.DrawFn) -> str:
    rows = draw(st.lists(st.tuples(st.integers(0, 7), DATES, TIMESTAMPS, AMOUNTS, TAGS),
                         min_size=1, max_size=4))
    rows = list({r[0]: r for r in rows}.values())
    values = ", ".join(
        f"({i}, {lit(d) if d is None else 'DATE ' + lit(d)}, "
        f"{lit(t) if t is None else 'TIMESTAMP ' + lit(t)}, {a or 'NULL'}, {lit(g)})"
        for i, d, t, a, g in rows)
    return f"INSERT INTO t3 VALUES {values} ON CONFLICT (id) DO NOTHING"


@st.composite
def change_t3(draw: st.DrawFn) -> str:
    where = draw(st.sampled_from(["id = {}", "id > {}", "amt IS NULL", "TRUE"])).format(
        draw(st.integers(0, 7)))
    if draw(st.booleans()):
        return f"DELETE FROM t3 WHERE {where}"
    sets = draw(st.sampled_from(["amt = amt + 1.5", "amt = NULL", "ts = ts + interval '1 hour'",
                                 "d = d - 1", "tag = upper(tag)"]))
    return f"UPDATE t3 SET {sets} WHERE {where}"


STATEMENT = st.one_of(insert_t1(), insert_t1(), insert_t2(), insert_t2(), update_t1(),
                      update_t2(), delete_t1(), delete_t2(), move_key_t1(), insert_t3(),
                      change_t3(), st.just("FLUSH"))

# A run: statements with several FLUSHes among them, and one at the end.
PROGRAM = st.lists(STATEMENT, min_size=4, max_size=30).map(lambda s: s + ["FLUSH"])
