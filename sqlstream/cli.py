"""The non-interactive runner behind `sqlstream -c SQL` and `sqlstream -f FILE`.

Statements run one at a time in order and print as psql prints them; the first
error is printed to stderr (with the caret under its position) and stops the
run with exit code 1, like `psql -v ON_ERROR_STOP=1`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterable, TextIO

from planner.errors import Error
from sqlstream.format import PrintOptions, format_error, format_result
from sqlstream.result import StatementResult


@dataclass(slots=True)
class Split:
    """Complete statements (each without its `;`) and the unfinished rest."""

    statements: list[str]
    rest: str


def split_statements(text: str) -> Split:
    """Split SQL text at top-level semicolons.

    Quotes ('..', "..", E'..' with backslashes, $tag$..$tag$) and comments
    (-- and nested /* */) are skipped, so a `;` inside them does not end a
    statement. Statements that are only blanks or comments are dropped.
    """
    statements: list[str] = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif ch == "/" and text.startswith("/*", i):
            nest = 1
            i += 2
            while i < n and nest:
                if text.startswith("/*", i):
                    nest, i = nest + 1, i + 2
                elif text.startswith("*/", i):
                    nest, i = nest - 1, i + 2
                else:
                    i += 1
        elif ch in ("'", '"'):
            backslash = ch == "'" and i > 0 and text[i - 1] in "eE" and (
                i == 1 or not (text[i - 2].isalnum() or text[i - 2] == "_"))
            i += 1
            while i < n:
                if backslash and text[i] == "\\":
                    i += 2
                    continue
                if text[i] == ch:
                    if i + 1 < n and text[i + 1] == ch:
                        i += 2
                        continue
                    break
                i += 1
            i += 1
        elif ch == "$" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            close = text.find("$", i + 1)
            tag = text[i:close + 1] if close > 0 else ""
            if tag and all(c.isalnum() or c == "_" for c in tag[1:-1]) and not tag[1:2].isdigit():
                end = text.find(tag, close + 1)
                i = n if end < 0 else end + len(tag)
            else:
                i += 1
        elif ch == ";":
            statements.append(text[start:i])
            start = i + 1
            i += 1
        else:
            i += 1
    kept = [s.strip() for s in statements if _has_code(s)]
    return Split(kept, text[start:])


def _has_code(text: str) -> bool:
    """Whether text holds anything besides blanks and comments."""
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            return True
    return False


def is_complete(text: str) -> bool:
    """True when the text ends a statement: its last code is a top-level `;`."""
    split = split_statements(text)
    return bool(split.statements) and not _has_code(split.rest)


def has_code(text: str) -> bool:
    return _has_code(text)


Execute = Callable[[str], list[StatementResult]]


def run_script(execute: Execute, statements: Iterable[str], out: TextIO, err: TextIO,
               options: PrintOptions | None = None) -> int:
    """Run statements in order, print each result; stop at the first error (exit 1)."""
    for sql in statements:
        try:
            results = execute(sql)
        except Error as e:
            out.flush()
            err.write(format_error(e, sql))
            err.flush()
            return 1
        for result in results:
            for notice in result.notices:  # as psql prints them, on stderr
                out.flush()
                err.write(f"NOTICE:  {notice}\n")
                err.flush()
            out.write(format_result(result, options))
    out.flush()
    return 0


def run_texts(execute: Execute, scripts: list[tuple[str, str]], out: TextIO, err: TextIO,
              options: PrintOptions | None = None) -> int:
    """Run `("c", sql)` and `("f", path)` items in the order given on the command line."""
    for kind, value in scripts:
        text = value
        if kind == "f":
            try:
                with open(value, encoding="utf-8") as fh:
                    text = fh.read()
            except OSError as e:
                err.write(f"sqlstream: {value}: {e.strerror}\n")
                return 1
        split = split_statements(text)
        statements = split.statements + ([split.rest.strip()] if has_code(split.rest) else [])
        code = run_script(execute, statements, out, err, options)
        if code:
            return code
    return 0


def run(scripts: list[tuple[str, str]], data_dir: str | None, out: TextIO | None = None,
        err: TextIO | None = None, **settings: Any) -> int:
    """Open the embedded database at `data_dir` (None: temporary) and run the scripts."""
    from sqlstream.session import Database

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        db = Database.open(data_dir, **settings)
    except Error as e:
        err.write(format_error(e))
        return 2
    try:
        session = db.session()
        try:
            return run_texts(session.execute, scripts, out, err)
        finally:
            session.close()
    finally:
        db.close()
