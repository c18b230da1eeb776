"""The expected answers of tests/sqlstream/test_pg_semantics.py are PostgreSQL's:
checked here against the real server, so those tests cannot drift from it."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.sqlstream.test_pg_semantics import ANSWERS, ERRORS, same


@pytest.mark.parametrize("expr,want", [(e, w) for e, w, _v in ANSWERS],
                         ids=[a[0] for a in ANSWERS])
def test_answer_is_postgres(pg: psycopg.Connection, expr: str, want: Any) -> None:
    got = pg.execute(f"SELECT {expr}").fetchone()[0]
    assert same(got, want), f"PostgreSQL gives {got!r} for {expr}, the test expects {want!r}"


@pytest.mark.parametrize("expr,code", ERRORS, ids=[e[0] for e in ERRORS])
def test_error_is_postgres(pg: psycopg.Connection, expr: str, code: str) -> None:
    with pytest.raises(psycopg.Error) as info:
        pg.execute(f"SELECT {expr}")
    assert info.value.sqlstate == code
