"""The `sqlstream` command: run statements (`-c`, `-f`), serve (`serve ...`),
or open the interactive shell on the embedded engine or on a server (`--connect`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Sequence

from planner.errors import Error
from sqlstream.format import format_error

DEFAULT_DATA_DIR = "./sqlstream-data"


class _Script(argparse.Action):
    """Keeps `-c` and `-f` in one list, in the order given, as psql runs them."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        items = list(getattr(namespace, "scripts", None) or [])
        items.append(("c" if option_string in ("-c", "--command") else "f", values))
        namespace.scripts = items


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sqlstream",
        description="A streaming SQL database. With no statement, opens the interactive shell.",
        epilog="Also: `sqlstream serve ...` runs the PostgreSQL wire protocol server; "
               "`sqlstream connect URL` opens the shell on a server; "
               "`sqlstream dashboard ...` serves the live dashboard of an embedded database.")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--data-dir", metavar="DIR", default=None,
                       help=f"data directory (default {DEFAULT_DATA_DIR})")
    where.add_argument("--memory", action="store_true",
                       help="temporary database, removed on exit")
    where.add_argument("--connect", metavar="URL",
                       help="use a server, e.g. postgresql://user@localhost:4566/dev")
    parser.add_argument("-c", "--command", metavar="SQL", action=_Script, dest="scripts",
                        help="run SQL (may be repeated) and exit")
    parser.add_argument("-f", "--file", metavar="FILE", action=_Script, dest="scripts",
                        help="run the statements in FILE and exit")
    parser.set_defaults(scripts=[])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in and args_in[0] == "serve":
        from sqlstream.pgwire.server import run_server  # written separately; loaded on demand

        return int(run_server(args_in[1:]) or 0)
    if args_in and args_in[0] == "dashboard":
        from sqlstream.dashboard.cli import run_dashboard

        return run_dashboard(args_in[1:])
    if args_in and args_in[0] == "connect":
        if len(args_in) < 2:
            sys.stderr.write("usage: sqlstream connect URL\n")
            return 2
        args_in = ["--connect", args_in[1], *args_in[2:]]
    args = build_parser().parse_args(args_in)
    try:
        backend = _open_backend(args)
    except Error as e:
        sys.stderr.write(format_error(e))
        return 2
    try:
        if args.scripts:
            from sqlstream.cli import run_texts

            return run_texts(backend.execute, args.scripts, sys.stdout, sys.stderr)
        from repl.prompt import run_loop
        from repl.shell import Shell

        return run_loop(Shell(backend))
    finally:
        backend.close()


def _open_backend(args: argparse.Namespace) -> Any:
    from repl.backend import LocalBackend, RemoteBackend

    if args.connect:
        return RemoteBackend(args.connect)
    return LocalBackend(None if args.memory else (args.data_dir or DEFAULT_DATA_DIR))


if __name__ == "__main__":
    sys.exit(main())
