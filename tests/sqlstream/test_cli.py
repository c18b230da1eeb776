"""The `sqlstream` command run for real in a subprocess (-c, -f, errors), and
the statement splitter it and the shell share."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sqlstream.session
from sqlstream.cli import is_complete, split_statements

# The placeholder engine answers DDL with row counts and reports no error positions;
# checks of command tags and carets run once the streaming engine is in place.
STAND_IN = "STAND-IN" in (sqlstream.session.__doc__ or "")
needs_engine = pytest.mark.skipif(STAND_IN, reason="needs the streaming engine's tags")


def sqlstream_cmd(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    exe = shutil.which("sqlstream")
    cmd = [exe] if exe else [sys.executable, "-m", "repl.main"]
    env = dict(os.environ, SQLSTREAM_HISTFILE=str(cwd / "history"))
    return subprocess.run([*cmd, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_select_prints_aligned_table(tmp_path: Path) -> None:
    proc = sqlstream_cmd("--memory", "-c", "SELECT 1 AS a, 'x' AS bb", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == " a | bb \n---+----\n 1 | x\n(1 row)\n\n"


def test_commands_and_files_run_in_order(tmp_path: Path) -> None:
    script = tmp_path / "load.sql"
    script.write_text("CREATE TABLE t (k int, v varchar);\n"
                      "-- a comment; with a semicolon\n"
                      "INSERT INTO t VALUES (1, 'a;b'), (20, NULL);\n"
                      "FLUSH;\n")
    proc = sqlstream_cmd("--memory", "-f", str(script), "-c",
                         "SELECT k, v FROM t ORDER BY k", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith(" k  |  v  \n"
                                "----+-----\n"
                                "  1 | a;b\n"
                                " 20 | \n"
                                "(2 rows)\n\n")


def test_error_exits_one_and_stops(tmp_path: Path) -> None:
    proc = sqlstream_cmd("--memory", "-c", "SELECT 1 AS first",
                         "-c", "SELECT * FROM no_such_table", "-c", "SELECT 2 AS never",
                         cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith("ERROR:  ")
    assert "first" in proc.stdout
    assert "never" not in proc.stdout


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    proc = sqlstream_cmd("--memory", "-f", str(tmp_path / "absent.sql"), cwd=tmp_path)
    assert proc.returncode == 1
    assert "absent.sql" in proc.stderr


@needs_engine
def test_command_tags(tmp_path: Path) -> None:
    proc = sqlstream_cmd("--memory", "-c", "CREATE TABLE t (a int)",
                         "-c", "INSERT INTO t VALUES (1), (2)", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "CREATE TABLE\nINSERT 0 2\n"


@needs_engine
def test_error_caret_under_position(tmp_path: Path) -> None:
    proc = sqlstream_cmd("--memory", "-c", "SELECT * FROM no_such_table", cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("ERROR:  ")
    assert lines[1] == "LINE 1: SELECT * FROM no_such_table"
    assert lines[2] == " " * lines[1].index("no_such_table") + "^"


def test_split_statements_respects_quotes_and_comments() -> None:
    text = ("SELECT ';' AS a; -- x; y\nSELECT $$a;b$$; SELECT $t$;$t$ /* c; */;"
            " SELECT \"we;ird\"; SELECT E'it\\'s;'; SELECT 1")
    split = split_statements(text)
    assert split.statements == ["SELECT ';' AS a", "-- x; y\nSELECT $$a;b$$",
                                "SELECT $t$;$t$ /* c; */", 'SELECT "we;ird"',
                                "SELECT E'it\\'s;'"]
    assert split.rest == " SELECT 1"


def test_is_complete() -> None:
    assert is_complete("SELECT 1;")
    assert is_complete("SELECT 1; -- done")
    assert not is_complete("SELECT 1")
    assert not is_complete("SELECT ';")
    assert not is_complete("SELECT 1; SELECT 2")
    assert not is_complete("-- only a comment;")


def test_run_in_process_stops_at_first_error() -> None:
    import io

    from sqlstream.cli import run

    out, err = io.StringIO(), io.StringIO()
    code = run([("c", "SELECT 1 AS a; SELECT * FROM absent_table; SELECT 2 AS b")], None,
               out=out, err=err)
    assert code == 1
    assert out.getvalue() == " a \n---\n 1\n(1 row)\n\n"
    assert err.getvalue().startswith("ERROR:  ")
