"""Catalog query rewriting and parameter inference (planner.pg_compat), and the
pg_catalog tables it points at, run on DuckDB."""

from __future__ import annotations

import doctest

import duckdb

from planner import pg_compat
from planner import types as T
from sqlstream.pg_catalog import PgCatalog


def test_doctests() -> None:
    assert doctest.testmod(pg_compat).failed == 0


def test_rewrite_is_idempotent_and_points_at_catalog_schema() -> None:
    sql = ("SELECT c.relname, pg_catalog.format_type(a.atttypid, a.atttypmod) "
           "FROM pg_catalog.pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
           "WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default "
           "AND c.oid = 'public.t'::regclass AND c.relkind = ANY(ARRAY['r', 'm'])")
    ast = pg_compat.parse(sql)
    assert pg_compat.references_catalog(ast)
    once = pg_compat.rewrite(ast)
    assert once.sql("duckdb") == pg_compat.rewrite(once).sql("duckdb")
    text = once.sql("duckdb")
    assert "_pg.pg_class" in text and "_pg.pg_attribute" in text
    assert "pg_catalog" not in text and "COLLATE" not in text
    assert "_pg.regclass_oid('t')" in text and "LIST_CONTAINS" in text


def test_plain_queries_are_not_catalog_queries() -> None:
    assert not pg_compat.references_catalog(pg_compat.parse("SELECT a FROM t WHERE b = 1"))
    assert pg_compat.catalog_query_to_duckdb("SELECT a FROM t") is None


def test_infer_param_types() -> None:
    rel = {"t": [("a", T.INT32), ("b", T.VARCHAR), ("c", T.TIMESTAMP)]}
    got = pg_compat.infer_param_types(
        "SELECT * FROM t AS x WHERE x.a IN ($1, $2) AND c BETWEEN $3 AND $4 LIMIT $5", rel)
    assert {n: t.name for n, t in got.items()} == {1: "integer", 2: "integer",
                                                   3: "timestamp", 4: "timestamp",
                                                   5: "bigint"}
    ins = pg_compat.infer_param_types("INSERT INTO t (c, a) VALUES ($1, $2)", rel)
    assert [ins[1], ins[2]] == [T.TIMESTAMP, T.INT32]
    upd = pg_compat.infer_param_types("UPDATE t SET b = $2 WHERE a = $1", rel)
    assert [upd[1], upd[2]] == [T.INT32, T.VARCHAR]
    assert pg_compat.infer_param_types("SELECT $1::date", rel)[1] == T.DATE


def test_limit_zero() -> None:
    assert pg_compat.limit_zero("SELECT a FROM t LIMIT 5") == "SELECT a FROM t LIMIT 0"
    assert pg_compat.limit_zero("INSERT INTO t VALUES (1)") is None
    assert pg_compat.limit_zero("SHOW timezone") == "SHOW timezone"


class _DuckOnly:
    """A database with only a serving store, as the catalog reads it without an engine."""

    def __init__(self) -> None:
        self.duck = duckdb.connect()


def test_catalog_tables_answer_client_queries() -> None:
    db = _DuckOnly()
    db.duck.execute("CREATE TABLE items (id INTEGER, price DECIMAL(10,2), ts TIMESTAMP)")
    cat = PgCatalog(db)
    r = cat.answer("SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) "
                   "FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'items'::regclass "
                   "AND a.attnum > 0 ORDER BY a.attnum", None)
    assert r is not None and [c.name for c in r.columns] == ["attname", "format_type"]
    assert r.rows == [("id", "integer"), ("price", "numeric"),
                      ("ts", "timestamp without time zone")]
    db.duck.execute("CREATE TABLE more (x INTEGER)")  # catalog follows the store's changes
    names = cat.answer("SELECT relname FROM pg_class WHERE relkind = 'r' ORDER BY 1", None)
    assert names is not None and names.rows == [("items",), ("more",)]
    info = cat.answer("SELECT table_name, column_name FROM information_schema.columns "
                      "WHERE table_name = 'more'", None)
    assert info is not None and info.rows == [("more", "x")]
