"""Concurrent sessions' DML log writes are committed together (group commit), and
every statement acknowledged to any of them survives a SIGKILL: inserts counted per
client, and a mix of INSERT / UPDATE / DELETE by key whose every acknowledged write
is checked, each client's one statement in flight whole or not at all, and both
views equal to a recomputation over the table after the restart."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg

from tests.netutil import free_port
from tests.sqlstream.test_bad_ddl import _serve, _stop


def test_acknowledged_writes_of_concurrent_clients_survive_sigkill(tmp_path: Path) -> None:
    port = free_port()
    dsn = f"host=127.0.0.1 port={port} user=root dbname=dev connect_timeout=5"
    proc = _serve(tmp_path, port)
    acked: list[list[int]] = [[] for _ in range(8)]
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE g (k int PRIMARY KEY, c int)")
            conn.execute("CREATE MATERIALIZED VIEW gv AS SELECT c, count(*) AS n FROM g GROUP BY c")
        stop = time.monotonic() + 2.5

        def client(c: int) -> None:
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    k = c * 1_000_000
                    while time.monotonic() < stop + 5:
                        k += 1
                        conn.execute("INSERT INTO g VALUES (%s, %s)", (k, c))
                        acked[c].append(k)
            except psycopg.Error:
                pass  # the server was killed

        threads = [threading.Thread(target=client, args=(c,)) for c in range(8)]
        for t in threads:
            t.start()
        while time.monotonic() < stop:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        for t in threads:
            t.join(20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert sum(map(len, acked)) > 100
    proc = _serve(tmp_path, port)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("FLUSH")  # replayed statements are read after a checkpoint
            for c in range(8):  # each client's keys are consecutive: count, not list
                if acked[c]:
                    (n,) = conn.execute("SELECT count(*) FROM g WHERE c = %s AND k <= %s",
                                        (c, acked[c][-1])).fetchone()
                    assert n == len(acked[c]), (c, n, len(acked[c]))
            (total,) = conn.execute("SELECT count(*) FROM g").fetchone()
            assert total >= sum(map(len, acked))
            (in_view,) = conn.execute("SELECT sum(n) FROM gv").fetchone()
            assert in_view == total
    finally:
        _stop(proc)


ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 8
SETUP = [
    "CREATE TABLE items (id INT PRIMARY KEY, grp INT NOT NULL, qty INT NOT NULL)",
    ("CREATE MATERIALIZED VIEW by_grp AS SELECT grp, count(*) AS n, sum(qty) AS total "
     "FROM items GROUP BY grp"),
    "CREATE MATERIALIZED VIEW big AS SELECT id, qty * 2 AS dbl FROM items WHERE qty > 50",
]


def start_server(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sqlstream", "serve", "--port",
                                 str(port), "--data-dir", str(data_dir)],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            psycopg.connect(dsn(port), connect_timeout=2).close()
            return proc
        except psycopg.OperationalError:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)


def dsn(port: int) -> str:
    return f"host=127.0.0.1 port={port} user=test dbname=dev"


class Writer(threading.Thread):
    """Sends DML on its own keys (id % CLIENTS == index) until the connection breaks;
    `acked` is each key's acknowledged qty (None: deleted), `in_flight` the (key, qty)
    of the statement sent but not acknowledged."""

    def __init__(self, port: int, index: int) -> None:
        super().__init__(daemon=True)
        self.port, self.index = port, index
        self.rnd = random.Random(index)
        self.acked: dict[int, int | None] = {}
        self.in_flight: tuple[int, int | None] | None = None
        self.count = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        conn = psycopg.connect(dsn(self.port), autocommit=True)
        live: list[int] = []
        n = 0
        try:
            while True:
                r = self.rnd.random()
                if not live or r < 0.45:
                    key, qty = n * CLIENTS + self.index, self.rnd.randint(1, 100)
                    n += 1
                    sql, params = "INSERT INTO items VALUES (%s, %s, %s)", (key, key % 7, qty)
                elif r < 0.85:
                    key, qty = self.rnd.choice(live), self.rnd.randint(1, 100)
                    sql, params = "UPDATE items SET qty = %s WHERE id = %s", (qty, key)
                else:
                    key, qty = self.rnd.choice(live), None
                    sql, params = "DELETE FROM items WHERE id = %s", (key,)
                self.in_flight = (key, qty)
                conn.execute(sql, params)
                self.in_flight = None
                self.acked[key] = qty
                self.count += 1
                if qty is None:
                    live.remove(key)
                elif key not in live:
                    live.append(key)
        except psycopg.OperationalError:
            pass  # the server was killed
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.error = e
        finally:
            with contextlib.suppress(Exception):
                conn.close()


def test_acknowledged_dml_survives_sigkill_over_the_wire(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "server.log"
    port = free_port()
    proc = start_server(data, port, log)
    try:
        with psycopg.connect(dsn(port), autocommit=True) as conn:
            for stmt in SETUP:
                conn.execute(stmt)
        writers = [Writer(port, i) for i in range(CLIENTS)]
        for w in writers:
            w.start()
        time.sleep(random.Random(os.getpid()).uniform(1.5, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        for w in writers:
            w.join(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    for w in writers:
        assert w.error is None, repr(w.error)
    assert sum(w.count for w in writers) > 100, "too few statements before the kill"

    port = free_port()
    proc = start_server(data, port, log)
    try:
        with psycopg.connect(dsn(port), autocommit=True) as conn:
            conn.execute("FLUSH")
            got = dict(conn.execute("SELECT id, qty FROM items").fetchall())
            rows = {tuple(map(int, r)) for r in
                    conn.execute("SELECT grp, n, total FROM by_grp").fetchall()}
            big = {tuple(map(int, r)) for r in conn.execute("SELECT id, dbl FROM big").fetchall()}
            # Writes go on after recovery.
            conn.execute("INSERT INTO items VALUES (-1, 0, 99)")
            conn.execute("FLUSH")
            assert conn.execute("SELECT dbl FROM big WHERE id = -1").fetchall() == [(198,)]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)

    for w in writers:
        for key, qty in w.acked.items():
            if w.in_flight is not None and w.in_flight[0] == key:
                assert got.get(key) in (qty, w.in_flight[1]), (key, got.get(key), qty)
            else:
                assert got.get(key) == qty, (key, got.get(key), qty)
        if w.in_flight is not None and w.in_flight[0] not in w.acked:  # an INSERT
            assert got.get(w.in_flight[0]) in (None, w.in_flight[1])
    expected_keys = {k for w in writers for k, q in w.acked.items() if q is not None}
    unacked = set(got) - expected_keys
    assert unacked <= {w.in_flight[0] for w in writers if w.in_flight}, unacked

    grp_of = {k: k % 7 for k in got}
    n, total = Counter(grp_of[k] for k in got), Counter()
    for k, q in got.items():
        total[grp_of[k]] += q
    assert rows == {(g, n[g], total[g]) for g in n}
    assert big == {(k, q * 2) for k, q in got.items() if q > 50}
