"""A process killed while it rescales views (SIGKILL at random moments, and dying
exactly before or after the rescale's commit) loses and duplicates nothing: after
reopening, the table's view equals the query over the table, and the view over the
datagen source counts every generated row exactly once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from sqlstream.database import Database
from tests.observability.rescale_writer import ROWS, TV_ORACLE

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _start(path: str, mode: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "tests.observability.rescale_writer",
                             path, mode], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("ready"), line
    return proc


def _check(path: str) -> None:
    db = Database.open(path)
    try:
        s = db.session()
        rows = lambda sql: sorted(s.execute(sql)[0].rows)  # noqa: E731
        s.execute("FLUSH")
        assert rows("SELECT * FROM tv") == rows(TV_ORACLE)
        deadline = time.monotonic() + 30
        while rows("SELECT sum(n) FROM ev_v")[0][0] != ROWS and time.monotonic() < deadline:
            time.sleep(0.3)
            s.execute("FLUSH")
        time.sleep(0.5)
        s.execute("FLUSH")
        assert rows("SELECT sum(n), count(*) FROM ev_v") == [(ROWS, 21)]
    finally:
        db.close()


@pytest.mark.slow
def test_sigkill_during_rescales(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "db")
    rng = random.Random(4)
    for _ in range(3):
        proc = _start(path, "loop")
        assert proc.stdout is not None
        proc.stdout.readline()  # the first "rescaling": a rescale is under way
        time.sleep(rng.uniform(0.0, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    _check(path)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["before_commit", "after_commit"])
def test_death_at_the_rescale_commit(tmp_path, mode: str) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "db")
    proc = _start(path, mode)
    assert proc.wait(60) == 9
    _check(path)
    db = Database.open(path)
    try:
        got = db.session().execute("SELECT parallelism FROM sys.fragments "
                                   "WHERE relation = 'tv'")[0].rows
        # The first rescale asks for 3 actors: committed or not, never half of it.
        assert got == ([(1,), (1,)] if mode == "before_commit" else [(3,), (3,)])
    finally:
        db.close()
