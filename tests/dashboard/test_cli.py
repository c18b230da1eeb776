"""Serving the dashboard from the command line: `sqlstream dashboard` on an embedded
database (a real process, stopped with SIGTERM) and `sqlstream serve --dashboard-port`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest

pytest.importorskip("starlette", reason="the dashboard extra (starlette) is not installed")
pytest.importorskip("uvicorn", reason="the dashboard extra (uvicorn) is not installed")

from tests.dashboard.http import get_json, request
from tests.netutil import free_port
from tests.pgwire.conftest import start_server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _command(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from repl.main import main; sys.exit(main())",
            *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("SQLSTREAM_PASSWORD", None)
    return env


def test_dashboard_command_opens_the_data_dir_and_serves_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = str(tmp_path / "data")
    port = free_port()
    setup = ("CREATE TABLE t (k INT); CREATE MATERIALIZED VIEW v AS SELECT k, count(*) AS n "
             "FROM t GROUP BY k; INSERT INTO t VALUES (1), (2), (2); FLUSH")
    proc = subprocess.Popen(_command("dashboard", "--data-dir", data, "--port", str(port),
                                     "-c", setup),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(), cwd=str(tmp_path))
    try:
        assert proc.stdout is not None
        printed = [proc.stdout.readline() for _ in range(5)]  # 4 command tags, then the URL
        assert printed[:4] == ["CREATE TABLE\n", "CREATE MATERIALIZED VIEW\n", "INSERT 0 3\n",
                               "FLUSH\n"], printed
        assert f"dashboard on http://127.0.0.1:{port}/" in printed[4], printed
        rels = {r["name"]: r for r in get_json(f"http://127.0.0.1:{port}/api/relations")}
        assert rels["t"]["rows"] == 3 and rels["v"]["rows"] == 2
        assert "GROUP BY k" in get_json(f"http://127.0.0.1:{port}/api/views/v")["definition"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    # The database was closed cleanly: opened again, its view is there, with its rows.
    from sqlstream.database import Database
    db = Database.open(data)
    try:
        session = db.session()
        session.execute("FLUSH")  # the view's actors have started and filled its serving copy
        assert session.execute("SELECT count(*) FROM v")[0].rows == [(2,)]
    finally:
        db.close()


def test_dashboard_command_refuses_a_public_address_without_password() -> None:
    done = subprocess.run(_command("dashboard", "--memory", "--host", "0.0.0.0"),
                          capture_output=True, text=True, env=_env(), timeout=60,
                          check=False)
    assert done.returncode == 2 and "non-loopback" in done.stderr


def test_dashboard_command_reports_a_taken_port(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(_command("dashboard", "--memory", "--port", str(port)),
                              capture_output=True, text=True, env=_env(), timeout=60,
                              check=False)
    assert done.returncode == 1 and "error:" in done.stderr and "Traceback" not in done.stderr


def test_serve_dashboard_port_asks_for_the_servers_password() -> None:
    port = free_port()
    srv = start_server("--dashboard-port", str(port), "--password", "pw")
    url = f"http://127.0.0.1:{port}/"
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as conn:
            conn.execute("CREATE TABLE t (k INT)")
            conn.execute("INSERT INTO t VALUES (1), (2)")
            conn.execute("FLUSH")
        assert request(url + "api/relations")[0] == 401
        assert request(url, password="pw")[0] == 200
        rels = get_json(url + "api/relations", password="pw")
        assert [(r["name"], r["rows"]) for r in rels] == [("t", 2)]
    finally:
        srv.close()
    deadline = time.monotonic() + 5
    while request_fails(url) is False:
        assert time.monotonic() < deadline, "the dashboard outlived the server"
        time.sleep(0.1)


def request_fails(url: str) -> bool:
    try:
        request(url)
    except OSError:
        return True
    return False


def test_serve_refuses_a_public_dashboard_without_password() -> None:
    from sqlstream.pgwire.server import run_server
    assert run_server(["--memory", "--dashboard-port", "0", "--dashboard-host", "0.0.0.0"]) == 2
