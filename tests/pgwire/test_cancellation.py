"""One client cannot stall the others: a client that disconnects mid-query has its query
cancelled, SIGTERM stops a server that is running long queries, and a huge literal in
one session leaves another session's SELECT 1 fast. The server runs as its own process
(`sqlstream serve`), so its CPU time and memory are its own."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from tests.netutil import free_port

# Billions of rows: runs for minutes unless it is cancelled, using the CPU all along.
ENDLESS = ("SELECT count(*) FROM generate_series(1, 2000000) AS a(x) "
           "CROSS JOIN generate_series(1, 2000000) AS b(y) WHERE (x * y) % 7 = 3")


@dataclass
class ServerProcess:
    proc: subprocess.Popen
    port: int

    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=root dbname=dev connect_timeout=5"

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def cpu_rate(self, seconds: float = 1.0) -> float:
        """CPU seconds per second the server used over the next `seconds`."""
        before = self.cpu_seconds()
        time.sleep(seconds)
        return (self.cpu_seconds() - before) / seconds

    def rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def start_process() -> ServerProcess:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "repl.main", "serve", "--memory", "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return ServerProcess(proc, port)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("sqlstream serve did not start")
            time.sleep(0.1)


def stop_process(srv: ServerProcess) -> None:
    if srv.proc.poll() is None:
        srv.proc.kill()
        srv.proc.wait(10)


@pytest.fixture(scope="module")
def served() -> Iterator[ServerProcess]:
    srv = start_process()
    yield srv
    stop_process(srv)


def raw_session(port: int) -> socket.socket:
    """A protocol-level client: started up and ready for a query."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    params = b"user\0root\0database\0dev\0\0"
    sock.sendall(struct.pack("!ii", 8 + len(params), 196608) + params)
    read_until_ready(sock)
    return sock


def read_until_ready(sock: socket.socket) -> bytes:
    data = b""
    while b"Z\0\0\0\x05" not in data:
        chunk = sock.recv(65536)
        assert chunk, "server closed the connection"
        data += chunk
    return data


def send_query(sock: socket.socket, sql: str) -> None:
    body = sql.encode() + b"\0"
    sock.sendall(b"Q" + struct.pack("!i", 4 + len(body)) + body)


def select_1_seconds(srv: ServerProcess) -> float:
    with psycopg.connect(srv.dsn(), autocommit=True) as conn:
        start = time.monotonic()
        assert conn.execute("SELECT 1").fetchone() == (1,)
        return time.monotonic() - start


def wait_busy(srv: ServerProcess) -> None:
    """Wait until the server is visibly computing (at least half a core)."""
    deadline = time.monotonic() + 15
    while srv.cpu_rate(0.5) < 0.5:
        assert time.monotonic() < deadline, "the query never got busy"


def wait_idle(srv: ServerProcess, timeout: float = 10) -> float:
    """Wait until the server uses next to no CPU; returns how long that took."""
    start = time.monotonic()
    while srv.cpu_rate(0.5) > 0.2:
        assert time.monotonic() - start < timeout, "the server stayed busy"
    return time.monotonic() - start


def test_disconnect_mid_query_cancels_it(served: ServerProcess) -> None:
    wait_idle(served)
    sock = raw_session(served.port)
    send_query(sock, ENDLESS)
    wait_busy(served)
    sock.close()  # the client goes away without a word
    assert wait_idle(served) < 5
    assert select_1_seconds(served) < 2


def test_several_abandoned_queries_all_stop(served: ServerProcess) -> None:
    wait_idle(served)
    socks = [raw_session(served.port) for _ in range(3)]
    for s in socks:
        send_query(s, ENDLESS)
    wait_busy(served)
    for s in socks:
        s.close()
    assert wait_idle(served) < 5


def test_disconnect_while_rows_stream_stops_the_query(served: ServerProcess) -> None:
    """A client that reads a few rows of a huge result and then leaves."""
    wait_idle(served)
    sock = raw_session(served.port)
    send_query(sock, "SELECT x, repeat('y', 100) FROM generate_series(1, 1000000000) AS t(x)")
    got = b""
    while len(got) < 1_000_000:
        got += sock.recv(65536)
    sock.close()
    assert wait_idle(served) < 5
    assert select_1_seconds(served) < 2


def test_huge_literal_does_not_stall_other_sessions(served: ServerProcess) -> None:
    size = 20_000_000
    done: dict[str, object] = {}

    def big() -> None:
        with psycopg.connect(served.dsn(), autocommit=True) as conn:
            done["value"] = conn.execute(
                "SELECT length('" + "x$" * (size // 2) + "')").fetchone()

    with psycopg.connect(served.dsn(), autocommit=True) as conn:
        thread = threading.Thread(target=big)
        thread.start()
        slowest = 0.0
        while thread.is_alive():
            start = time.monotonic()
            assert conn.execute("SELECT 1").fetchone() == (1,)
            slowest = max(slowest, time.monotonic() - start)
            time.sleep(0.01)
        thread.join()
    assert done["value"] == (size,)
    assert slowest < 1.0


def test_big_result_does_not_stall_other_sessions(served: ServerProcess) -> None:
    """Rows are read and encoded off the event loop: while a million rows stream to one
    client, another one's SELECT 1 stays fast."""
    done: dict[str, int] = {}

    def big() -> None:
        with psycopg.connect(served.dsn(), autocommit=True) as conn:
            rows = conn.execute("SELECT x, 'row ' || x FROM generate_series(1, 1000000) "
                                "AS t(x)").fetchall()
            done["rows"] = len(rows)

    with psycopg.connect(served.dsn(), autocommit=True) as conn:
        thread = threading.Thread(target=big)
        thread.start()
        slowest, samples = 0.0, 0
        while thread.is_alive():
            start = time.monotonic()
            assert conn.execute("SELECT 1").fetchone() == (1,)
            slowest = max(slowest, time.monotonic() - start)
            samples += 1
            time.sleep(0.02)
        thread.join()
    assert done["rows"] == 1_000_000
    assert samples > 5
    assert slowest < 1.0


def test_sigterm_stops_the_server_while_queries_run() -> None:
    srv = start_process()
    try:
        socks = [raw_session(srv.port) for _ in range(2)]
        for s in socks:
            send_query(s, ENDLESS)
        wait_busy(srv)
        start = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(10)
        assert time.monotonic() - start < 5
        assert srv.proc.returncode == 0
        for s in socks:
            s.close()
    finally:
        stop_process(srv)


@pytest.mark.slow
def test_memory_stays_bounded_while_five_million_rows_stream(served: ServerProcess) -> None:
    """The client reads slowly in small steps; the server holds only a chunk or so."""
    wait_idle(served)
    before = served.rss_mb()
    peak = before
    rows = 0
    with psycopg.connect(served.dsn(), autocommit=True) as conn:
        with conn.cursor() as cur:
            for row in cur.stream("SELECT x, 'row ' || x FROM generate_series(1, 5000000) "
                                  "AS t(x)"):
                rows += 1
                if rows % 250_000 == 0:
                    peak = max(peak, served.rss_mb())
    assert rows == 5_000_000
    assert peak - before < 150, (before, peak)
