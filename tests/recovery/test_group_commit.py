"""Concurrent sessions' DML log writes are committed together (group commit), and
every statement acknowledged to any of them survives a SIGKILL."""

from __future__ import annotations

import os
import signal
import threading
import time
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
