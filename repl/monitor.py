"""Readers of the engine's system tables for the shell: backfill progress of a
new view (`sys.ddl_progress`) and the current bottleneck (`sys.bottlenecks`).

Their columns are read by name with fallbacks, and every reader returns None
when the table is missing or looks different: the shell degrades silently.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from repl.backend import Backend
from sqlstream.result import StatementResult

_NAME_COLUMNS = ("bottleneck", "operator", "fragment", "name", "actor", "actor_id",
                 "relation", "source")
_REASON_COLUMNS = ("reason", "kind", "state", "detail")


def _by_name(result: StatementResult, row: tuple) -> dict[str, Any]:
    return {c.name.lower(): v for c, v in zip(result.columns or [], row)}


def ddl_progress(backend: Backend) -> float | None:
    """Backfill progress of the running DDL as a fraction 0..1, or None if unknown."""
    result = backend.quiet_query("SELECT * FROM sys.ddl_progress")
    if result is None or not result.rows:
        return None
    fields = _by_name(result, result.rows[-1])
    value = fields.get("progress")
    if isinstance(value, str):
        try:
            value = float(value.strip().rstrip("%")) / (100 if "%" in value else 1)
        except ValueError:
            value = None
    if isinstance(value, (int, float, Decimal)):
        fraction = float(value)
        return fraction / 100 if fraction > 1 else fraction
    done = next((fields[k] for k in ("done", "rows_done", "consumed_rows", "backfilled_rows")
                 if fields.get(k) is not None), None)
    total = next((fields[k] for k in ("total", "rows_total", "total_rows")
                  if fields.get(k) is not None), None)
    if isinstance(done, (int, float)) and isinstance(total, (int, float)) and total > 0:
        return min(1.0, done / total)
    return None


def progress_bar(fraction: float, width: int = 30) -> str:
    filled = int(round(fraction * width))
    return f"[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:5.1f}%"


class BottleneckWatch:
    """The toolbar's warning, read from `sys.bottlenecks` at most every `ttl` seconds."""

    def __init__(self, backend: Backend, ttl: float = 2.0) -> None:
        self.backend = backend
        self.ttl = ttl
        self._checked = 0.0
        self._text: str | None = None

    def warning(self) -> str | None:
        now = time.monotonic()
        if now - self._checked >= self.ttl:
            self._checked = now
            self._text = self._read()
        return self._text

    def _read(self) -> str | None:
        result = self.backend.quiet_query("SELECT * FROM sys.bottlenecks")
        if result is None or not result.rows or not result.columns:
            return None
        fields = _by_name(result, result.rows[0])
        name = next((str(fields[k]) for k in _NAME_COLUMNS if fields.get(k) is not None),
                    None)
        if name is None:
            name = next((str(v) for v in result.rows[0] if v is not None), "?")
        reason = next((str(fields[k]) for k in _REASON_COLUMNS if fields.get(k) is not None),
                      None)
        return f"backpressured: {name}" + (f" ({reason})" if reason else "")
