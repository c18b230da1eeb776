"""Helpers of connector tests: metrics that keep every bad record, and draining a
file reader."""

from __future__ import annotations

import json
from typing import Any

from executor.connectors import SourceMetrics


class Errors(SourceMetrics):
    """Metrics that keep every bad record, not just the last."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def bad_record(self, message: str) -> None:
        super().bad_record(message)
        self.messages.append(message)


def drain(r: Any, max_rows: int = 1000) -> list[tuple]:
    """Every row of a file reader, read until a read hands out nothing and moves no
    position."""
    rows: list[tuple] = []
    while True:
        before = json.dumps(r.position())
        got = r.read(max_rows)
        if not got and json.dumps(r.position()) == before:
            return rows
        rows.extend(got)
