"""The shell driven by keys through a pipe: statements, meta-commands, history,
cancel, and the readers of system tables that may be missing."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from pathlib import Path

from prompt_toolkit.history import FileHistory

from planner import types as T
from planner.errors import Error
from repl.backend import LocalBackend
from repl.monitor import BottleneckWatch, ddl_progress, progress_bar
from repl.prompt import history_path, toolbar
from repl.shell import Shell, timing_text
from sqlstream.result import Column, StatementResult
from tests.repl.conftest import ShellDriver

SETUP = ("CREATE TABLE t (a int, b varchar);\rINSERT INTO t VALUES (1, 'x'), (2, NULL);\r"
         "FLUSH;\r")


def test_multiline_statement_runs_at_semicolon(driver: ShellDriver) -> None:
    run = driver.run("SELECT 1 AS a,\r  2 AS b\r;\r")
    assert run.out == " a | b \n---+---\n 1 | 2\n(1 row)\n\n"


def test_several_statements_on_one_line(driver: ShellDriver) -> None:
    run = driver.run("SELECT 1 AS a; SELECT 2 AS b;\r")
    assert run.out == " a \n---\n 1\n(1 row)\n\n b \n---\n 2\n(1 row)\n\n"


def test_null_is_shown_distinctly(driver: ShellDriver) -> None:
    run = driver.run(SETUP + "SELECT a, b FROM t ORDER BY a;\r")
    assert run.out.endswith(" a | b \n---+---\n 1 | x\n 2 | ∅\n(2 rows)\n\n")
    run = driver.run("\\pset null <null>\rSELECT b FROM t WHERE a = 2;\r")
    assert run.out.endswith("   b    \n--------\n <null>\n(1 row)\n\n")


def test_error_keeps_shell_running(driver: ShellDriver) -> None:
    run = driver.run("SELECT * FROM missing_table;\rSELECT 5 AS after;\r")
    assert run.err.startswith("ERROR:  ")
    assert " after \n-------\n     5\n(1 row)\n" in run.out


def test_verbose_errors_show_sqlstate(driver: ShellDriver) -> None:
    class Failing(LocalBackend):
        def execute(self, sql: str) -> list[StatementResult]:
            raise Error("division by zero", "22012", 10)

    backend = Failing(None)
    try:
        run = ShellDriver(backend).run("\\set VERBOSITY verbose\rSELECT 1/0;\r")
    finally:
        backend.close()
    assert run.err == "ERROR:  22012: division by zero\nLINE 1: SELECT 1/0\n                 ^\n"


def test_describe_commands(driver: ShellDriver) -> None:
    run = driver.run(SETUP + "\\d\r\\dt\r\\d t\r\\dm\r\\d nothing_here\r")
    listing = ("   List of relations\n"
               " Schema | Name | Type  \n"
               "--------+------+-------\n"
               " public | t    | table\n"
               "(1 row)\n\n")
    assert run.out.count(listing) == 2
    assert '      Table "public.t"\n' in run.out
    assert " Column |  Type   | Nullable \n" in run.out
    assert " a      | integer | \n" in run.out
    assert " b      | varchar | \n" in run.out
    assert run.err == "Did not find any relations.\nDid not find any relation named \"nothing_here\".\n"


def test_functions_and_help(driver: ShellDriver) -> None:
    run = driver.run("\\df count\r\\?\r\\nonsense\r")
    assert " count | aggregate |" in run.out
    assert "\\watch [SEC]" in run.out
    assert run.err == "invalid command \\nonsense\nTry \\? for help.\n"


def test_expanded_and_timing_toggles(driver: ShellDriver) -> None:
    run = driver.run("\\x\rSELECT 1 AS a, 'b' AS b;\r\\x\r\\timing\rSELECT 3 AS c;\r")
    assert "Expanded display is on.\n-[ RECORD 1 ]\na | 1\nb | b\n\n" in run.out
    assert "Expanded display is off.\nTiming is on.\n c \n---\n 3\n(1 row)\n\nTime: " in run.out
    assert run.out.rstrip().endswith(" ms")


def test_watch_reruns_last_query(driver: ShellDriver) -> None:
    run = driver.run("SELECT 7 AS seven;\r\\watch 0.01 c=3\r")
    assert run.out.count(" seven \n-------\n     7\n(1 row)\n") == 4
    assert run.out.count("(every 0.01s)") == 3


def test_watch_without_query(driver: ShellDriver) -> None:
    run = driver.run("\\watch 0.01 c=1\r")
    assert run.err == "\\watch cannot be used with an empty query\n"


def test_include_and_output_files(driver: ShellDriver, tmp_path: Path) -> None:
    script = tmp_path / "s.sql"
    script.write_text("\\x\nSELECT 1 AS one,\n 2 AS two;\n")
    target = tmp_path / "out.txt"
    run = driver.run(f"\\o {target}\r\\i {script}\r\\o\rSELECT 3 AS three;\r")
    assert target.read_text() == "Expanded display is on.\n-[ RECORD 1 ]\none | 1\ntwo | 2\n\n"
    assert run.out.startswith("-[ RECORD 1 ]\nthree | 3\n")


def test_quit_command_stops_reading(driver: ShellDriver) -> None:
    run = driver.run("SELECT 1 AS a;\r\\q\rSELECT 2 AS b;\r")
    assert " a " in run.out and " b " not in run.out


def test_history_persists_across_sessions(driver: ShellDriver, tmp_path: Path) -> None:
    path = str(tmp_path / "hist")
    driver.run("SELECT 41 AS answer;\r", history=FileHistory(path))
    assert "SELECT 41 AS answer;" in Path(path).read_text()
    again = driver.run("\x1b[A\r", history=FileHistory(path))          # Up, Enter
    assert " answer \n--------\n     41\n" in again.out
    searched = driver.run("\x12answ\r\r", history=FileHistory(path))    # Ctrl-R
    assert " answer \n--------\n     41\n" in searched.out


def test_history_path_from_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SQLSTREAM_HISTFILE", "/tmp/elsewhere")
    assert history_path() == "/tmp/elsewhere"
    monkeypatch.delenv("SQLSTREAM_HISTFILE")
    assert history_path() == os.path.expanduser("~/.sqlstream_history")


def test_accepts_only_complete_input() -> None:
    assert Shell.accepts("SELECT 1;")
    assert Shell.accepts("\\d t")
    assert Shell.accepts("")
    assert Shell.accepts("SELECT 1 \\watch 2")
    assert not Shell.accepts("SELECT 1")
    assert not Shell.accepts("SELECT 'a;")


class BlockingBackend(LocalBackend):
    """Runs statements that wait until cancelled, as a long backfill would."""

    def __init__(self) -> None:
        super().__init__(None)
        self.cancelled = threading.Event()

    def execute(self, sql: str) -> list[StatementResult]:
        if not self.cancelled.wait(10):
            return [StatementResult("SELECT 0", [Column("x", T.INT32)], [])]
        raise Error("canceling statement due to user request", "57014")

    def cancel(self) -> None:
        self.cancelled.set()


def test_ctrl_c_cancels_statement_not_shell() -> None:
    backend = BlockingBackend()
    out, err = io.StringIO(), io.StringIO()
    shell = Shell(backend, out=out, err=err, tty=False)
    timer = threading.Timer(0.3, lambda: signal.raise_signal(signal.SIGINT))
    timer.start()
    started = time.monotonic()
    try:
        ok = shell.run_sql("CREATE MATERIALIZED VIEW v AS SELECT 1")
    finally:
        timer.cancel()
        backend.close()
    assert not ok
    assert time.monotonic() - started < 5
    assert err.getvalue() == ("Cancel request sent\n"
                              "ERROR:  canceling statement due to user request\n")


class SystemTables(LocalBackend):
    """Answers reads of system tables with fixed rows, as the engine will."""

    def __init__(self, rows: dict[str, StatementResult]) -> None:
        super().__init__(None)
        self.rows = rows

    def quiet_query(self, sql: str) -> StatementResult | None:
        return next((r for name, r in self.rows.items() if name in sql), None)


def test_system_table_readers_degrade_when_missing(backend: LocalBackend) -> None:
    assert ddl_progress(backend) is None
    assert BottleneckWatch(backend).warning() is None
    shell = Shell(backend, out=io.StringIO(), err=io.StringIO(), tty=False)
    text = "".join(t for _, t in toolbar(shell))
    assert "sqlstream: memory" in text and "⚠" not in text


def test_progress_and_bottleneck_from_system_tables() -> None:
    backend = SystemTables({
        "sys.ddl_progress": StatementResult("SELECT 1", [Column("ddl_id", T.INT64),
                                                          Column("progress", T.VARCHAR)],
                                            [(1, "42.5%")]),
        "sys.bottlenecks": StatementResult("SELECT 1", [Column("operator", T.VARCHAR),
                                                         Column("reason", T.VARCHAR)],
                                           [("HashJoin 3", "busy 97%")]),
    })
    try:
        assert ddl_progress(backend) == 0.425
        shell = Shell(backend, out=io.StringIO(), err=io.StringIO(), tty=False)
        text = "".join(t for _, t in toolbar(shell))
    finally:
        backend.close()
    assert "⚠ backpressured: HashJoin 3 (busy 97%)" in text
    assert progress_bar(0.5, width=10) == "[#####.....]  50.0%"


def test_timing_text() -> None:
    assert timing_text(0.0012345) == "Time: 1.234 ms\n"
    assert timing_text(61.5) == "Time: 61500.000 ms (01:01.500)\n"
