"""The `blackhole` sink: takes every change and keeps none (for benchmarks, as in
RisingWave and Flink): the graph runs as if a sink consumed its output."""

from __future__ import annotations

from executor.sinks.base import Sink, SinkSpec, SinkWriter, register


class BlackholeWriter(SinkWriter):
    blocking = False

    def write(self, ops: list[int], rows: list[tuple]) -> None:
        pass


def _validate(spec: SinkSpec) -> None:
    pass


register(Sink("blackhole", _validate, lambda spec, metrics: BlackholeWriter()))
