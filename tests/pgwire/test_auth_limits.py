"""Authentication, the connection bound, cancel requests and process lifecycle."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import asyncpg
import psycopg
import pytest

from sqlstream.pgwire.server import run_server
from tests.pgwire.conftest import RunningServer, needs_engine, start_server


@pytest.fixture(scope="module")
def secured():
    srv = start_server("--password", "s3cret pw")
    yield srv
    srv.close()


def test_scram_right_password(secured: RunningServer) -> None:
    with psycopg.connect(secured.dsn()) as c:  # libpq sends an empty SCRAM user name
        assert c.execute("SELECT 1 + 1").fetchone() == (2,)
    r = subprocess.run(["psql", "-X", "-h", "127.0.0.1", "-p", str(secured.port), "-U", "root",
                        "-d", "dev", "-A", "-t", "-c", "SELECT 3"], capture_output=True,
                       text=True, timeout=30, env=secured.env())
    assert r.stdout.strip() == "3", r.stderr


def test_scram_wrong_password(secured: RunningServer) -> None:
    async def body() -> None:
        with pytest.raises(asyncpg.InvalidPasswordError) as info:
            await asyncpg.connect(host="127.0.0.1", port=secured.port, user="root",
                                  database="dev", password="wrong", timeout=5)
        assert info.value.sqlstate == "28P01"

    asyncio.run(asyncio.wait_for(body(), 20))
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(secured.dsn(password="wrong"))


def test_missing_password_is_refused(secured: RunningServer) -> None:
    env = dict(secured.env())
    env.pop("PGPASSWORD", None)
    r = subprocess.run(["psql", "-X", "-w", "-h", "127.0.0.1", "-p", str(secured.port),
                        "-U", "root", "-d", "dev", "-c", "SELECT 1"], capture_output=True,
                       text=True, timeout=30, env=env)
    assert r.returncode != 0


def test_connection_limit() -> None:
    srv = start_server("--max-connections", "2")
    try:
        a = psycopg.connect(srv.dsn(), autocommit=True)
        b = psycopg.connect(srv.dsn(), autocommit=True)
        with pytest.raises(psycopg.OperationalError) as info:
            psycopg.connect(srv.dsn())
        assert "too many clients" in str(info.value)
        a.close()
        deadline = time.monotonic() + 5
        while True:  # the server notices the closed connection asynchronously
            try:
                c = psycopg.connect(srv.dsn(), autocommit=True)
                break
            except psycopg.OperationalError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert c.execute("SELECT 1").fetchone() == (1,)
        assert b.execute("SELECT 2").fetchone() == (2,)
        c.close()
        b.close()
    finally:
        srv.close()


def test_cancel_with_wrong_key_is_ignored(server: RunningServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            s.sendall((16).to_bytes(4, "big") + (80877102).to_bytes(4, "big")
                      + c.info.backend_pid.to_bytes(4, "big") + (12345).to_bytes(4, "big"))
            assert s.recv(10) == b""  # the server just closes a cancel connection
        assert c.execute("SELECT 4").fetchone() == (4,)


@needs_engine
def test_cancel_request_stops_running_statement(server: RunningServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        # cancel_safe: the blocking cancel() keeps the GIL while it waits for the reply,
        # and the server under test runs in this same process.
        timer = threading.Timer(0.1, c.cancel_safe)
        timer.start()
        start = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled):  # several seconds to the end
            c.execute("SELECT count(*) FROM generate_series(1, 40000) a(x), "
                      "generate_series(1, 40000) b(y) WHERE (a.x + b.y) % 7 = 3")
        assert time.monotonic() - start < 3
        assert c.execute("SELECT 1").fetchone() == (1,)


def test_refuses_public_address_without_password(monkeypatch) -> None:
    monkeypatch.delenv("SQLSTREAM_PASSWORD", raising=False)
    assert run_server(["--host", "0.0.0.0", "--memory"]) == 2


def test_sigterm_exits_cleanly() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = "import sys; from sqlstream.pgwire.server import run_server; sys.exit(run_server(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", code, "--memory", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, SQLSTREAM_PASSWORD=""))
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with psycopg.connect(f"host=127.0.0.1 port={port} user=root dbname=dev "
                                     "connect_timeout=2") as c:
                    assert c.execute("SELECT 1").fetchone() == (1,)
                break
            except psycopg.OperationalError:
                assert time.monotonic() < deadline, proc.stderr.read() if proc.poll() else ""
                time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
