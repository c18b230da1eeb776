"""A real server on a free loopback port, run in a background thread, for client tests."""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
from dataclasses import dataclass
from typing import Iterator

import pytest
from psycopg.conninfo import make_conninfo

from sqlstream.pgwire.server import _parser, serve
from sqlstream import session as engine

# The engine stand-in runs statements on DuckDB without SET/SHOW/cancel; tests of those
# engine features run once the streaming engine provides them.
ENGINE_STAND_IN = not hasattr(engine.Database, "catalog_snapshot")
needs_engine = pytest.mark.skipif(ENGINE_STAND_IN, reason="needs the streaming engine")


@dataclass
class RunningServer:
    port: int
    password: str | None
    loop: asyncio.AbstractEventLoop
    stop: asyncio.Event
    thread: threading.Thread

    def dsn(self, **extra: str) -> str:
        parts = {"host": "127.0.0.1", "port": str(self.port), "user": "root",
                 "dbname": "dev", "connect_timeout": "5"}
        if self.password:
            parts["password"] = self.password
        parts.update(extra)
        return make_conninfo(**parts)

    def env(self) -> dict[str, str]:
        env = dict(os.environ, PGCONNECT_TIMEOUT="5")
        env.pop("PGPASSWORD", None)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)


def start_server(*argv: str) -> RunningServer:
    args: argparse.Namespace = _parser().parse_args(["--memory", "--port", "0", *argv])
    ready = threading.Event()
    box: dict[str, object] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()
        box["loop"], box["stop"] = loop, stop

        def on_ready(port: int) -> None:
            box["port"] = port
            ready.set()

        try:
            loop.run_until_complete(serve(args, on_ready, stop))
        except BaseException as e:  # noqa: BLE001 - surfaced to the test below
            box["error"] = e
            ready.set()
        finally:
            loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not ready.wait(20) or "error" in box:
        raise RuntimeError(f"server did not start: {box.get('error')}")
    return RunningServer(box["port"], args.password, box["loop"], box["stop"],  # type: ignore[arg-type]
                         thread)


@pytest.fixture(scope="session")
def server() -> Iterator[RunningServer]:
    srv = start_server()
    yield srv
    srv.close()
