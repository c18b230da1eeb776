"""Broader differential test: random INSERT/UPDATE/DELETE sequences (NULLs,
duplicates, key reuse, primary key changes) on three tables under views of
shapes the first differential test does not cover; after every FLUSH each view
must equal DuckDB's answer to the same query over a DuckDB mirror. The views
come in three groups (joins, aggregates, expressions/unions/top-N), each run
at parallelism 1 and 4."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

import sqlstream
from tests.differential.more_schema import PROGRAM, TABLES, VIEW_GROUPS
from tests.differential.oracle import Mirror, describe_difference, same_multiset


def run_program(views: dict[str, tuple[str, str | None]], statements: list[str],
                parallelism: int, **engine_settings: int) -> None:
    """Apply the statements to a fresh engine and to the mirror, comparing every
    table and view with the oracle after each FLUSH."""
    conn = sqlstream.connect(barrier_interval_ms=50, **engine_settings)
    mirror = Mirror([ddl for _name, ddl in TABLES], views)
    try:
        conn.execute(f"SET streaming_parallelism = {parallelism}")
        for _name, ddl in TABLES:
            conn.execute(ddl)
        for name, (sql, _duck) in views.items():
            conn.execute(f"CREATE MATERIALIZED VIEW {name} AS {sql}")
        for i, stmt in enumerate(statements):
            if stmt == "FLUSH":
                conn.execute("FLUSH")
                _check(conn, mirror, [*(t for t, _ddl in TABLES), *views], statements[:i + 1])
                continue
            engine_error: Exception | None = None
            try:
                conn.execute(stmt)
            except sqlstream.Error as exc:
                engine_error = exc
            oracle_error = mirror.execute(stmt)
            assert (engine_error is None) == (oracle_error is None), (
                f"{stmt}: engine error {engine_error!r}, oracle error {oracle_error!r}")
    finally:
        conn.close()
        mirror.close()


def _check(conn: sqlstream.Connection, mirror: Mirror, names: list[str],
           history: list[str]) -> None:
    for name in names:
        got = conn.execute(f"SELECT * FROM {name}").fetchall()
        want = mirror.rows(f"SELECT * FROM {name}")
        assert same_multiset(got, want), (
            f"view {name} differs after:\n  " + "\n  ".join(history) + "\n"
            + describe_difference(got, want))


SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.data_too_large])
GROUPS = sorted(VIEW_GROUPS)


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("parallelism", [1, 4])
@settings(max_examples=6, **SETTINGS)
@given(program=PROGRAM)
def test_more_views_equal_duckdb(group: str, parallelism: int, program: list[str]) -> None:
    run_program(VIEW_GROUPS[group], program, parallelism)


@pytest.mark.slow
@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("parallelism", [1, 4])
@settings(max_examples=150, **SETTINGS)
@given(program=PROGRAM)
def test_more_views_equal_duckdb_many(group: str, parallelism: int,
                                      program: list[str]) -> None:
    run_program(VIEW_GROUPS[group], program, parallelism)


@pytest.mark.slow
@pytest.mark.parametrize("group", GROUPS)
@settings(max_examples=40, **SETTINGS)
@given(program=PROGRAM)
def test_more_views_tiny_chunks(group: str, program: list[str]) -> None:
    """Chunks of two rows and exchanges of a few rows at parallelism 3."""
    run_program(VIEW_GROUPS[group], program, 3, chunk_size=2, exchange_capacity=4)
