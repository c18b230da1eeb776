"""Generated queries over tables (filters, projections, aggregates, joins, set
operations, subqueries) answered by sqlstream's batch SELECT and by PostgreSQL over the
same rows: the results must be equal as multisets of rows (see compare.py)."""

from __future__ import annotations

import random

import psycopg
import pytest

import sqlstream
from tests.postgres.compare import difference, run_pg, run_sqlstream, same_rows
from tests.postgres.differences import accepted
from tests.postgres.tables import QUERY_KINDS, TABLES, row


def load(conn: sqlstream.Connection, pg: psycopg.Connection, rng: random.Random,
         rows: int) -> None:
    for name, ddl in TABLES.items():
        conn.execute(ddl)
        pg.execute(ddl)
        values = ", ".join(row(rng, name, k) for k in range(1, rows + 1))
        conn.execute(f"INSERT INTO {name} VALUES {values}")
        pg.execute(f"INSERT INTO {name} VALUES {values}")
    conn.execute("FLUSH")


def run_queries(pg: psycopg.Connection, seed: int, count: int) -> None:
    rng = random.Random(seed)
    mismatches = []
    with sqlstream.connect() as conn:
        load(conn, pg, rng, rows=25)
        for _ in range(count):
            sql = rng.choice(QUERY_KINDS)(rng)
            got, want = run_sqlstream(conn, sql), run_pg(pg, sql)
            if got.rows is None or want.rows is None:
                if (got.rows is None) != (want.rows is None) and accepted(sql, got, want) is None:
                    mismatches.append(f"{sql}\n    sqlstream: {got}\n    PostgreSQL: {want}")
            elif not same_rows(got.rows, want.rows):
                mismatches.append(f"{sql}\n    {difference(got.rows, want.rows)}")
    assert not mismatches, (f"seed {seed}: {len(mismatches)} of {count} queries differ:\n"
                            + "\n".join(mismatches[:10]))


@pytest.mark.parametrize("seed", range(4))
def test_queries_equal_postgres(pg: psycopg.Connection, seed: int) -> None:
    run_queries(pg, seed, count=120)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 115))
def test_queries_equal_postgres_many(pg: psycopg.Connection, seed: int) -> None:
    run_queries(pg, seed, count=600)
