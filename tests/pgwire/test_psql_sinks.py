"""psql sees sinks: `\\d` lists them (as relations of kind r, psql has no sink kind),
`\\d name` shows their columns, and DROP SINK removes them."""

from __future__ import annotations

import shutil

import pytest

from tests.pgwire.conftest import RunningServer, needs_engine
from tests.pgwire.test_psql import psql

pytestmark = pytest.mark.skipif(shutil.which("psql") is None, reason="psql not installed")


@needs_engine
def test_d_lists_a_sink(server: RunningServer) -> None:
    r = psql(server, "-c", "CREATE TABLE sink_src (id INT, v VARCHAR)",
             "-c", "CREATE SINK psql_sink AS SELECT id, upper(v) AS u FROM sink_src "
                   "WITH (connector = 'blackhole')")
    assert r.returncode == 0, r.stderr
    r = psql(server, "-c", "\\d")
    assert r.returncode == 0, r.stderr
    assert "psql_sink" in r.stdout and "sink_src" in r.stdout
    r = psql(server, "-c", "\\d psql_sink")
    assert r.returncode == 0, r.stderr
    assert " id " in r.stdout and " u " in r.stdout
    r = psql(server, "-A", "-t", "-c", "SELECT sink, connector FROM sys.sinks")
    assert r.stdout.split() == ["psql_sink|blackhole"]
    r = psql(server, "-c", "DROP SINK psql_sink", "-c", "DROP TABLE sink_src", "-c", "\\d")
    assert r.returncode == 0, r.stderr
    assert "psql_sink" not in r.stdout
