"""Arrays over the wire: result columns of DuckDB lists are PostgreSQL arrays (int4[] is
OID 1007, ...), in PostgreSQL's text form (`{1,2,NULL}`, `{"a b","x\\"y"}`,
`{{1,2},{3,4}}`) or binary form. Expected values are written from PostgreSQL's rules."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import shutil
import struct
import subprocess

import asyncpg
import psycopg
import pytest

import sqlstream
from planner import types as T
from sqlstream.pgwire import codec
from tests.pgwire.conftest import RunningServer

# ---------------------------------------------------------------- codec


def _text(t: T.DataType, v: object) -> str:
    return codec.encoder(t, 0)(v).decode()


def test_text_form_quotes_what_postgresql_quotes() -> None:
    varchars = T.array_of(T.VARCHAR)
    assert varchars is not None and varchars.pg_oid == 1015
    assert _text(varchars, ["a b", 'x"y', None]) == '{"a b","x\\"y",NULL}'
    assert _text(varchars, ["", "NULL", "null", "Null"]) == '{"","NULL","null","Null"}'
    assert _text(varchars, ["a\\b", "{x}", "p,q", "tab\there", "plain"]) == \
        '{"a\\\\b","{x}","p,q","tab\there",plain}'
    assert _text(T.array_of(T.INT32), [1, 2, None]) == "{1,2,NULL}"
    assert _text(T.array_of(T.INT32, 2), [[1, 2], [3, 4]]) == "{{1,2},{3,4}}"
    assert _text(T.array_of(T.INT32), []) == "{}"
    assert _text(T.array_of(T.BOOLEAN), [True, False]) == "{t,f}"
    assert _text(T.array_of(T.FLOAT64), [1.0, 2.5]) == "{1,2.5}"
    assert _text(T.array_of(T.TIMESTAMP), [dt.datetime(2024, 1, 2, 3, 4, 5)]) == \
        '{"2024-01-02 03:04:05"}'
    assert _text(T.array_of(T.BYTEA), [b"\x01\xff"]) == '{"\\\\x01ff"}'


def test_array_oids_of_the_element_types() -> None:
    expected = {T.BOOLEAN: 1000, T.INT16: 1005, T.INT32: 1007, T.INT64: 1016,
                T.FLOAT32: 1021, T.FLOAT64: 1022, T.DECIMAL: 1231, T.VARCHAR: 1015,
                T.DATE: 1182, T.TIMESTAMP: 1115, T.TIMESTAMPTZ: 1185, T.INTERVAL: 1187,
                T.BYTEA: 1001, T.TIME: 1183}
    for elem, oid in expected.items():
        t = T.array_of(elem)
        assert t is not None and codec.wire_oid(t) == oid, elem


def test_binary_form() -> None:
    enc = codec.encoder(T.array_of(T.INT32, 2), 1)
    # ndim 2, has nulls, element int4; dimensions 2x2 from 1; then the four elements
    assert enc([[1, None], [3, 4]]) == struct.pack(
        "!iiiiiii" "ii" "i" "ii" "ii", 2, 1, 23, 2, 1, 2, 1, 4, 1, -1, 4, 3, 4, 4)
    assert codec.encoder(T.array_of(T.VARCHAR), 1)(["ab"]) == struct.pack(
        "!iiiii", 1, 0, 1043, 1, 1) + struct.pack("!i", 2) + b"ab"
    assert codec.encoder(T.array_of(T.INT64), 1)([]) == struct.pack("!iii", 0, 0, 20)
    with pytest.raises(sqlstream.DataError):
        enc([[1, 2], [3]])


def test_array_parameters_are_decoded() -> None:
    assert codec.decode_param(1009, 0, b'{"a b","x\\"y",NULL,"NULL",plain}') == \
        ["a b", 'x"y', None, "NULL", "plain"]
    assert codec.decode_param(1007, 0, b"{{1,2},{3,NULL}}") == [[1, 2], [3, None]]
    assert codec.decode_param(1007, 0, b" { 1 , 2 } ") == [1, 2]
    assert codec.decode_param(1231, 0, b"{1.5}") == [decimal.Decimal("1.5")]
    assert codec.decode_param(1007, 0, b"{}") == []
    raw = struct.pack("!iiiiiii", 2, 1, 23, 2, 1, 1, 1) + struct.pack("!ii", 4, 7) \
        + struct.pack("!i", -1)
    assert codec.decode_param(1007, 1, raw) == [[7], [None]]
    with pytest.raises(sqlstream.DataError):
        codec.decode_param(1007, 0, b"{1,2")


def test_array_parameter_reads_back_in_duckdb_list_syntax() -> None:
    """The engine binds a list parameter as its str(); that string casts back."""
    value = codec.decode_param(1009, 0, b'{"a b","x\\"y",NULL,"back\\\\slash"}')
    assert str(value) == '["a b", "x\\"y", NULL, "back\\\\slash"]'
    con = sqlstream.connect()
    cur = con.cursor()
    cur.execute("SELECT %s::text[] AS a", (value,))
    assert cur.fetchone()[0] == ["a b", 'x"y', None, "back\\slash"]


def test_embedded_connection_returns_lists() -> None:
    con = sqlstream.connect()
    cur = con.cursor()
    cur.execute("SELECT ARRAY[1, 2, NULL] AS a, ARRAY['x'] AS b")
    assert cur.fetchone() == ([1, 2, None], ["x"])
    assert [d[1] for d in cur.description] == ["integer[]", "varchar[]"]
    cur.execute("CREATE TABLE arr_n (x NUMERIC)")
    cur.execute("INSERT INTO arr_n VALUES (1.5), (2)")
    cur.execute("FLUSH")
    cur.execute("SELECT array_agg(x ORDER BY x) AS a FROM arr_n")  # as PostgreSQL: {1.5,2}
    assert [str(v) for v in cur.fetchone()[0]] == ["1.5", "2"]


# ---------------------------------------------------------------- clients

QUERIES = {
    "ints": ("SELECT ARRAY[1, 2, NULL] AS a", 1007, "{1,2,NULL}", [1, 2, None]),
    "strings": ("SELECT ARRAY['a b', 'x\"y', NULL, '', 'null', 'back\\slash'] AS a", 1015,
                '{"a b","x\\"y",NULL,"","null","back\\\\slash"}',
                ["a b", 'x"y', None, "", "null", "back\\slash"]),
    "matrix": ("SELECT ARRAY[[1, 2], [3, 4]] AS a", 1007, "{{1,2},{3,4}}", [[1, 2], [3, 4]]),
    "bigints": ("SELECT ARRAY[CAST(1 AS BIGINT), 5000000000] AS a", 1016, "{1,5000000000}",
                [1, 5000000000]),
    "bools": ("SELECT ARRAY[true, false, NULL] AS a", 1000, "{t,f,NULL}", [True, False, None]),
    "doubles": ("SELECT ARRAY[CAST(2.5 AS DOUBLE PRECISION)] AS a", 1022, "{2.5}", [2.5]),
    "dates": ("SELECT ARRAY[DATE '2024-01-02'] AS a", 1182, "{2024-01-02}",
              [dt.date(2024, 1, 2)]),
    "timestamps": ("SELECT ARRAY[TIMESTAMP '2024-01-02 03:04:05'] AS a", 1115,
                   '{"2024-01-02 03:04:05"}', [dt.datetime(2024, 1, 2, 3, 4, 5)]),
    "empty": ("SELECT CAST(ARRAY[] AS INT[]) AS a", 1007, "{}", []),
}


@pytest.fixture(scope="module")
def arrays(server: RunningServer) -> RunningServer:
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        c.execute("CREATE TABLE arr_t (id INT, name VARCHAR)")
        c.execute("INSERT INTO arr_t VALUES (1, 'a b'), (2, 'c'), (3, NULL)")
        c.execute("CREATE MATERIALIZED VIEW arr_mv AS SELECT id, name FROM arr_t")
        c.execute("FLUSH")
    return server


@pytest.mark.parametrize("name", list(QUERIES))
def test_psycopg_reads_arrays(arrays: RunningServer, name: str) -> None:
    sql, oid, text, value = QUERIES[name]
    with psycopg.connect(arrays.dsn(), autocommit=True) as c:
        cur = c.execute(sql)
        assert cur.description[0].type_code == oid
        assert cur.fetchone()[0] == value
        raw = c.cursor(row_factory=psycopg.rows.tuple_row)
        raw.adapters.register_loader(oid, psycopg.types.string.TextLoader)
        assert raw.execute(sql).fetchone()[0] == text


def test_psycopg_view_column_and_array_agg(arrays: RunningServer) -> None:
    with psycopg.connect(arrays.dsn(), autocommit=True) as c:
        assert c.execute("SELECT ARRAY[id, id * 10] AS a FROM arr_mv ORDER BY id"
                         ).fetchall() == [([1, 10],), ([2, 20],), ([3, 30],)]
        cur = c.execute("SELECT array_agg(name ORDER BY id) AS a FROM arr_mv")
        assert cur.description[0].type_code == 1015
        assert cur.fetchone()[0] == ["a b", "c", None]
        assert c.execute("SELECT array_agg(id ORDER BY id) AS a FROM arr_t"
                         ).fetchone()[0] == [1, 2, 3]


def test_psycopg_ragged_nested_lists_are_text(arrays: RunningServer) -> None:
    with psycopg.connect(arrays.dsn(), autocommit=True) as c:
        cur = c.execute("SELECT [[1, 2], [3]] AS a")
        assert cur.description[0].type_code == 1043
        assert isinstance(cur.fetchone()[0], str)


def test_psycopg_array_parameter(arrays: RunningServer) -> None:
    with psycopg.connect(arrays.dsn(), autocommit=True) as c:
        assert c.execute("SELECT %s::int[] AS a", ([1, 2, None],)).fetchone()[0] == [1, 2, None]
        assert c.execute("SELECT %s::text[] AS a", (["a b", 'x"y', None],)).fetchone()[0] == \
            ["a b", 'x"y', None]
        assert c.execute("SELECT 'b' = ANY(%s::text[]) AS a", (["a", "b"],)).fetchone() == (True,)
        assert c.execute("SELECT %s::int[][] AS a", ([[1, 2], [3, None]],)).fetchone()[0] == \
            [[1, 2], [3, None]]


def test_pg_type_rows_of_arrays(arrays: RunningServer) -> None:
    with psycopg.connect(arrays.dsn(), autocommit=True) as c:
        rows = c.execute("SELECT oid, typname, typelem, typcategory FROM pg_catalog.pg_type "
                         "WHERE oid IN (1007, 1015, 1231, 1185, 1001) ORDER BY oid").fetchall()
        assert rows == [(1001, "_bytea", 17, "A"), (1007, "_int4", 23, "A"),
                        (1015, "_varchar", 1043, "A"), (1185, "_timestamptz", 1184, "A"),
                        (1231, "_numeric", 1700, "A")]
        assert c.execute("SELECT typarray FROM pg_catalog.pg_type WHERE oid = 23"
                         ).fetchone()[0] == 1007


def _run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_asyncpg_reads_arrays_in_binary(arrays: RunningServer) -> None:
    async def body() -> None:
        con = await asyncpg.connect(host="127.0.0.1", port=arrays.port, user="root",
                                    database="dev", password=arrays.password, timeout=5)
        try:
            for name, (sql, oid, _text, value) in QUERIES.items():
                stmt = await con.prepare(sql)
                assert stmt.get_attributes()[0].type.oid == oid, name
                assert await stmt.fetchval() == value, name
            assert await con.fetchval("SELECT array_agg(name ORDER BY id) FROM arr_mv") == \
                ["a b", "c", None]
            assert await con.fetchval("SELECT ARRAY[INTERVAL '1 day']") == [dt.timedelta(days=1)]
            assert await con.fetchval("SELECT $1::int[]", [4, None]) == [4, None]
            with pytest.raises(asyncpg.ArraySubscriptError):
                await con.fetchval("SELECT [[1, 2], [3]]")
        finally:
            await con.close()

    _run(body())


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql not installed")
def test_psql_prints_postgresql_array_text(arrays: RunningServer) -> None:
    cmd = ["psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(arrays.port), "-U", "root",
           "-d", "dev", "-c", QUERIES["strings"][0], "-c", QUERIES["matrix"][0]]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=arrays.env())
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ['{"a b","x\\"y",NULL,"","null","back\\\\slash"}',
                                     "{{1,2},{3,4}}"]
