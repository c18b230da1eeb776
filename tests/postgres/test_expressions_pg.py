"""Generated scalar expressions over every supported type, evaluated by sqlstream's
batch SELECT and by a real PostgreSQL: the values must be equal (see compare.py)."""

from __future__ import annotations

import random

import psycopg
import pytest

import sqlstream
from tests.postgres.compare import Outcome, run_pg, run_sqlstream, same_value
from tests.postgres.differences import accepted
from tests.postgres.generate import TYPES, ExprGen

PER_SELECT = 40


def _check_batch(conn: sqlstream.Connection, pg: psycopg.Connection,
                 exprs: list[str]) -> list[str]:
    """Mismatches of one batch of expressions: one SELECT for all of them, then one
    per expression when either side fails, so an error is pinned on its expression."""
    sql = "SELECT " + ", ".join(exprs)
    got, want = run_sqlstream(conn, sql), run_pg(pg, sql)
    if got.rows is not None and want.rows is not None:
        return [f"SELECT {e}\n    sqlstream: {g!r}\n    PostgreSQL: {w!r}"
                for e, g, w in zip(exprs, got.rows[0], want.rows[0]) if not same_value(g, w)]
    out = []
    for e in exprs:
        got, want = run_sqlstream(conn, f"SELECT {e}"), run_pg(pg, f"SELECT {e}")
        if not _agree(got, want) and accepted(e, got, want) is None:
            out.append(f"SELECT {e}\n    sqlstream: {got}\n    PostgreSQL: {want}")
    return out


def _agree(got: Outcome, want: Outcome) -> bool:
    if got.rows is None or want.rows is None:
        return got.rows is None and want.rows is None
    return all(same_value(g, w) for g, w in zip(got.rows[0], want.rows[0]))


def run_expressions(pg: psycopg.Connection, seed: int, count: int, depth: int) -> None:
    rng = random.Random(seed)
    gen = ExprGen(rng)
    mismatches: list[str] = []
    with sqlstream.connect() as conn:
        for start in range(0, count, PER_SELECT):
            exprs = [gen.expr(rng.choice(TYPES), depth) for _ in range(PER_SELECT)]
            mismatches += _check_batch(conn, pg, exprs)
    assert not mismatches, (f"seed {seed}: {len(mismatches)} of {count} expressions differ:\n"
                            + "\n".join(mismatches[:15]))


@pytest.mark.parametrize("seed", range(5))
def test_expressions_equal_postgres(pg: psycopg.Connection, seed: int) -> None:
    run_expressions(pg, seed, count=600, depth=3)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 120))
def test_expressions_equal_postgres_many(pg: psycopg.Connection, seed: int) -> None:
    run_expressions(pg, seed, count=2000, depth=4)
