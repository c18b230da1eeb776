"""The check that keeps batch queries inside the database (planner/external_access.py)."""

from __future__ import annotations

import pytest

from planner.errors import ProgrammingError
from planner.external_access import check_query, check_statement
from planner.parse import parse


@pytest.mark.parametrize("sql", [
    "SELECT * FROM generate_series(1, 3) AS g(i)",
    "SELECT * FROM range(3)",
    "SELECT * FROM unnest(ARRAY[1, 2])",
    "SELECT * FROM json_each('[1, 2]')",
    "SELECT upper('read_text(x)'), length('duckdb_settings')",
    "SELECT x FROM t WHERE x LIKE 'read_%'",
])
def test_queries_inside_the_database_pass(sql: str) -> None:
    check_query(parse(sql))


@pytest.mark.parametrize(("sql", "name"), [
    ("SELECT * FROM read_text('/etc/passwd')", "read_text"),
    ("SELECT * FROM read_csv('/x.csv', header = true) AS t", "read_csv"),
    ("SELECT * FROM t JOIN read_blob('/x') AS b ON true", "read_blob"),
    ("SELECT * FROM duckdb_settings()", "duckdb_settings"),
    ("SELECT * FROM query('SELECT 1')", "query"),
    ("SELECT (SELECT count(*) FROM read_parquet('/x'))", "read_parquet"),
    ("SELECT \"current_setting\"('threads')", "current_setting"),
])
def test_functions_outside_the_database_are_refused(sql: str, name: str) -> None:
    with pytest.raises(ProgrammingError) as info:
        check_query(parse(sql))
    assert info.value.sqlstate == "42501"
    assert name in info.value.message


def test_unknown_table_function_does_not_exist() -> None:
    with pytest.raises(ProgrammingError) as info:
        check_query(parse("SELECT * FROM no_such_function(1)"))
    assert info.value.sqlstate == "42883"


def test_a_user_function_may_share_a_denied_prefix() -> None:
    tree = parse("SELECT read_score(x) FROM t")
    with pytest.raises(ProgrammingError):
        check_query(tree)
    check_query(tree, lambda name: name == "read_score")


@pytest.mark.parametrize("sql", [
    "COPY t TO '/tmp/out.csv'", "copy (SELECT 1) to '/tmp/x'", "COPY t FROM '/etc/passwd'",
    "COPY t TO PROGRAM 'sh'", "ATTACH '/tmp/x.db'", "INSTALL httpfs", "LOAD httpfs",
    "PRAGMA database_list", "EXPORT DATABASE '/tmp/x'", "IMPORT DATABASE '/tmp/x'",
    "CALL pragma_version()", "CHECKPOINT", "FORCE CHECKPOINT", "USE other",
])
def test_statements_outside_the_database_are_refused(sql: str) -> None:
    with pytest.raises(ProgrammingError) as info:
        check_statement(sql)
    assert info.value.sqlstate == "42501"


@pytest.mark.parametrize("sql", [
    "COPY t TO STDOUT", "COPY t FROM STDIN", "SELECT 'ATTACH'", "INSERT INTO t VALUES ('LOAD')",
])
def test_other_statements_pass(sql: str) -> None:
    check_statement(sql)
