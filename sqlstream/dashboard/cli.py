"""`sqlstream dashboard`: open an embedded database, run its sources and views, and
serve the dashboard for it until interrupted.

A data directory is opened by one process at a time, so this command is for a
database no server has open; a running server shows the same page with
`sqlstream serve --dashboard-port N`."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence

from planner.errors import Error
from sqlstream.cli import ScriptAction, is_loopback, run_texts
from sqlstream.dashboard import DEFAULT_PORT


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sqlstream dashboard",
        description="Open an embedded database, run its sources and views, and serve the "
                    "live dashboard for it.")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--data-dir", metavar="DIR", default="./sqlstream-data",
                       help="data directory (default ./sqlstream-data); no other process "
                            "may have it open")
    where.add_argument("--memory", action="store_true", help="temporary database")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; another needs --password)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port (default {DEFAULT_PORT}; 0: any free port)")
    p.add_argument("--password", default=None,
                   help="require it (HTTP basic auth, any user name); also $SQLSTREAM_PASSWORD")
    p.add_argument("-c", "--command", metavar="SQL", action=ScriptAction, dest="scripts",
                   help="run SQL first (may be repeated)")
    p.add_argument("-f", "--file", metavar="FILE", action=ScriptAction, dest="scripts",
                   help="run the statements in FILE first")
    p.set_defaults(scripts=[])
    return p


def run_dashboard(argv: Sequence[str], stop: threading.Event | None = None,
                  ready: Callable[[str], None] | None = None) -> int:
    """Entry point of `sqlstream dashboard ...`; returns the process exit code."""
    from sqlstream import dashboard
    from sqlstream.database import Database
    from sqlstream.format import format_error

    args = parser().parse_args(list(argv))
    password = args.password or os.environ.get("SQLSTREAM_PASSWORD") or None
    if not is_loopback(args.host) and not password:
        sys.stderr.write("error: refusing to listen on a non-loopback address without "
                         "--password (or SQLSTREAM_PASSWORD)\n")
        return 2
    try:
        db = Database.open(None if args.memory else args.data_dir)
    except Error as e:
        sys.stderr.write(format_error(e))
        return 2
    try:
        if args.scripts:
            session = db.session()
            try:
                code = run_texts(session.execute, args.scripts, sys.stdout, sys.stderr)
            finally:
                session.close()
            if code:
                return code
        stop = stop or threading.Event()
        with _stop_on_signals(stop):  # before the URL is printed: a caller may stop us then
            try:
                board = dashboard.start(db, args.port, args.host, password)
            except (OSError, ImportError) as e:  # a taken port; the extra not installed
                sys.stderr.write(f"error: {e}\n")
                return 1
            print(f"dashboard on {board.url} (Ctrl-C stops it)", flush=True)
            if ready is not None:
                ready(board.url)
            try:
                while not stop.wait(0.5):
                    pass
            finally:
                board.stop()
    finally:
        db.close()
    return 0


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM set `stop` (in the main thread only, where
    Python delivers signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, lambda *_a: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


__all__ = ["run_dashboard", "parser"]
