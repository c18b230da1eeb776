"""The PostgreSQL wire protocol server: `sqlstream serve`.

One asyncio task per connection; statements run on a thread pool sized to the
connection limit, so a slow query blocks only its own session."""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import signal
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence, TypeVar

from planner.errors import Error, InternalError
from sqlstream.cli import is_loopback
from sqlstream.pg_catalog import PgCatalog
from sqlstream.pgwire.auth import Verifier
from sqlstream.pgwire.connection import Connection
from sqlstream.result import StatementResult

log = logging.getLogger("sqlstream.pgwire")
R = TypeVar("R")


AUTHENTICATION_TIMEOUT = 10.0
AUTH_DELAY = 1.0
MAX_PENDING = 256


class Server:
    def __init__(self, db: Any, *, password: str | None = None,
                 max_connections: int = 100, allow_udf: bool = False,
                 fs_roots: Sequence[str] = (),
                 authentication_timeout: float = AUTHENTICATION_TIMEOUT,
                 auth_delay: float = AUTH_DELAY, max_pending: int = MAX_PENDING) -> None:
        self.db = db
        self.max_connections = max_connections
        # Python UDFs are arbitrary code: network sessions may create them only when
        # the server was started with --allow-udf-over-network.
        self.allow_udf = allow_udf
        # Folders below which network sessions may create posix_fs sources
        # (--allow-fs-root), resolved once; none: no such sources over the network.
        self.fs_roots = tuple(os.path.realpath(r) for r in fs_roots)
        # Connections not yet authenticated hold one of `max_pending` slots of their own
        # for at most `authentication_timeout` seconds; a wrong password is answered
        # after `auth_delay` seconds (within that time).
        self.authentication_timeout = authentication_timeout
        self.auth_delay = min(auth_delay, authentication_timeout / 2)
        self.max_pending = max_pending
        self.pending = 0
        self.metrics_port: int | None = None  # bound port of /metrics, when served
        self.dashboard_port: int | None = None  # bound port of the dashboard, when served
        self.verifier = Verifier.from_password(password) if password else None
        self.executor = ThreadPoolExecutor(max_workers=max_connections + 4,
                                           thread_name_prefix="pgwire")
        self.connections: dict[int, Connection] = {}
        self.stopping = False  # set by stop(): connections end without closing work
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
        """Stop accepting, cancel the running statements, end the open connections,
        release the threads."""
        self.stopping = True
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections.values()):
            if conn.session is not None:
                conn.session.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), 5)
            except asyncio.TimeoutError:
                log.warning("connections still open at shutdown")
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
    secret = p.add_mutually_exclusive_group()
    secret.add_argument("--password", default=None,
                        help="require SCRAM-SHA-256 with this password (visible to other "
                        "local users in the process list: prefer --password-file or "
                        "$SQLSTREAM_PASSWORD)")
    secret.add_argument("--password-file", default=None, metavar="FILE",
                        help="read the password from the first line of FILE")
    p.add_argument("--authentication-timeout", type=float, default=AUTHENTICATION_TIMEOUT,
                   metavar="SECONDS", help="time a client has to log in (default %(default)s)")
    p.add_argument("--max-pending-connections", type=int, default=MAX_PENDING, metavar="N",
                   help="connections that may be logging in at once, apart from "
                   "--max-connections (default %(default)s)")
    p.add_argument("--metrics-port", type=int, default=None,
                   help="serve Prometheus metrics at http://127.0.0.1:PORT/metrics")
    p.add_argument("--dashboard-port", type=int, default=None,
                   help="serve the live dashboard at http://127.0.0.1:PORT/ (5691 is usual; "
                        "needs sqlstream[dashboard]; asks for --password when one is set)")
    p.add_argument("--dashboard-host", default="127.0.0.1",
                   help="address of the dashboard (a non-loopback one needs --password)")
    p.add_argument("--max-connections", type=int, default=100)
    p.add_argument("--allow-udf-over-network", action="store_true",
                   help="let clients run CREATE FUNCTION (Python code runs in the server)")
    p.add_argument("--allow-fs-root", action="append", default=[], metavar="DIR",
                   help="let clients create posix_fs sources reading below DIR "
                   "(repeatable; none by default)")
    return p


def password_of(args: argparse.Namespace) -> str | None:
    """The password from --password or the first line of --password-file."""
    if args.password:
        return str(args.password)
    path = getattr(args, "password_file", None)
    if not path:
        return None
    with open(path, encoding="utf-8") as f:
        line = f.readline().rstrip("\r\n")
    if not line:
        raise ValueError(f"password file {path} is empty")
    return line


def _check_options(args: argparse.Namespace) -> str | None:
    """An error message for options that cannot work together, or None."""
    if args.max_connections < 1:
        return "--max-connections must be at least 1"
    if args.max_pending_connections < 1:
        return "--max-pending-connections must be at least 1"
    if not 1 <= args.authentication_timeout <= 600:
        return "--authentication-timeout must be between 1 and 600 seconds"
    for root in args.allow_fs_root:
        if not os.path.isdir(root):
            return f"--allow-fs-root {root}: not a directory"
    return None


async def serve(args: argparse.Namespace, ready: Callable[[int], None] | None = None,
                stop_event: asyncio.Event | None = None) -> int:
    from sqlstream.session import Database

    server_password = password_of(args)
    db = Database.open(None if args.memory else args.data_dir)
    server = Server(db, password=server_password, max_connections=args.max_connections,
                    allow_udf=bool(args.allow_udf_over_network),
                    fs_roots=args.allow_fs_root,
                    authentication_timeout=args.authentication_timeout,
                    max_pending=args.max_pending_connections)
    metrics: Any = None
    board: Any = None
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
        if args.dashboard_port is not None:
            from sqlstream import dashboard
            board = await asyncio.to_thread(dashboard.start, db, args.dashboard_port,
                                            args.dashboard_host, server_password)
            server.dashboard_port = board.port
            log.info("dashboard on %s", board.url)
        port = await server.start(args.host, args.port)
        log.info("listening on %s:%d", args.host, port)
        if ready is not None:
            ready(port)
        await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        if board is not None:
            await asyncio.to_thread(board.stop)
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
    try:
        args.password = password_of(args)
    except (OSError, ValueError) as e:
        print(f"error: --password-file: {e}", file=sys.stderr)
        return 2
    if args.password is None:
        args.password = os.environ.get("SQLSTREAM_PASSWORD") or None
    if not is_loopback(args.host) and not args.password:
        print("error: refusing to listen on a non-loopback address without a password "
              "(--password-file, SQLSTREAM_PASSWORD or --password)", file=sys.stderr)
        return 2
    if not is_loopback(args.dashboard_host) and not args.password:
        print("error: refusing to serve the dashboard on a non-loopback address without a "
              "password (--password-file, SQLSTREAM_PASSWORD or --password)", file=sys.stderr)
        return 2
    problem = _check_options(args)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        code = asyncio.run(serve(args))
    except KeyboardInterrupt:
        code = 0
    except (OSError, ImportError) as e:  # a taken port; the dashboard's extra missing
        print(f"error: {e}", file=sys.stderr)
        return 1
    _leave_running_statements(code)
    return code
