"""SQLAlchemy's PostgreSQL dialect reflects tables (with their primary keys), views and
indexes from a real `sqlstream serve` process, through psycopg and through asyncpg."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import psycopg
import pytest
from sqlalchemy import Integer, MetaData, String, Table, create_engine, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from tests.netutil import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sqlstream", "serve", "--memory",
                             "--port", str(port)], cwd=tmp_path_factory.mktemp("serve"),
                            env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dsn = f"host=127.0.0.1 port={port} user=root dbname=dev connect_timeout=2"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = psycopg.connect(dsn, autocommit=True)
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        with conn:
            conn.execute("CREATE TABLE orders (id INT PRIMARY KEY, label VARCHAR, qty INT)")
            conn.execute("CREATE TABLE pairs (a INT, b VARCHAR, n INT, PRIMARY KEY (b, a))")
            conn.execute("CREATE TABLE notes (body VARCHAR)")
            conn.execute("CREATE MATERIALIZED VIEW per_label AS "
                         "SELECT label, sum(qty) AS total FROM orders GROUP BY label")
        yield port
    finally:
        proc.terminate()
        proc.wait(30)


def check(insp: Any) -> dict[str, Any]:
    """What the inspector reports about the schema, in plain values."""
    return {
        "tables": sorted(insp.get_table_names()),
        "views": sorted(insp.get_view_names()),
        "matviews": sorted(insp.get_materialized_view_names()),
        "pk_orders": insp.get_pk_constraint("orders"),
        "pk_pairs": insp.get_pk_constraint("pairs")["constrained_columns"],
        "pk_notes": insp.get_pk_constraint("notes")["constrained_columns"],
        "indexes": insp.get_indexes("orders"),
        "unique": insp.get_unique_constraints("orders"),
        "fks": insp.get_foreign_keys("orders"),
        "view_columns": [c["name"] for c in insp.get_columns("per_label")],
        "sys_views": sorted(insp.get_view_names(schema="sys"))[:2],
    }


EXPECTED = {
    "tables": ["notes", "orders", "pairs"],
    "views": [],
    "matviews": ["per_label"],
    "pk_orders": {"constrained_columns": ["id"], "name": "orders_pkey", "comment": None,
                  "dialect_options": {"postgresql_include": []}},
    "pk_pairs": ["b", "a"],
    "pk_notes": [],
    "indexes": [],  # the primary key's index is reported as the constraint
    "unique": [],
    "fks": [],
    "view_columns": ["label", "total"],
    "sys_views": ["actors", "backpressure"],
}


def test_reflection_with_psycopg(port: int) -> None:
    engine = create_engine(f"postgresql+psycopg://root@127.0.0.1:{port}/dev")
    try:
        assert check(inspect(engine)) == EXPECTED
        orders = Table("orders", MetaData(), autoload_with=engine)
        assert [c.name for c in orders.primary_key.columns] == ["id"]
        assert isinstance(orders.c.id.type, Integer) and isinstance(orders.c.label.type, String)
        assert orders.c.id.nullable is False and orders.c.label.nullable is True
        meta = MetaData()
        meta.reflect(engine, views=True)
        assert sorted(meta.tables) == ["notes", "orders", "pairs", "per_label"]
        assert [c.name for c in meta.tables["pairs"].primary_key.columns] == ["b", "a"]
    finally:
        engine.dispose()


def test_reflection_with_asyncpg(port: int) -> None:
    async def run() -> tuple[dict[str, Any], list[str]]:
        engine = create_async_engine(f"postgresql+asyncpg://root@127.0.0.1:{port}/dev")
        try:
            async with engine.connect() as conn:
                got = await conn.run_sync(lambda c: check(inspect(c)))
                table = await conn.run_sync(
                    lambda c: Table("orders", MetaData(), autoload_with=c))
                return got, [c.name for c in table.primary_key.columns]
        finally:
            await engine.dispose()

    got, pk = asyncio.run(asyncio.wait_for(run(), 60))
    assert got == EXPECTED
    assert pk == ["id"]
