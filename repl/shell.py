"""The interactive shell: read statements with prompt-toolkit, run them in a
worker thread (so Ctrl-C can cancel them), print results like psql.

The reading side (prompt, keys, toolbar) lives in `repl/prompt.py`; this file
holds what happens to the text once a statement or command is complete.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from typing import Any, TextIO

from planner.errors import Error
from repl.backend import Backend
from repl.completion import Catalog
from repl.monitor import BottleneckWatch, ddl_progress, progress_bar
from sqlstream.cli import has_code, is_complete, split_statements
from sqlstream.format import PrintOptions, format_error, format_result
from sqlstream.result import StatementResult

_CREATE_MV = re.compile(r"^\s*create\s+materialized\s+view\b", re.IGNORECASE)
_DDL_TAG = re.compile(r"^(CREATE|DROP|ALTER)\b")
_WATCH_TAIL = re.compile(r"\\watch\b([^\n]*)$")
PROGRESS_DELAY = 0.5   # seconds a CREATE MATERIALIZED VIEW runs before its progress shows


class Shell:
    """One interactive session over a backend (embedded engine or server)."""

    def __init__(self, backend: Backend, out: TextIO | None = None, err: TextIO | None = None,
                 tty: bool | None = None) -> None:
        self.backend = backend
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.tty = self.out.isatty() if tty is None else tty
        self.catalog = Catalog()
        self.options = PrintOptions(null="∅")
        self.timing = False
        self.verbose = False
        self.pager = True
        self.redirect: TextIO | None = None
        self.last_query: str | None = None
        self.bottleneck = BottleneckWatch(backend)
        self._catalog_version: int | None = None
        self.refresh_catalog()

    # ---- catalog -------------------------------------------------------------------------
    def refresh_catalog(self) -> None:
        """Reload relation metadata for completion and `\\d` (after DDL, or on demand)."""
        self.catalog.relations = self.backend.relations()
        self._catalog_version = self.backend.catalog_version()

    def _maybe_refresh(self, results: list[StatementResult]) -> None:
        version = self.backend.catalog_version()
        if (version is not None and version != self._catalog_version) or any(
                _DDL_TAG.match(r.tag) for r in results):
            self.refresh_catalog()

    # ---- input ---------------------------------------------------------------------------
    @staticmethod
    def accepts(text: str) -> bool:
        """Whether Enter should run the buffer: a complete statement or a command."""
        stripped = text.strip()
        if not stripped or stripped.startswith("\\") or stripped.lower() in ("quit", "exit"):
            return True
        return is_complete(text) or _WATCH_TAIL.search(stripped) is not None

    def handle(self, text: str) -> bool:
        """Run what the user entered; False means quit."""
        stripped = text.strip()
        if not stripped:
            return True
        if stripped.lower() in ("quit", "exit"):
            return False
        if stripped.startswith("\\"):
            return self.command(stripped)
        watch = _WATCH_TAIL.search(stripped)
        if watch is not None and not is_complete(stripped):
            query = stripped[: watch.start()].strip().rstrip(";").strip()
            if has_code(query):
                self.last_query = query
            return self.command("\\watch" + watch.group(1))
        split = split_statements(text)
        for sql in split.statements:
            self.run_sql(sql)
        if has_code(split.rest):
            self.run_sql(split.rest.strip())
        return True

    def run_text(self, text: str) -> bool:
        """Run a script: SQL statements and backslash commands on their own lines."""
        buffer = ""
        for line in text.splitlines(keepends=True):
            if not has_code(buffer) and line.strip().startswith("\\"):
                if not self.command(line.strip()):
                    return False
                continue
            buffer += line
            if is_complete(buffer):
                for sql in split_statements(buffer).statements:
                    self.run_sql(sql)
                buffer = ""
        if has_code(buffer):
            self.run_sql(buffer.strip())
        return True

    # ---- statements ----------------------------------------------------------------------
    def run_sql(self, sql: str) -> bool:
        """Run one statement and print its result or error; True when it succeeded."""
        started = time.perf_counter()
        try:
            results = self.execute(sql)
        except Error as e:
            self.err.write(format_error(e, sql, self.verbose))
            self.err.flush()
            return False
        except Exception as e:  # noqa: BLE001 - an engine bug must not end the shell
            self.err.write(format_error(Error(f"internal error: {e}"), sql, self.verbose))
            return False
        elapsed = time.perf_counter() - started
        self.last_query = sql
        self.show(results)
        if self.timing:
            self.write(timing_text(elapsed))
        self._maybe_refresh(results)
        return True

    def execute(self, sql: str) -> list[StatementResult]:
        """Run `sql` in a worker thread; Ctrl-C meanwhile cancels it instead of quitting."""
        box: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                box["results"] = self.backend.execute(sql)
            except BaseException as e:  # noqa: BLE001 - handed to the waiting thread
                box["error"] = e
            finally:
                done.set()

        worker = threading.Thread(target=work, name="sqlstream-statement", daemon=True)
        worker.start()
        show_progress = self.tty and _CREATE_MV.match(sql) is not None
        started = time.monotonic()
        drawn = False
        # Wait on an Event, not Thread.join: an interrupted join can report a live
        # thread as finished.
        while not done.is_set():
            try:
                if done.wait(0.1):
                    break
                if show_progress and time.monotonic() - started > PROGRESS_DELAY:
                    fraction = ddl_progress(self.backend)
                    if fraction is not None:
                        self.out.write("\r" + progress_bar(fraction) + "  (Ctrl-C cancels)")
                        self.out.flush()
                        drawn = True
            except KeyboardInterrupt:
                self.backend.cancel()
                self.err.write("Cancel request sent\n")
                self.err.flush()
        if drawn:
            self.out.write("\r\x1b[K")
        if "error" in box:
            raise box["error"]
        return box["results"]

    def show(self, results: list[StatementResult]) -> None:
        self.options.width = shutil.get_terminal_size().columns if self.tty else None
        notices = [n for r in results for n in r.notices]
        if notices:
            self.err.write("".join(f"NOTICE:  {n}\n" for n in notices))
            self.err.flush()
        self.write("".join(format_result(r, self.options) for r in results))

    def write(self, text: str) -> None:
        """Print to the `\\o` file, or the screen (through the pager when it is long)."""
        if self.redirect is not None:
            self.redirect.write(text)
            self.redirect.flush()
            return
        if self.tty and self.pager and self._needs_pager(text) and self._page(text):
            return
        self.out.write(text)
        self.out.flush()

    @staticmethod
    def _needs_pager(text: str) -> bool:
        size = shutil.get_terminal_size()
        return text.count("\n") > size.lines - 2

    @staticmethod
    def _page(text: str) -> bool:
        pager = os.environ.get("PAGER")
        if pager is None:
            pager = "less -SRXF" if shutil.which("less") else ("more" if shutil.which("more")
                                                                 else "")
        if not pager.strip():
            return False
        try:
            proc = subprocess.Popen(pager, shell=True, stdin=subprocess.PIPE)
            proc.communicate(text.encode())
        except (OSError, KeyboardInterrupt):
            return True
        return True

    # ---- backslash commands --------------------------------------------------------------
    def command(self, line: str) -> bool:
        """Run one backslash command; False means quit."""
        from repl.commands import run_command

        return run_command(self, line)

    def watch(self, interval: float, count: int | None) -> None:
        """Re-run the last query every `interval` seconds, redrawn in place, until Ctrl-C."""
        if not self.last_query:
            self.err.write("\\watch cannot be used with an empty query\n")
            return
        done = 0
        try:
            while count is None or done < count:
                try:
                    results = self.execute(self.last_query)
                except Error as e:
                    self.err.write(format_error(e, self.last_query, self.verbose))
                    return
                stamp = time.strftime("%a %d %b %Y %H:%M:%S")
                text = f"{stamp} (every {interval:g}s)\n\n" + "".join(
                    format_result(r, self.options) for r in results)
                if self.tty and self.redirect is None:
                    text = "\x1b[H\x1b[2J" + text
                target = self.redirect or self.out
                target.write(text)
                target.flush()
                done += 1
                if count is None or done < count:
                    time.sleep(interval)
        except KeyboardInterrupt:
            self.out.write("\n")


def timing_text(seconds: float) -> str:
    """psql's `Time: 1.234 ms` line (with mm:ss.fff from one second on)."""
    ms = seconds * 1000
    if ms < 1000:
        return f"Time: {ms:.3f} ms\n"
    minutes, secs = divmod(seconds, 60)
    return f"Time: {ms:.3f} ms ({int(minutes):02d}:{secs:06.3f})\n"
