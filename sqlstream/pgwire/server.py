"""The PostgreSQL wire protocol server: `sqlstream serve`.

One asyncio task per connection; statements run on a thread pool sized to the
connection limit, so a slow query blocks only its own session."""

from __future__ import annotations

import argparse
import asyncio
import functools
import ipaddress
import logging
import os
import signal
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence, TypeVar

from planner.errors import Error, InternalError
from sqlstream.pg_catalog import PgCatalog
from sqlstream.pgwire.auth import Verifier
from sqlstream.pgwire.connection import Connection
from sqlstream.result import StatementResult

log = logging.getLogger("sqlstream.pgwire")
R = TypeVar("R")


class Server:
    def __init__(self, db: Any, *, password: str | None = None,
                 max_connections: int = 100, allow_udf: bool = False) -> None:
        self.db = db
        self.max_connections = max_connections
        # Python UDFs are arbitrary code: network sessions may create them only when
        # the server was started with --allow-udf-over-network.
        self.allow_udf = allow_udf
        self.metrics_port: int | None = None  # bound port of /metrics, when served
        self.verifier = Verifier.from_password(password) if password else None
        self.executor = ThreadPoolExecutor(max_workers=max_connections + 4,
                                           thread_name_prefix="pgwire")
        self.connections: dict[int, Connection] = {}
        self.active = 0
        self._next_pid = os.getpid() % 10_000 * 1000
        self._server: asyncio.AbstractServer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        # The engine answers pg_catalog queries itself once it owns a PgCatalog; until
        # then the server answers them from its own.
        self.own_catalog = None if hasattr(db, "pg_catalog") else PgCatalog(db)

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the bound port (useful with port 0)."""
        self._server = await asyncio.start_server(self._accept, host, port,
                                                  reuse_address=True)
        return self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.append(task)
        try:
            await Connection(self, reader, writer).serve()
        except asyncio.CancelledError:
            pass  # server shutdown
        finally:
            self._tasks.remove(task)

    async def stop(self) -> None:
        """Stop accepting, end the open connections, release the threads."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        self.executor.shutdown(wait=False, cancel_futures=True)

    def register(self, conn: Connection) -> int:
        self._next_pid += 1
        self.connections[self._next_pid] = conn
        return self._next_pid

    def cancel(self, pid: int, secret: int) -> None:
        conn = self.connections.get(pid)
        if conn is not None and conn.secret == secret and conn.session is not None:
            conn.session.cancel()

    async def run_blocking(self, fn: Callable[..., R], *args: Any) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args))

    def execute_blocking(self, session: Any, sql: str,
                         params: Sequence[Any] | None) -> list[StatementResult]:
        if self.own_catalog is not None:
            answer = self.own_catalog.answer(sql, params)
            if answer is not None:
                return [answer]
        try:
            return session.execute(sql, list(params) if params is not None else None)
        except Error:
            raise
        except Exception as e:  # noqa: BLE001 - an engine fault fails the statement only
            log.exception("statement failed inside the engine")
            syntax = type(e).__name__ in ("ParseError", "TokenError")
            raise InternalError(str(e), "42601" if syntax else "XX000") from None

    async def execute(self, session: Any, sql: str,
                      params: Sequence[Any] | None) -> list[StatementResult]:
        return await self.run_blocking(self.execute_blocking, session, sql, params)


# ---------------------------------------------------------------- command line

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sqlstream serve",
                                description="Serve sqlstream over the PostgreSQL protocol.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=4566)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--data-dir", default="./sqlstream-data")
    where.add_argument("--memory", action="store_true", help="temporary database")
    p.add_argument("--password", default=None,
                   help="require SCRAM-SHA-256 (also $SQLSTREAM_PASSWORD)")
    p.add_argument("--metrics-port", type=int, default=None,
                   help="serve Prometheus metrics at http://127.0.0.1:PORT/metrics")
    p.add_argument("--max-connections", type=int, default=100)
    p.add_argument("--allow-udf-over-network", action="store_true",
                   help="let clients run CREATE FUNCTION (Python code runs in the server)")
    return p


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def serve(args: argparse.Namespace, ready: Callable[[int], None] | None = None,
                stop_event: asyncio.Event | None = None) -> int:
    from sqlstream.session import Database

    db = Database.open(None if args.memory else args.data_dir)
    server = Server(db, password=args.password, max_connections=args.max_connections,
                    allow_udf=bool(args.allow_udf_over_network))
    metrics: Any = None
    stop = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    if stop_event is None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, stop.set)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
    try:
        if args.metrics_port is not None:
            from sqlstream import metrics_http
            metrics = metrics_http.start(db, args.metrics_port)
            server.metrics_port = metrics.server_address[1]
            log.info("metrics on http://127.0.0.1:%d/metrics", server.metrics_port)
        port = await server.start(args.host, args.port)
        log.info("listening on %s:%d", args.host, port)
        if ready is not None:
            ready(port)
        await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        if metrics is not None:
            await asyncio.to_thread(metrics.shutdown)
            metrics.server_close()
        await server.stop()
        await asyncio.to_thread(db.close)
    return 0


def _leave_running_statements(code: int) -> None:
    """Exit now if a statement thread still runs (a long parse cannot be interrupted):
    the database is closed and its last checkpoint committed, and the interpreter would
    otherwise wait for that thread before exiting."""
    busy = [t for t in threading.enumerate()
            if t is not threading.main_thread() and t.is_alive() and not t.daemon]
    if busy:
        log.warning("stopping with %d statement(s) still running", len(busy))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_server(argv: list[str]) -> int:
    """Entry point of `sqlstream serve ...`; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.password is None:
        args.password = os.environ.get("SQLSTREAM_PASSWORD") or None
    if not _is_loopback(args.host) and not args.password:
        print("error: refusing to listen on a non-loopback address without --password "
              "(or SQLSTREAM_PASSWORD)", file=__import__("sys").stderr)
        return 2
    if args.max_connections < 1:
        print("error: --max-connections must be at least 1", file=__import__("sys").stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        code = asyncio.run(serve(args))
    except KeyboardInterrupt:
        code = 0
    except OSError as e:
        print(f"error: {e}", file=__import__("sys").stderr)
        return 1
    _leave_running_statements(code)
    return code
