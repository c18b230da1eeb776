"""Sinks: one module each, registered by name in `base.SINKS`."""

from executor.sinks import blackhole, kafka, postgres  # noqa: F401  (registration)
from executor.sinks.base import SINKS, Sink, SinkExecutor, SinkMetrics, SinkSpec, SinkWriter
from planner.errors import INVALID_PARAMETER, ProgrammingError


def sink(name: str) -> Sink:
    s = SINKS.get(name.lower())
    if s is None:
        raise ProgrammingError(
            f'invalid option "connector": unknown sink connector "{name}" (known: '
            f'{", ".join(sorted(SINKS))})', INVALID_PARAMETER)
    return s


__all__ = ["SINKS", "Sink", "SinkExecutor", "SinkMetrics", "SinkSpec", "SinkWriter", "sink"]
