"""The shell and `-c` against a real `sqlstream serve` over the wire protocol."""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from repl.backend import RemoteBackend
from repl.shell import Shell
from tests.netutil import free_port


def _command() -> list[str]:
    exe = shutil.which("sqlstream")
    return [exe] if exe else [sys.executable, "-m", "repl.main"]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    cwd = tmp_path_factory.mktemp("serve")
    proc = subprocess.Popen([*_command(), "serve", "--memory", "--port", str(port)], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("sqlstream serve did not start")
                time.sleep(0.1)
        yield f"postgresql://root@127.0.0.1:{port}/dev"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_connect_runs_statements(server_url: str, tmp_path: Path) -> None:
    env = dict(os.environ, SQLSTREAM_HISTFILE=str(tmp_path / "h"))
    proc = subprocess.run([*_command(), "connect", server_url, "-c",
                           "SELECT 1 AS a, 'x' AS b", "-c", "SELECT * FROM nowhere_table"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.stdout == " a | b \n---+---\n 1 | x\n(1 row)\n\n"
    assert proc.returncode == 1
    assert proc.stderr.startswith("ERROR:  ")


def test_shell_over_the_wire(server_url: str) -> None:
    backend = RemoteBackend(server_url)
    out, err = io.StringIO(), io.StringIO()
    try:
        shell = Shell(backend, out=out, err=err, tty=False)
        shell.handle("CREATE TABLE remote_t (k int PRIMARY KEY, v varchar);")
        shell.handle("SELECT k FROM remote_t;")
        shell.handle("\\d remote_t")
        names = [r.name for r in shell.catalog.relations]
    finally:
        backend.close()
    assert "remote_t" in names
    assert " k \n---\n(0 rows)\n" in out.getvalue()
    assert 'Table "public.remote_t"' in out.getvalue()
    assert " k      | integer | not null\n" in out.getvalue()
    assert err.getvalue() == ""


def test_connect_failure_is_reported() -> None:
    port = free_port()
    proc = subprocess.run([*_command(), "--connect", f"postgresql://root@127.0.0.1:{port}/dev",
                           "-c", "SELECT 1"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("ERROR:  could not connect to server")
