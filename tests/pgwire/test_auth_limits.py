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


# ---------------------------------------------------------------- before authentication

def _startup_packet() -> bytes:
    body = (196608).to_bytes(4, "big") + b"user\0root\0database\0dev\0\0"
    return (len(body) + 4).to_bytes(4, "big") + body


def _open_silent(port: int, n: int, send_startup: bool) -> list[socket.socket]:
    """n sockets that connect (and send a startup packet, then read the password
    request) and then never answer."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        socks.append(s)
        if send_startup:
            s.sendall(_startup_packet())
            assert s.recv(1) == b"R"  # the password request
    return socks


def _closed_within(s: socket.socket, seconds: float) -> bytes:
    """What the server sends before it closes the socket (fails if it stays open)."""
    s.settimeout(seconds)
    data = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return data
        except TimeoutError:
            break
        if not chunk:
            return data
        data += chunk
    raise AssertionError(f"the server kept the socket open for {seconds} s")


def test_silent_sockets_do_not_keep_a_client_out() -> None:
    srv = start_server("--password", "pw", "--max-connections", "3")
    socks: list[socket.socket] = []
    try:
        socks = _open_silent(srv.port, 25, send_startup=False)
        socks += _open_silent(srv.port, 25, send_startup=True)
        start = time.monotonic()
        clients = [psycopg.connect(srv.dsn(), autocommit=True) for _ in range(3)]
        elapsed = time.monotonic() - start
        assert elapsed < 1.5, f"3 clients took {elapsed:.2f} s to log in"
        assert [c.execute("SELECT 1").fetchone() for c in clients] == [(1,)] * 3
        with pytest.raises(psycopg.OperationalError, match="too many clients"):
            psycopg.connect(srv.dsn())  # the authenticated slots are the bound
        for c in clients:
            c.close()
    finally:
        for s in socks:
            s.close()
        srv.close()


def test_pending_pool_is_bounded() -> None:
    srv = start_server("--password", "pw", "--max-pending-connections", "4")
    socks: list[socket.socket] = []
    try:
        socks = _open_silent(srv.port, 4, send_startup=True)
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as extra:
            reply = _closed_within(extra, 5)
        assert b"53300" in reply and b"authenticating" in reply
        for s in socks:
            s.close()
        socks = []
        deadline = time.monotonic() + 5
        while True:  # the server notices the closed sockets asynchronously
            try:
                with psycopg.connect(srv.dsn()) as c:
                    assert c.execute("SELECT 2").fetchone() == (2,)
                break
            except psycopg.OperationalError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        for s in socks:
            s.close()
        srv.close()


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


PASSWORD = "file pw 7d1e"


@pytest.fixture(scope="module")
def served_process(tmp_path_factory: pytest.TempPathFactory):
    """`sqlstream serve` in its own process, the password from a file, a short
    authentication timeout."""
    secret = tmp_path_factory.mktemp("pw") / "password"
    secret.write_text(PASSWORD + "\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = ("import sys; from sqlstream.pgwire.server import run_server; "
            "sys.exit(run_server(sys.argv[1:]))")
    env = dict(os.environ)
    env.pop("SQLSTREAM_PASSWORD", None)
    proc = subprocess.Popen([sys.executable, "-c", code, "--memory", "--port", str(port),
                             "--password-file", str(secret), "--authentication-timeout", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    dsn = f"host=127.0.0.1 port={port} user=root dbname=dev connect_timeout=5"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(dsn, password=PASSWORD) as c:
                    c.execute("SELECT 1")
                break
            except psycopg.OperationalError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.1)
        yield proc, port, dsn
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def test_password_file_is_not_in_the_process_arguments(served_process) -> None:
    proc, _port, dsn = served_process
    with open(f"/proc/{proc.pid}/cmdline", "rb") as f:
        cmdline = f.read()
    assert b"--password-file" in cmdline and PASSWORD.encode() not in cmdline
    with psycopg.connect(dsn, password=PASSWORD) as c:
        assert c.execute("SELECT 5").fetchone() == (5,)


def test_wrong_password_is_answered_after_a_delay(served_process) -> None:
    _proc, _port, dsn = served_process
    start = time.monotonic()
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(dsn, password="wrong")
    assert 0.9 <= time.monotonic() - start < 2.5
    start = time.monotonic()
    with psycopg.connect(dsn, password=PASSWORD):
        pass
    assert time.monotonic() - start < 0.9  # the right password is not delayed


def test_authentication_times_out(served_process) -> None:
    _proc, port, _dsn = served_process
    silent = _open_silent(port, 2, send_startup=False) + _open_silent(port, 2, True)
    start = time.monotonic()
    try:
        for s in silent:
            _closed_within(s, 6)
    finally:
        for s in silent:
            s.close()
    assert 1.5 <= time.monotonic() - start < 6  # --authentication-timeout 2


def test_oversized_message_before_authentication(served_process) -> None:
    """A huge SASL length ends that connection with 08P01 without the body being read,
    and the server's memory does not grow."""
    proc, port, dsn = served_process
    before = _rss_kb(proc.pid)
    for _ in range(10):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(_startup_packet())
            assert s.recv(1) == b"R"
            s.sendall(b"p" + (60 * 1024 * 1024).to_bytes(4, "big") + b"x" * 65536)
            reply = _closed_within(s, 5)
            assert b"08P01" in reply
    for huge_startup in ((60 * 1024 * 1024).to_bytes(4, "big") + b"\0" * 4096,):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(huge_startup)
            assert b"08P01" in _closed_within(s, 5)
    grown = _rss_kb(proc.pid) - before
    assert grown < 20 * 1024, f"server RSS grew by {grown} KB"
    with psycopg.connect(dsn, password=PASSWORD) as c:
        assert c.execute("SELECT 6").fetchone() == (6,)


def test_password_from_the_environment() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = ("import sys; from sqlstream.pgwire.server import run_server; "
            "sys.exit(run_server(sys.argv[1:]))")
    proc = subprocess.Popen([sys.executable, "-c", code, "--memory", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, SQLSTREAM_PASSWORD="env pw"))
    dsn = f"host=127.0.0.1 port={port} user=root dbname=dev connect_timeout=5"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(dsn, password="env pw") as c:
                    assert c.execute("SELECT 7").fetchone() == (7,)
                break
            except psycopg.OperationalError as e:
                assert "password authentication failed" not in str(e)
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(dsn, password="other")
        with open(f"/proc/{proc.pid}/cmdline", "rb") as f:
            assert b"env pw" not in f.read()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
