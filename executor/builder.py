"""Builds operators from stream plan nodes: one small builder per node kind, in
one registry. What an operator does with messages lives in its own file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from executor.operators.distinct import Distinct
from executor.operators.filter import Filter
from executor.operators.eowc_agg import EowcAgg
from executor.operators.hash_agg import HashAgg
from executor.operators.hop_window import HopWindow
from executor.operators.temporal_filter import TemporalFilter
from executor.operators.hash_join import HashJoin
from executor.operators.project import Project
from executor.operators.udf_project import UdfProject
from executor.operators.semi_anti_join import SemiAntiJoin
from executor.operators.over_window import OverWindow
from executor.operators.top_n import TopN
from executor.operators.union import Union
from executor.operators.values import Values
from executor.operators.temporal_join import TemporalJoin
from planner import expressions as X
from planner.expressions.udf import contains_udf
from planner.stream_plan import StreamNode
from storage.state_table import StateTable


@dataclass
class BuildContext:
    """What builders need besides the node: state tables for this actor."""

    state: Callable[[StreamNode, str, int], StateTable]  # (node, suffix, dist_len)
    chunk_size: int = 1024
    metrics: Any = None  # the actor's clock (executor.metrics.ActorMetrics) or None
    udf_concurrency: int = 16  # async UDF calls of one chunk in flight at once
    # Whether only inserts can reach a node (from sources and append-only views).
    inserts_only: Callable[[StreamNode], bool] = lambda _node: False


def _project(node: StreamNode, ctx: BuildContext) -> Any:
    exprs = node.params["exprs"]
    if any(contains_udf(e) for e in exprs):
        return UdfProject(exprs, ctx.metrics, ctx.udf_concurrency)
    wm = {e.index: i for i, e in enumerate(exprs) if isinstance(e, X.InputRef)}
    return Project(X.compile_projection(exprs), wm)


def _filter(node: StreamNode, ctx: BuildContext) -> Any:
    return Filter(X.compile_filter(node.params["predicate"]))


def _hash_agg(node: StreamNode, ctx: BuildContext) -> Any:
    p = node.params
    return HashAgg(p["group_key"], p["calls"], ctx.state(node, "", len(p["group_key"])),
                   ctx.chunk_size)


def _eowc_agg(node: StreamNode, ctx: BuildContext) -> Any:
    p = node.params
    return EowcAgg(p["group_key"], p["calls"], ctx.state(node, "", len(p["group_key"])),
                   p["window_col"], ctx.chunk_size)


def _temporal_filter(node: StreamNode, ctx: BuildContext) -> Any:
    p = node.params
    return TemporalFilter(p["time_col"], p["delay_us"], p["strict"], ctx.state(node, "", 0),
                          ctx.chunk_size)


def _hop_window(node: StreamNode, ctx: BuildContext) -> Any:
    p = node.params
    return HopWindow(p["time_col"], p["slide_us"], p["size_us"], p["offset_us"],
                     len(node.inputs[0].schema), p.get("output"))


def _hash_join(node: StreamNode, ctx: BuildContext) -> Any:
    p = node.params
    cond = X.compile_filter(p["condition"]) if p.get("condition") is not None else None
    n = len(p["left_key"])
    left = ctx.state(node, "left", n)
    right = ctx.state(node, "right", n)
    if p["kind"] in ("semi", "anti"):
        return SemiAntiJoin(p["kind"], p["left_key"], p["right_key"], p["left_width"],
                            p["right_width"], cond, left, right, p.get("null_aware", False),
                            ctx.chunk_size)
    if p.get("temporal"):
        return TemporalJoin(p["kind"], p["left_key"], p["right_key"], p["left_width"],
                            p["right_width"], cond, left, right, ctx.chunk_size)
    return HashJoin(p["kind"], p["left_key"], p["right_key"], p["left_width"], p["right_width"],
                    cond, left, right, ctx.chunk_size, p.get("interval"))


def _top_n(node: StreamNode, ctx: BuildContext) -> Any:
    p = node.params
    return TopN(p["order"], p["limit"], p["offset"], p["group_key"],
                ctx.state(node, "", len(p["group_key"])), p["row_number"], ctx.chunk_size,
                append_only=ctx.inserts_only(node))


def _over_window(node: StreamNode, ctx: BuildContext) -> Any:
    p = node.params
    return OverWindow(p["partition"], p["order"], p["calls"],
                      ctx.state(node, "", len(p["partition"])), ctx.chunk_size)


def _distinct(node: StreamNode, ctx: BuildContext) -> Any:
    key = node.params["key"]
    return Distinct(key, ctx.state(node, "", len(key)), ctx.chunk_size)


def _union(node: StreamNode, ctx: BuildContext) -> Any:
    return Union()


def _values(node: StreamNode, ctx: BuildContext) -> Any:
    return Values(node.params["rows"], ctx.state(node, "", 0))


BUILDERS: dict[str, Callable[[StreamNode, BuildContext], Any]] = {
    "project": _project,
    "filter": _filter,
    "hash_agg": _hash_agg,
    "eowc_agg": _eowc_agg,
    "hop_window": _hop_window,
    "temporal_filter": _temporal_filter,
    "hash_join": _hash_join,
    "top_n": _top_n,
    "over_window": _over_window,
    "distinct": _distinct,
    "union": _union,
    "values": _values,
}

# Operators that take a list of inputs instead of one.
MULTI_INPUT = ("hash_join", "union")


def build_operator(node: StreamNode, ctx: BuildContext) -> Any:
    return BUILDERS[node.kind](node, ctx)
