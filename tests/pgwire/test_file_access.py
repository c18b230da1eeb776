"""No file of the server's host is readable from SQL: DuckDB's file, extension and
settings functions and statements are refused (42501) over the wire and embedded, and
network clients create posix_fs sources only below the folders the server allows."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest

import sqlstream
from storage.serving_store import ServingStore
from tests.pgwire.conftest import RunningServer, needs_engine, start_server

SECRET = "sqlstream-secret-9f3c1e"


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("host") / "secret.csv"
    path.write_text(f"word\n{SECRET}\n")
    return path


def _refused(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """(statement, SQLSTATEs that refuse it)."""
    out = path.parent / "out"
    return [
        (f"SELECT content FROM read_text('{path}')", ("42501",)),
        (f"SELECT * FROM read_text('{path}') AS t", ("42501",)),
        (f"SELECT * FROM read_csv('{path}')", ("42501",)),
        (f"SELECT * FROM read_csv_auto('{path}', header = true)", ("42501",)),
        (f"SELECT content FROM read_blob('{path}')", ("42501",)),
        (f"SELECT * FROM read_parquet('{path}')", ("42501",)),
        (f"SELECT * FROM sniff_csv('{path}')", ("42501",)),
        (f"SELECT (SELECT content FROM read_text('{path}')) AS c", ("42501",)),
        (f"WITH f AS (SELECT * FROM read_text('{path}')) SELECT content FROM f",
         ("42501",)),
        (f"SELECT 1 AS x FROM generate_series(1, 2) g JOIN read_text('{path}') r ON true",
         ("42501",)),
        (f"SELECT * FROM system.main.read_text('{path}')", ("42501",)),
        (f"SELECT * FROM \"READ_TEXT\"('{path}')", ("42501",)),
        ("SELECT \"current_setting\"('memory_limit') AS s", ("42501",)),
        ("SELECT main.current_setting('memory_limit') AS s", ("42501",)),
        (f"SELECT * FROM query('SELECT content FROM read_text(''{path}'')')", ("42501",)),
        (f"SELECT relname FROM pg_catalog.pg_class, read_text('{path}')", ("42501",)),
        (f"SELECT * FROM main.\"{path}\"", ("42501",)),
        (f"EXPLAIN SELECT * FROM read_text('{path}')", ("42501",)),
        # sqlglot reads GLOB as an operator, so glob(...) cannot even be written.
        (f"SELECT * FROM glob('{path.parent}/*')", ("42501", "42601")),
        ("SELECT * FROM duckdb_settings()", ("42501",)),
        ("SELECT * FROM duckdb_extensions()", ("42501",)),
        ("SELECT getvariable('x') AS v", ("42501",)),
        (f"COPY (SELECT 1) TO '{out}.csv'", ("42501",)),
        (f"COPY (SELECT 1) TO '{out}.parquet' (FORMAT parquet)", ("42501",)),
        (f"ATTACH '{out}.db' AS other", ("42501",)),
        ("INSTALL httpfs", ("42501",)),
        ("LOAD json", ("42501",)),
        ("PRAGMA database_list", ("42501",)),
        (f"EXPORT DATABASE '{out}'", ("42501",)),
        (f"IMPORT DATABASE '{out}'", ("42501",)),
        ("CHECKPOINT", ("42501",)),
    ]


def _check_refused(run, path: Path) -> None:
    """`run(sql)` raises an error with `.sqlstate`, or returns the rows as text."""
    for sql, states in _refused(path):
        try:
            rows = run(sql)
        except Exception as e:  # noqa: BLE001 - the code is what is checked
            state = getattr(e, "sqlstate", None)
            assert state in states, (sql, state, e)
            assert SECRET not in str(e), sql
            if state == "42501":
                assert "permission denied" in str(e), (sql, e)
        else:
            raise AssertionError(f"not refused: {sql} -> {rows!r}")
    assert not list(path.parent.glob("out*")), "a refused statement wrote a file"


def test_file_functions_refused_over_the_wire(server: RunningServer, secret_file: Path) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        def run(sql: str) -> str:
            return repr(c.execute(sql).fetchall())
        _check_refused(run, secret_file)
        # The refusal names the function, and the session keeps working.
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="read_text"):
            c.execute(f"SELECT content FROM read_text('{secret_file}')")
        assert c.execute("SELECT count(*) FROM generate_series(1, 5)").fetchone() == (5,)
        assert c.execute("SELECT sum(x) FROM unnest(ARRAY[1, 2, 3]) AS u(x)").fetchone() == (6,)
        assert c.execute("SELECT count(*) FROM range(4)").fetchone() == (4,)


def test_file_functions_refused_embedded(secret_file: Path) -> None:
    conn = sqlstream.connect()
    try:
        cur = conn.cursor()

        def run(sql: str) -> str:
            cur.execute(sql)
            return repr(cur.fetchall() if cur.description else [])
        _check_refused(run, secret_file)
    finally:
        conn.close()


def test_catalog_queries_of_drivers_still_work(server: RunningServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        # PostgreSQL's current_setting is the catalog's, not DuckDB's: it is not refused.
        assert len(c.execute("SELECT current_setting('server_version_num')").fetchall()) == 1
        assert c.execute("SELECT count(*) FROM pg_catalog.pg_type WHERE oid = 23"
                         ).fetchone() == (1,)
        assert c.execute("SELECT version()").fetchone()[0].startswith("PostgreSQL")


def test_serving_store_has_no_external_access(secret_file: Path) -> None:
    """Defence in depth: even SQL that reached DuckDB could not read or write files."""
    store = ServingStore()
    try:
        with pytest.raises(duckdb.PermissionException):
            store.duck.execute(f"SELECT content FROM read_text('{secret_file}')")
        with pytest.raises(duckdb.PermissionException):
            store.duck.execute(f"COPY (SELECT 1) TO '{secret_file.parent}/copy.csv'")
        with pytest.raises(duckdb.Error, match="locked"):
            store.duck.execute("SET enable_external_access = true")
        assert not (secret_file.parent / "copy.csv").exists()
    finally:
        store.duck.close()


# ---------------------------------------------------------------- posix_fs roots

def _source(name: str, root: Path | str) -> str:
    return (f"CREATE TABLE {name} (word VARCHAR) WITH (connector = 'posix_fs', "
            f"posix_fs.root = '{root}', match_pattern = '*.csv') "
            "FORMAT PLAIN ENCODE CSV (without_header = 'false')")


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory, secret_file: Path) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("roots")
    allowed, outside = base / "allowed", base / "outside"
    (allowed / "data").mkdir(parents=True)
    outside.mkdir()
    (outside / "leak.csv").write_text(f"word\n{SECRET}\n")
    (allowed / "data" / "a.csv").write_text("word\nalpha\nbeta\n")
    (allowed / "data" / "z.csv").symlink_to(secret_file)  # a link out of the root
    (allowed / "escape").symlink_to(outside, target_is_directory=True)
    return {"allowed": allowed, "outside": outside}


@pytest.fixture(scope="module")
def rooted(folders: dict[str, Path]) -> Iterator[RunningServer]:
    srv = start_server("--allow-fs-root", str(folders["allowed"]))
    yield srv
    srv.close()


def test_posix_fs_over_the_network_needs_a_root(server: RunningServer, tmp_path: Path) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as c, \
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="--allow-fs-root"):
        c.execute(_source("nope", tmp_path))


def test_posix_fs_outside_the_roots_is_refused(rooted: RunningServer,
                                               folders: dict[str, Path]) -> None:
    allowed, outside = folders["allowed"], folders["outside"]
    with psycopg.connect(rooted.dsn(), autocommit=True) as c:
        for root in (outside, allowed / ".." / "outside", allowed / "escape", "/",
                     allowed.parent):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not below"):
                c.execute(_source("out_of_root", root))
        rows = c.execute("SELECT relname FROM pg_catalog.pg_class WHERE relname = "
                         "'out_of_root'").fetchall()
        assert rows == []


@needs_engine
def test_posix_fs_inside_a_root_reads_rows_but_no_link_out(
        rooted: RunningServer, folders: dict[str, Path]) -> None:
    with psycopg.connect(rooted.dsn(), autocommit=True) as c:
        c.execute(_source("inside", folders["allowed"] / "data"))
        deadline = time.monotonic() + 20
        rows: list[tuple] = []
        while time.monotonic() < deadline:
            c.execute("FLUSH")
            rows = c.execute("SELECT word FROM inside ORDER BY word").fetchall()
            if rows == [("alpha",), ("beta",)]:
                break
            time.sleep(0.2)
        assert rows == [("alpha",), ("beta",)]
        # The link z.csv sorts after a.csv: give the reader a few more polls.
        time.sleep(1.5)
        c.execute("FLUSH")
        words = [r[0] for r in c.execute("SELECT word FROM inside").fetchall()]
        assert SECRET not in words and len(words) == 2
        errors = [r[0] for r in c.execute(
            "SELECT last_error FROM sys.sources WHERE relation = 'inside' "
            "AND last_error IS NOT NULL").fetchall()]
        assert any("symbolic link" in e for e in errors), errors
        c.execute("DROP TABLE inside")


@needs_engine
def test_embedded_posix_fs_keeps_any_folder(folders: dict[str, Path]) -> None:
    conn = sqlstream.connect()
    try:
        cur = conn.cursor()
        cur.execute(_source("anywhere", folders["outside"]))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            cur.execute("FLUSH")
            cur.execute("SELECT word FROM anywhere")
            if cur.fetchall() == [(SECRET,)]:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("embedded posix_fs source read nothing")
    finally:
        conn.close()


def test_roots_must_exist(tmp_path: Path) -> None:
    from sqlstream.pgwire.server import run_server
    missing = tmp_path / "missing"
    assert not os.path.exists(missing)
    assert run_server(["--memory", "--port", "0", "--allow-fs-root", str(missing)]) == 2
