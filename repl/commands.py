"""Dispatch of backslash commands (`\\q`, `\\d`, `\\x`, `\\watch`, ...), one small
handler per command, listed in one table."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Callable

from repl import meta

if TYPE_CHECKING:
    from repl.shell import Shell

Handler = Callable[["Shell", list[str]], bool]


def _quit(shell: Shell, args: list[str]) -> bool:
    return False


def _help(shell: Shell, args: list[str]) -> bool:
    shell.write(meta.HELP)
    return True


def _lister(kinds: tuple[str, ...] | None, system: bool = False) -> Handler:
    def handler(shell: Shell, args: list[str]) -> bool:
        shell.refresh_catalog()
        if args and kinds is None and not system:
            text, found = meta.describe(shell.catalog, args[0])
        else:
            text, found = meta.list_relations(shell.catalog, kinds, system,
                                              pattern=args[0] if args else None)
        (shell.write if found else shell.err.write)(text)
        return True
    return handler


def _functions(shell: Shell, args: list[str]) -> bool:
    shell.write(meta.list_functions(args[0] if args else None))
    return True


def _switch(value: bool, args: list[str]) -> bool:
    if not args:
        return not value
    return args[0].lower() in ("on", "true", "1", "yes")


def _timing(shell: Shell, args: list[str]) -> bool:
    shell.timing = _switch(shell.timing, args)
    shell.write(f"Timing is {'on' if shell.timing else 'off'}.\n")
    return True


def _expanded(shell: Shell, args: list[str]) -> bool:
    if args and args[0].lower() == "auto":
        shell.options.expanded = "auto"
        shell.write("Expanded display is used automatically.\n")
        return True
    shell.options.expanded = _switch(shell.options.expanded is True, args)
    shell.write(f"Expanded display is {'on' if shell.options.expanded else 'off'}.\n")
    return True


def _pset(shell: Shell, args: list[str]) -> bool:
    if len(args) >= 1 and args[0] == "null":
        shell.options.null = args[1] if len(args) > 1 else ""
        shell.write(f'Null display is "{shell.options.null}".\n')
    elif args and args[0] == "pager":
        shell.pager = _switch(shell.pager, args[1:])
        shell.write(f"Pager usage is {'on' if shell.pager else 'off'}.\n")
    elif args and args[0] == "expanded":
        return _expanded(shell, args[1:])
    else:
        shell.err.write("\\pset: supported options are null, pager, expanded\n")
    return True


def _set(shell: Shell, args: list[str]) -> bool:
    if len(args) >= 1 and args[0].upper() == "VERBOSITY":
        shell.verbose = len(args) > 1 and args[1].lower() == "verbose"
    elif args:
        shell.err.write(f"\\set: unknown variable {args[0]}\n")
    else:
        shell.write(f"VERBOSITY = '{'verbose' if shell.verbose else 'default'}'\n")
    return True


def _include(shell: Shell, args: list[str]) -> bool:
    if not args:
        shell.err.write("\\i: missing required argument\n")
        return True
    try:
        with open(args[0], encoding="utf-8") as fh:
            text = fh.read()
    except OSError as e:
        shell.err.write(f"{args[0]}: {e.strerror}\n")
        return True
    return shell.run_text(text)


def _output(shell: Shell, args: list[str]) -> bool:
    if shell.redirect is not None:
        shell.redirect.close()
        shell.redirect = None
    if args:
        try:
            shell.redirect = open(args[0], "w", encoding="utf-8")  # noqa: SIM115 - kept open
        except OSError as e:
            shell.err.write(f"{args[0]}: {e.strerror}\n")
    return True


def _watch(shell: Shell, args: list[str]) -> bool:
    interval, count = 2.0, None
    try:
        for arg in args:
            key, _, value = arg.partition("=")
            if not value:
                interval = float(key)
            elif key in ("i", "interval"):
                interval = float(value)
            elif key in ("c", "count"):
                count = int(value)
            else:
                raise ValueError(arg)
    except ValueError:
        shell.err.write(f"\\watch: invalid argument {' '.join(args)}\n")
        return True
    shell.watch(max(interval, 0.0), count)
    return True


COMMANDS: dict[str, Handler] = {
    "q": _quit, "quit": _quit, "?": _help, "h": _help, "help": _help,
    "d": _lister(None), "dt": _lister(("table",)), "dm": _lister(("materialized view",)),
    "dv": _lister(("view", "materialized view")), "ds": _lister(("source",)),
    "dS": _lister(None, system=True), "df": _functions,
    "timing": _timing, "x": _expanded, "pset": _pset, "set": _set,
    "i": _include, "include": _include, "o": _output, "out": _output, "watch": _watch,
}


def run_command(shell: Shell, line: str) -> bool:
    """Run `\\name args...`; unknown commands print psql's message. False means quit."""
    body = line.strip()[1:]
    try:
        parts = shlex.split(body)
    except ValueError:
        parts = body.split()
    if not parts:
        shell.err.write("Invalid command \\. Try \\? for help.\n")
        return True
    name, args = parts[0], parts[1:]
    handler = COMMANDS.get(name) or COMMANDS.get(name.rstrip("+"))
    if handler is None:
        shell.err.write(f"invalid command \\{name}\nTry \\? for help.\n")
        return True
    return handler(shell, args)
