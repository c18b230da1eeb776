"""Opening a sink's writer for one actor from its plan node's params."""

from __future__ import annotations

from typing import Any

from executor.sinks import SinkExecutor, SinkMetrics, SinkSpec, sink


def sink_spec(params: dict[str, Any], actor_index: int = 0, parallelism: int = 1) -> SinkSpec:
    return SinkSpec(params["name"], dict(params["options"]), list(params["columns"]),
                    params.get("format"), params.get("encode"),
                    dict(params.get("encode_options") or {}),
                    bool(params.get("append_only", True)), actor_index, parallelism)


def open_sink(params: dict[str, Any], actor_index: int, parallelism: int,
              actor_metrics: Any = None) -> SinkExecutor:
    spec = sink_spec(params, actor_index, parallelism)
    metrics = SinkMetrics()
    writer = sink(spec.options["connector"]).open(spec, metrics)
    force = spec.options.get("force_append_only", "false").lower() == "true"
    if actor_metrics is not None and writer.blocking:
        actor_metrics.external_names = [f"{spec.options['connector']} sink {spec.name}"]
    return SinkExecutor(writer, metrics, force and writer.inserts_only and not spec.append_only,
                        actor_metrics)


__all__ = ["SinkExecutor", "open_sink", "sink_spec"]
