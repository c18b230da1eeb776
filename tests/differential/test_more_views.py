"""Broader differential test: random INSERT/UPDATE/DELETE sequences (NULLs,
duplicates, key reuse, primary key changes) on three tables under views of
shapes the first differential test does not cover; after every FLUSH each view
must equal DuckDB's answer to the same query over a DuckDB mirror. The views
come in three groups (joins, aggregates, expressions/unions/top-N), each run
at parallelism 1 and 4."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.differential.more_schema import PROGRAM, TABLES, VIEW_GROUPS
from tests.differential.oracle import run_program


SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.data_too_large])
GROUPS = sorted(VIEW_GROUPS)


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("parallelism", [1, 4])
@settings(max_examples=6, **SETTINGS)
@given(program=PROGRAM)
def test_more_views_equal_duckdb(group: str, parallelism: int, program: list[str]) -> None:
    run_program(TABLES, VIEW_GROUPS[group], program, parallelism)


@pytest.mark.slow
@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("parallelism", [1, 4])
@settings(max_examples=150, **SETTINGS)
@given(program=PROGRAM)
def test_more_views_equal_duckdb_many(group: str, parallelism: int,
                                      program: list[str]) -> None:
    run_program(TABLES, VIEW_GROUPS[group], program, parallelism)


@pytest.mark.slow
@pytest.mark.parametrize("group", GROUPS)
@settings(max_examples=40, **SETTINGS)
@given(program=PROGRAM)
def test_more_views_tiny_chunks(group: str, program: list[str]) -> None:
    """Chunks of two rows and exchanges of a few rows at parallelism 3."""
    run_program(TABLES, VIEW_GROUPS[group], program, 3, chunk_size=2, exchange_capacity=4)
