"""The first read after a restart sees the whole last committed epoch: every table
(with and without a primary key) and every view (aggregate, multiset, append-only,
view over a view) answers its full committed contents to the very first SELECT,
embedded right after connect() and over the wire right after `sqlstream serve` was
killed with SIGKILL and started again. No FLUSH comes before those reads: a view
whose contents only reach the serving store later would answer nothing or a part."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

import sqlstream
from tests.netutil import free_port

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 300  # one checkpoint each: every view's state is a log of many epochs
PER_ROUND = 250  # values added to `plain` per round, each twice
SEQ_END = 900

DDL = [
    "CREATE TABLE keyed (k INT PRIMARY KEY, v INT)",
    "CREATE TABLE plain (v INT)",
    f"""CREATE SOURCE s (id BIGINT) WITH (connector = 'datagen',
        fields.id.kind = 'sequence', fields.id.start = '1', fields.id.end = '{SEQ_END}',
        datagen.rows.per.second = '300')""",
    ("CREATE MATERIALIZED VIEW per_group AS "
     "SELECT k % 7 AS g, count(*) AS n, sum(v) AS total FROM keyed GROUP BY k % 7"),
    "CREATE MATERIALIZED VIEW seq AS SELECT id, id % 4 AS m FROM s",
    "CREATE MATERIALIZED VIEW seq_zero AS SELECT id FROM seq WHERE m = 0",
    # Deployed last at a restart, so the least time passes between its deployment
    # and the first read.
    "CREATE MATERIALIZED VIEW residues AS SELECT v, v % 3 AS r FROM plain",
]
# What each read asks (in this order): whole relations, and a summary of the big ones.
READS = {"residues": "SELECT count(*), count(DISTINCT v), sum(v), sum(r) FROM residues",
         "plain": "SELECT count(*), count(DISTINCT v), sum(v) FROM plain",
         **{name: f"SELECT * FROM {name}" for name in ("per_group", "seq", "seq_zero", "keyed")}}


def rounds() -> Iterator[str]:
    """Inserts, updates and deletes, each round ended by a FLUSH."""
    for i in range(ROUNDS):
        yield f"INSERT INTO keyed VALUES ({i}, {i})"
        first = PER_ROUND * i
        yield (f"INSERT INTO plain SELECT x FROM generate_series({first}, "
               f"{first + PER_ROUND - 1}) AS g(x), generate_series(1, 2) AS twice(y)")
        if i % 5 == 4:
            yield f"UPDATE keyed SET v = v + 1000 WHERE k = {i - 1}"
        if i % 7 == 6:
            yield f"DELETE FROM keyed WHERE k = {i - 3}"
        if i % 11 == 10:
            yield f"DELETE FROM plain WHERE v = {PER_ROUND * i - 2}"
        yield "FLUSH"


def expected() -> dict[str, list[tuple]]:
    """What `rounds()` leaves in every relation, worked out here in plain Python."""
    keyed: dict[int, int] = {}
    plain: set[int] = set()  # every value is in `plain` twice
    for i in range(ROUNDS):
        keyed[i] = i
        plain.update(range(PER_ROUND * i, PER_ROUND * (i + 1)))
        if i % 5 == 4 and i - 1 in keyed:
            keyed[i - 1] += 1000
        if i % 7 == 6:
            keyed.pop(i - 3, None)
        if i % 11 == 10:
            plain.discard(PER_ROUND * i - 2)
    groups: dict[int, list[int]] = {}
    for k, v in keyed.items():
        groups.setdefault(k % 7, []).append(v)
    seq = [(i, i % 4) for i in range(1, SEQ_END + 1)]
    return {"per_group": sorted((g, len(vs), sum(vs)) for g, vs in groups.items()),
            "seq": seq,
            "seq_zero": [(i,) for i, m in seq if m == 0],
            "keyed": sorted(keyed.items()),
            "plain": [(2 * len(plain), len(plain), 2 * sum(plain))],
            "residues": [(2 * len(plain), len(plain), 2 * sum(plain),
                          2 * sum(v % 3 for v in plain))]}


def build(run: Callable[[str], Any], count: Callable[[str], int]) -> None:
    run("SET streaming_parallelism = 2")  # a view's state split over two actors
    for stmt in DDL:
        run(stmt)
    for stmt in rounds():
        run(stmt)
    deadline = time.monotonic() + 60
    while count("SELECT count(*) FROM seq") < SEQ_END:
        assert time.monotonic() < deadline, "the datagen source did not finish"
        time.sleep(0.1)
    run("FLUSH")


def rows_of(conn: Any) -> Callable[[str], list[tuple]]:
    """Run a query on an embedded or a psycopg connection, return its rows."""
    return lambda query: conn.execute(query).fetchall()


def differences(read: Callable[[str], list[tuple]], want: dict[str, list[tuple]]) -> list[str]:
    out = []
    for name, query in READS.items():
        got = sorted(read(query))
        if got != want[name]:
            out.append(f"{name}: {got[:3]}... ({len(got)} rows), committed "
                       f"{want[name][:3]}... ({len(want[name])} rows)")
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[tuple]]]:
    """A data directory holding the workload, closed; and what it must read as."""
    path = tmp_path_factory.mktemp("built") / "data"
    want = expected()
    conn = sqlstream.connect(str(path), barrier_interval_ms=20)
    try:
        build(lambda q: conn.execute(q), lambda q: conn.execute(q).fetchall()[0][0])
        assert differences(rows_of(conn), want) == []
    finally:
        conn.close()
    return path, want


def copy_of(built: tuple[Path, dict[str, list[tuple]]], tmp_path: Path) -> Path:
    path = tmp_path / "data"
    shutil.copytree(built[0], path)
    return path


def test_first_reads_after_reopening(built: tuple[Path, dict[str, list[tuple]]],
                                     tmp_path: Path) -> None:
    path, want = str(copy_of(built, tmp_path)), built[1]
    for attempt in range(5):
        conn = sqlstream.connect(path, barrier_interval_ms=20)
        try:
            diff = differences(rows_of(conn), want)
            assert diff == [], f"reopening {attempt}: {diff}"
            if attempt == 4:
                # A view created right away takes the reopened views' whole contents.
                conn.execute("CREATE MATERIALIZED VIEW later AS SELECT g, n FROM per_group "
                             "UNION ALL SELECT v, r FROM residues WHERE v < 100")
                conn.execute("FLUSH")
                got = sorted(conn.execute("SELECT * FROM later").fetchall())
                assert got == sorted([(g, n) for g, n, _t in want["per_group"]]
                                     + [(v, v % 3) for v in range(100) for _ in (1, 2)])
        finally:
            conn.close()


def start_server(data_dir: Path, port: int, log: Path) -> subprocess.Popen:
    with open(log, "ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "sqlstream", "serve", "--data-dir", str(data_dir),
             "--port", str(port)], cwd=str(data_dir.parent),
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            stdout=subprocess.DEVNULL, stderr=err)


def first_connection(proc: subprocess.Popen, port: int, log: Path) -> psycopg.Connection:
    """Connect as soon as the server accepts clients."""
    dsn = f"host=127.0.0.1 port={port} user=root dbname=dev connect_timeout=2"
    deadline = time.monotonic() + 60
    while True:
        try:
            return psycopg.connect(dsn, autocommit=True)
        except psycopg.OperationalError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("server did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.005)


def test_first_reads_after_sigkill_of_the_server(
        built: tuple[Path, dict[str, list[tuple]]], tmp_path: Path) -> None:
    data_dir, want, log = copy_of(built, tmp_path), built[1], tmp_path / "server.log"
    port = free_port()
    proc = start_server(data_dir, port, log)
    try:
        for attempt in range(3):
            if attempt:
                proc.send_signal(signal.SIGKILL)
                proc.wait(30)
                proc = start_server(data_dir, port, log)
            with first_connection(proc, port, log) as conn:
                diff = differences(rows_of(conn), want)
                assert diff == [], f"start {attempt}: {diff}"
                # Checkpoints by this server that leave the contents as they were.
                for stmt in ("INSERT INTO keyed VALUES (-1, 1)", "INSERT INTO plain VALUES (-1)",
                             "FLUSH", "DELETE FROM keyed WHERE k = -1",
                             "DELETE FROM plain WHERE v = -1", "FLUSH"):
                    conn.execute(stmt)  # type: ignore[arg-type]
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
