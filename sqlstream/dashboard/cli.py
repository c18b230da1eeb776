"""`sqlstream dashboard`: open an embedded database, run its sources and views, and
serve the dashboard for it until interrupted.

A data directory is opened by one process at a time, so this command is for a
database no server has open; a running server shows the same page with
`sqlstream serve --dashboard-port N`."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from planner.errors import Error
from sqlstream.dashboard import DEFAULT_PORT


class _Script(argparse.Action):
    """Keeps `-c` and `-f` in one list, in the order given."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        items = list(getattr(namespace, "scripts", None) or [])
        items.append(("c" if option_string in ("-c", "--command") else "f", values))
        namespace.scripts = items


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
    p.add_argument("-c", "--command", metavar="SQL", action=_Script, dest="scripts",
                   help="run SQL first (may be repeated)")
    p.add_argument("-f", "--file", metavar="FILE", action=_Script, dest="scripts",
                   help="run the statements in FILE first")
    p.set_defaults(scripts=[])
    return p


def is_loopback(host: str) -> bool:
    import ipaddress
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_dashboard(argv: Sequence[str], stop: threading.Event | None = None,
                  ready: Callable[[str], None] | None = None) -> int:
    """Entry point of `sqlstream dashboard ...`; returns the process exit code."""
    from sqlstream import dashboard
    from sqlstream.cli import run_texts
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
        try:
            board = dashboard.start(db, args.port, args.host, password)
        except (OSError, ImportError) as e:  # a taken port; the extra not installed
            sys.stderr.write(f"error: {e}\n")
            return 1
        print(f"dashboard on {board.url} (Ctrl-C stops it)", flush=True)
        if ready is not None:
            ready(board.url)
        try:
            _wait(stop or threading.Event())
        finally:
            board.stop()
    finally:
        db.close()
    return 0


def _wait(stop: threading.Event) -> None:
    """Until `stop` is set or the process gets SIGINT or SIGTERM."""
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, lambda *_a: stop.set())
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not stop.wait(0.5):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    else:
        stop.wait()


__all__ = ["run_dashboard", "parser"]
