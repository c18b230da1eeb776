"""Source metrics for connector tests."""

from __future__ import annotations

from executor.connectors import SourceMetrics


class Errors(SourceMetrics):
    """Metrics that keep every bad record, not just the last."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def bad_record(self, message: str) -> None:
        super().bad_record(message)
        self.messages.append(message)
