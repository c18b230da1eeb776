"""psql, run from the shell as a user would, against a running server."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.pgwire.conftest import RunningServer, needs_engine

pytestmark = pytest.mark.skipif(shutil.which("psql") is None, reason="psql not installed")


def psql(srv: RunningServer, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    cmd = ["psql", "-X", "-h", "127.0.0.1", "-p", str(srv.port), "-U", "root", "-d", "dev",
           *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=30,
                          env=srv.env())


@pytest.fixture(scope="module")
def tables(server: RunningServer) -> RunningServer:
    r = psql(server, "-c", "CREATE TABLE psql_t (id INT, name VARCHAR, price DOUBLE PRECISION)",
             "-c", "INSERT INTO psql_t VALUES (1, 'apple', 1.5), (2, 'pear', 2.25)",
             "-c", "CREATE MATERIALIZED VIEW psql_mv AS SELECT id, name FROM psql_t",
             "-c", "FLUSH")
    assert r.returncode == 0, r.stderr
    return server


def test_several_statements_in_one_command(tables: RunningServer) -> None:
    r = psql(tables, "-A", "-t", "-c", "SELECT name FROM psql_t WHERE id = 1; SELECT 40 + 2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["apple", "42"]


def test_file_input(tables: RunningServer, tmp_path) -> None:
    f = tmp_path / "q.sql"
    f.write_text("-- a comment\nSELECT count(*) FROM psql_t;\n\nSELECT max(price) FROM psql_t;\n")
    r = psql(tables, "-A", "-t", "-f", str(f))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["2", "2.25"]


def test_list_relations(tables: RunningServer) -> None:
    r = psql(tables, "-c", "\\d")
    assert r.returncode == 0, r.stderr
    lines = {tuple(c.strip() for c in line.split("|")) for line in r.stdout.splitlines()}
    assert ("public", "psql_t", "table", "root") in lines
    assert ("public", "psql_mv", "materialized view", "root") in lines


def test_dt_and_dm_filter_by_kind(tables: RunningServer) -> None:
    dt = psql(tables, "-c", "\\dt")
    dm = psql(tables, "-c", "\\dm")
    assert dt.returncode == 0 and dm.returncode == 0, dt.stderr + dm.stderr
    assert "psql_t" in dt.stdout and "psql_mv" not in dt.stdout
    assert "psql_mv" in dm.stdout and "psql_t " not in dm.stdout


def test_describe_one_table(tables: RunningServer) -> None:
    r = psql(tables, "-c", "\\d psql_t")
    assert r.returncode == 0, r.stderr
    assert 'Table "public.psql_t"' in r.stdout
    rows = [[c.strip() for c in line.split("|")] for line in r.stdout.splitlines() if "|" in line]
    assert ["id", "integer"] == rows[1][:2]
    assert ["name", "character varying"] == rows[2][:2]
    assert ["price", "double precision"] == rows[3][:2]


def test_describe_view(tables: RunningServer) -> None:
    r = psql(tables, "-c", "\\d psql_mv")
    assert r.returncode == 0, r.stderr
    assert 'Materialized view "public.psql_mv"' in r.stdout


def test_databases_and_schemas(tables: RunningServer) -> None:
    l_ = psql(tables, "-c", "\\l")
    dn = psql(tables, "-c", "\\dn")
    assert l_.returncode == 0 and dn.returncode == 0, l_.stderr + dn.stderr
    assert any(line.split("|")[0].strip() == "dev" for line in l_.stdout.splitlines())
    assert any(line.split("|")[0].strip() == "public" for line in dn.stdout.splitlines())


def test_expanded_and_timing(tables: RunningServer) -> None:
    r = psql(tables, stdin="\\x\n\\timing\nSELECT id, name FROM psql_t WHERE id = 2;\n")
    assert r.returncode == 0, r.stderr
    assert "Expanded display is on." in r.stdout
    assert "Timing is on." in r.stdout
    assert "-[ RECORD 1 ]" in r.stdout and "pear" in r.stdout
    assert "Time:" in r.stdout


def test_error_keeps_session_usable(tables: RunningServer) -> None:
    r = psql(tables, stdin="SELECT * FROM no_such_table;\nSELECT 7;\n")
    assert "ERROR:" in r.stderr
    assert "7" in r.stdout.split()


@needs_engine
def test_error_caret(tables: RunningServer) -> None:
    r = psql(tables, "-c", "SELECT id FROM psql_t WHERE id = = 1")
    assert r.returncode != 0
    lines = r.stderr.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("LINE 1:"))
    caret = lines[i + 1].index("^")
    assert lines[i][caret:] == "= 1"


def _listing(out: str) -> set[tuple[str, ...]]:
    return {tuple(c.strip() for c in line.split("|")) for line in out.splitlines()}


def test_d_shows_sources_and_hides_system_relations(tables: RunningServer) -> None:
    r = psql(tables, "-c", "CREATE SOURCE psql_src (k BIGINT) WITH (connector = 'datagen', "
                           "fields.k.kind = 'sequence', datagen.rows.per.second = '1')")
    assert r.returncode == 0, r.stderr
    try:
        d = psql(tables, "-c", "\\d")
        assert d.returncode == 0, d.stderr
        rows = _listing(d.stdout)
        assert ("public", "psql_src", "source", "root") in rows
        assert ("public", "psql_t", "table", "root") in rows
        assert not any(row[0] == "sys" for row in rows), d.stdout
        ds = psql(tables, "-c", "\\dS")
        assert ds.returncode == 0, ds.stderr
        system = {row[1] for row in _listing(ds.stdout) if row[0] == "sys"}
        assert {"actors", "sources", "relations"} <= system
        assert ("public", "psql_src", "source", "root") in _listing(ds.stdout)
    finally:
        psql(tables, "-c", "DROP SOURCE psql_src")
