"""The PostgreSQL server the differential tests compare against: one per test session.

Without the server binaries these tests skip locally; in CI (CI=true) they fail, since
CI installs Debian's `postgresql` package (.ci/run)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.abc import Buffer
from psycopg.adapt import Loader

from tests.postgres.server import PostgresServer, find_bindir


class IntervalText(Loader):
    """Intervals as PostgreSQL's text: a timedelta would fold months into days."""

    def load(self, data: Buffer) -> str:
        return bytes(data).decode()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    bindir = find_bindir()
    if bindir is None:
        reason = ("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in "
                  "/usr/lib/postgresql/*/bin: install Debian's `postgresql` package")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    server = PostgresServer.start(bindir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def pg(pg_server: PostgresServer) -> Iterator[psycopg.Connection]:
    """An autocommit connection in a fresh schema, dropped afterwards."""
    with psycopg.connect(pg_server.conninfo, autocommit=True) as conn:
        conn.adapters.register_loader("interval", IntervalText)
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
        conn.execute("SET TimeZone = 'UTC'; SET extra_float_digits = 3")
        yield conn
