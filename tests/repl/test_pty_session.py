"""The real `sqlstream --memory` in a pseudo-terminal: what a person typing sees."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pexpect

PROMPT = "sqlstream=>"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")


def spawn(tmp_path: Path) -> pexpect.spawn:
    exe = shutil.which("sqlstream")
    cmd, args = (exe, ["--memory"]) if exe else (sys.executable, ["-m", "repl.main", "--memory"])
    env = dict(os.environ, TERM="xterm", SQLSTREAM_HISTFILE=str(tmp_path / "hist"),
               PROMPT_TOOLKIT_NO_CPR="1", PAGER="cat", HOME=str(tmp_path))
    return pexpect.spawn(cmd, args, env=env, encoding="utf-8", timeout=20,
                         dimensions=(40, 120), cwd=str(tmp_path))


def screen(text: str) -> str:
    return ANSI.sub("", text)


def test_typed_session(tmp_path: Path) -> None:
    child = spawn(tmp_path)
    seen: list[str] = []

    def drain() -> None:
        """Let pending redraws arrive so the next match sees only new output."""
        try:
            while True:
                seen.append(child.read_nonblocking(65536, timeout=0.3))
        except pexpect.TIMEOUT:
            pass

    def step(send: str, until: str) -> str:
        drain()
        child.send(send)
        child.expect(until)
        out = child.before + child.after
        seen.append(out)
        return screen(out)

    try:
        child.expect(PROMPT)
        assert 'Type "\\?" for help.' in screen(child.before)
        step("CREATE TABLE t (a int, b varchar);\r", r"CREATE TABLE\r?\n")
        step("INSERT INTO t VALUES (1, 'one'),\r(2, NULL);\r", r"INSERT 0 2")
        step("FLUSH;\r", r"FLUSH\r?\n")
        step("select a, b from t wher", "keyword")          # the completion menu is up
        result = step("\t a = 2 or a = 1 order by a;\r", r"\(2 rows\)")
        assert " a |  b  \n---+-----\n 1 | one\n 2 | ∅\n(2 rows)" in result
        listing = step("\\d\r", r"List of relations[\s\S]*?\(1 row\)")
        assert re.search(r" public \| t +\| table", screen(child.after))
        assert "ERROR:  " in step("SELECT * FROM nope;\r", r"ERROR:  .*")
        step("SELEC", "SELEC")
        child.sendcontrol("c")                       # clears the line, keeps the shell
        after_ctrl_c = step("SELECT 3 AS three;\r", r"\(1 row\)")
        assert " three \n-------\n     3\n(1 row)" in after_ctrl_c
        assert listing
        drain()
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, screen("".join(seen))
    assert "SELECT 3 AS three;" in (tmp_path / "hist").read_text()
