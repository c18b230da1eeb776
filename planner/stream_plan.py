"""Stream plan: the logical plan lowered to incremental operators, cut into
fragments at exchanges. Each fragment runs as `parallelism` actors; an exchange
says how rows are routed to the next fragment's actors (hash on keys, single).

A fragment's leaves are inputs: `StreamExchange` (from another fragment of the
same view) or `StreamTableScan` (a subscription to an upstream relation's
materialized output).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from planner.aggregates import AggCall
from planner.logical import (Field, LogicalAgg, LogicalDistinct, LogicalFilter, LogicalJoin,
                             LogicalNode, LogicalProject, LogicalScan, LogicalTopN, LogicalUnion,
                             LogicalValues)
from planner import expressions as X
from planner.over_window import LogicalOverWindow
from planner.catalog import SOURCE, Relation
from planner.window import (LogicalEowcAgg, LogicalHopWindow, LogicalTemporalFilter,
                            window_micros)
from planner.errors import not_supported
from planner.interval_join import interval_bounds
from planner.expressions.udf import contains_udf


@dataclass(frozen=True)
class Distribution:
    kind: str  # "hash" | "single"
    keys: tuple[int, ...] = ()

    def __str__(self) -> str:
        return f"hash({', '.join(f'${k}' for k in self.keys)})" if self.kind == "hash" else "single"


@dataclass
class StreamNode:
    """One operator of a fragment. `params` are what its builder needs; `inputs`
    are its input nodes (operators, or leaf inputs)."""

    kind: str
    schema: list[Field]
    inputs: list[StreamNode] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    stream_key: list[int] = field(default_factory=list)
    # Set for leaves: the upstream fragment index (exchange) or relation id (scan).
    upstream_fragment: int | None = None
    upstream_relation: int | None = None
    distribution: Distribution | None = None
    op_index: int = -1

    def describe(self) -> str:
        p = self.params
        k = self.kind
        if k == "project":
            return "StreamProject { exprs: [" + ", ".join(e.to_sql() for e in p["exprs"]) + "] }"
        if k == "filter":
            return f"StreamFilter {{ predicate: {p['predicate'].to_sql()} }}"
        if k == "hash_agg":
            name = "StreamHashAgg" if p["group_key"] else "StreamSimpleAgg"
            return (f"{name} {{ group_key: [{', '.join(f'${i}' for i in p['group_key'])}], "
                    f"aggs: [{', '.join(str(c) for c in p['calls'])}] }}")
        if k == "hash_join":
            cond = p["condition"].to_sql() if p.get("condition") is not None else "none"
            keys = ", ".join(f"${a} = ${b}" for a, b in zip(p["left_key"], p["right_key"]))
            name = "StreamHashJoin" if p["kind"] in ("inner", "left", "right", "full") else \
                "StreamSemiAntiJoin"
            return f"{name} {{ type: {p['kind']}, keys: [{keys}], condition: {cond} }}"
        if k == "top_n":
            order = ", ".join(f"${c} {'DESC' if d else 'ASC'}{' NULLS FIRST' if nf else ''}"
                              for c, d, nf in p["order"])
            grp = f", group_key: [{', '.join(f'${i}' for i in p['group_key'])}]" \
                if p["group_key"] else ""
            return (f"{'StreamGroupTopN' if p['group_key'] else 'StreamTopN'} "
                    f"{{ order: [{order}], limit: {p['limit']}, offset: {p['offset']}{grp}"
                    f"{', row_number' if p['row_number'] else ''} }}")
        if k == "distinct":
            return "StreamDistinct"
        if k == "union":
            return f"StreamUnion {{ inputs: {len(self.inputs)} }}"
        if k == "values":
            return f"StreamValues {{ rows: {len(p['rows'])} }}"
        if k == "materialize":
            return (f"StreamMaterialize {{ name: {p['name']}, columns: ["
                    + ", ".join(f.name for f in self.schema) + "] }")
        if k == "table_scan":
            return f"StreamTableScan {{ table: {p['name']}, distribution: {self.distribution} }}"
        if k == "temporal_filter":
            return (f"StreamTemporalFilter {{ ${p['time_col']} {'>' if p['strict'] else '>='} "
                    f"now() - {p['delay_us']}us }}")
        if k == "hop_window":
            out = f", output: [{', '.join(f'${c}' for c in p['output'])}]" \
                if p.get("output") is not None else ""
            return (f"StreamHopWindow {{ time_col: ${p['time_col']}, slide: {p['slide_us']}us, "
                    f"size: {p['size_us']}us{out} }}")
        if k == "eowc_agg":
            return (f"StreamEowcAgg {{ group_key: [{', '.join(f'${i}' for i in p['group_key'])}], "
                    f"aggs: [{', '.join(str(c) for c in p['calls'])}], "
                    f"window: ${p['group_key'][p['window_col']]} }}")
        if k == "over_window":
            return (f"StreamOverWindow {{ partition: [{', '.join(f'${i}' for i in p['partition'])}]"
                    f", order: [{', '.join(f'${c}' for c, _d, _n in p['order'])}], "
                    f"calls: [{', '.join(str(c) for c in p['calls'])}] }}")
        if k == "source":
            return f"StreamSource {{ source: {p['name']}, connector: {p['options'].get('connector')} }}"
        if k == "exchange":
            return (f"StreamExchange {{ from: fragment {self.upstream_fragment}, "
                    f"distribution: {self.distribution} }}")
        return k


@dataclass
class Fragment:
    index: int
    root: StreamNode
    parallelism: int
    # Distribution this fragment's rows must have (how upstreams route to it).
    leaves: list[StreamNode] = field(default_factory=list)


@dataclass
class StreamPlan:
    relation_id: int
    name: str
    fragments: list[Fragment]
    schema: list[Field]
    stream_key: list[int]

    def explain(self) -> str:
        lines: list[str] = []
        for frag in reversed(self.fragments):
            lines.append(f"Fragment {frag.index} (parallelism {frag.parallelism})")
            _explain(frag.root, "", True, lines, self.schema if frag.root.kind ==
                     "materialize" else None)
        return "\n".join(lines)


def _explain(node: StreamNode, prefix: str, last: bool, lines: list[str],
             _schema: Any) -> None:
    key = ", ".join(f"${k}" for k in node.stream_key) if node.stream_key else "all columns"
    lines.append(f"{prefix}└─ {node.describe()}  [stream key: {key}]")
    for i, child in enumerate(node.inputs):
        _explain(child, prefix + "   ", i == len(node.inputs) - 1, lines, None)


class StreamPlanner:
    """Lowers a logical plan to a stream plan with fragments."""

    def __init__(self, relation_id: int, name: str, parallelism: int) -> None:
        self.relation_id = relation_id
        self.name = name
        self.parallelism = parallelism
        self.fragments: list[Fragment] = []

    def plan(self, logical: LogicalNode, names: list[str]) -> StreamPlan:
        root = self._lower(logical)
        schema = [Field(n, f.type) for n, f in zip(names, logical.schema)]
        mat = StreamNode("materialize", schema, [root],
                         {"name": self.name, "relation_id": self.relation_id},
                         list(root.stream_key))
        top = self._fragment(mat, self._parallelism_of(root))
        del top
        for frag in self.fragments:
            _number_ops(frag)
        return StreamPlan(self.relation_id, self.name, self.fragments, schema,
                          list(root.stream_key))

    # A fragment's parallelism: 1 when any operator in it is a singleton.
    def _parallelism_of(self, node: StreamNode) -> int:
        stack = [node]
        while stack:
            n = stack.pop()
            if n.params.get("singleton"):
                return 1
            if n.kind not in ("exchange", "table_scan"):
                stack.extend(n.inputs)
            elif n.kind == "exchange" and n.distribution is not None and \
                    n.distribution.kind == "single":
                return 1
        return self.parallelism

    def _fragment(self, root: StreamNode, parallelism: int) -> Fragment:
        frag = Fragment(len(self.fragments), root, parallelism)
        stack = [root]
        while stack:
            n = stack.pop()
            if n.kind in ("exchange", "table_scan"):
                frag.leaves.append(n)
            else:
                stack.extend(n.inputs)
        self.fragments.append(frag)
        return frag

    def _exchange(self, node: StreamNode, dist: Distribution) -> StreamNode:
        """Close the fragment holding `node` and read its output through an exchange."""
        frag = self._fragment(node, self._parallelism_of(node))
        return StreamNode("exchange", node.schema, [], {}, list(node.stream_key),
                          upstream_fragment=frag.index, distribution=dist)

    def _lower(self, node: LogicalNode) -> StreamNode:
        if isinstance(node, LogicalScan):
            rel = node.relation
            all_fields = [Field(c.name, c.type) for c in rel.columns]
            if rel.kind == SOURCE and rel.options.get("proctime"):
                return source_node(rel, all_fields, node.columns)
            if rel.kind == SOURCE:
                scan = source_node(rel, all_fields)
            else:
                scan = StreamNode("table_scan", all_fields, [],
                                  {"name": rel.name, "relation_id": rel.id},
                                  list(rel.pk) if rel.pk else [],
                                  upstream_relation=rel.id,
                                  distribution=Distribution("hash", tuple(rel.pk or range(len(
                                      rel.columns)))))
            if node.columns == list(range(len(rel.columns))):
                return scan
            exprs = [X.InputRef(i, rel.columns[i].type, rel.columns[i].name) for i in node.columns]
            key = [node.columns.index(k) for k in scan.stream_key] \
                if all(k in node.columns for k in scan.stream_key) and scan.stream_key else []
            return StreamNode("project", node.schema, [scan], {"exprs": exprs}, key)
        if isinstance(node, LogicalProject):
            child = self._lower(node.input)
            if child.kind == "project" and all(isinstance(e, X.InputRef)
                                               for e in child.params["exprs"]):
                # A column selection below: fold it into this projection.
                from planner.optimizer import substitute
                inner = child.params["exprs"]
                node = LogicalProject(node.input, [substitute(e, inner) for e in node.exprs],
                                      node.names)
                child = child.inputs[0]
            if len(node.exprs) == len(child.schema) and all(
                    isinstance(e, X.InputRef) and e.index == i for i, e in enumerate(node.exprs)):
                child.schema = node.schema  # an identity projection only renames
                return child
            mapping = {e.index: i for i, e in enumerate(node.exprs) if isinstance(e, X.InputRef)}
            key = [mapping[k] for k in child.stream_key] \
                if child.stream_key and all(k in mapping for k in child.stream_key) else []
            if child.kind == "hop_window" and child.params.get("output") is None and all(
                    isinstance(e, X.InputRef) for e in node.exprs):
                # Only picks columns of the windowed rows: the hop window emits just those
                # (no full-width row per window and no second pass over the rows).
                child.params["output"] = [e.index for e in node.exprs]
                child.schema, child.stream_key = node.schema, key
                return child
            if any(contains_udf(e) for e in node.exprs) and _reads_source(child):
                # UDF calls get their own actors, apart from the source's reader: a slow
                # call then shows as backpressure on the reader (sys.backpressure).
                child = self._exchange(child, Distribution("hash", tuple(
                    child.stream_key or range(len(child.schema)))))
            return StreamNode("project", node.schema, [child], {"exprs": node.exprs}, key)
        if isinstance(node, LogicalFilter):
            child = self._lower(node.input)
            return StreamNode("filter", node.schema, [child], {"predicate": node.predicate},
                              list(child.stream_key))
        if isinstance(node, LogicalEowcAgg):
            child = self._lower(node.input)
            gk = node.group_key
            ex = self._exchange(child, Distribution("hash", tuple(gk)))
            return StreamNode("eowc_agg", node.schema, [ex],
                              {"group_key": list(gk), "calls": list(node.calls),
                               "window_col": node.window_col}, list(range(len(gk))))
        if isinstance(node, LogicalTemporalFilter):
            child = self._lower(node.input)
            return StreamNode("temporal_filter", node.schema, [child],
                              {"time_col": node.time_col,
                               "delay_us": window_micros(node.delay, "delay"),
                               "strict": node.strict}, list(child.stream_key))
        if isinstance(node, LogicalHopWindow):
            child = self._lower(node.input)
            width = len(child.schema)
            return StreamNode("hop_window", node.schema, [child],
                              {"time_col": node.time_col,
                               "slide_us": window_micros(node.slide, "slide"),
                               "size_us": window_micros(node.size, "size"),
                               "offset_us": window_micros(node.offset, "offset")},
                              list(child.stream_key) + [width] if child.stream_key else [])
        if isinstance(node, LogicalAgg):
            child = self._lower(node.input)
            gk = node.group_key
            dist = Distribution("hash", tuple(gk)) if gk else Distribution("single")
            ex = self._exchange(child, dist)
            return StreamNode("hash_agg", node.schema, [ex],
                              {"group_key": list(gk), "calls": list(node.calls),
                               "singleton": not gk},
                              list(range(len(gk))))
        if isinstance(node, LogicalJoin):
            left = self._lower(node.left)
            right = self._lower(node.right)
            # A null-aware anti join keeps a verdict over the whole right side: one actor.
            has_keys = bool(node.left_keys) and not node.null_aware
            lx = self._exchange(left, Distribution("hash", tuple(node.left_keys))
                                if has_keys else Distribution("single"))
            rx = self._exchange(right, Distribution("hash", tuple(node.right_keys))
                                if has_keys else Distribution("single"))
            lw = len(node.left.schema)
            if node.kind in ("semi", "anti"):
                key = list(left.stream_key)
            else:
                key = (list(left.stream_key) + [lw + k for k in right.stream_key]
                       if left.stream_key and right.stream_key else [])
            return StreamNode("hash_join", node.schema, [lx, rx],
                              {"kind": node.kind, "left_key": list(node.left_keys),
                               "right_key": list(node.right_keys), "condition": node.condition,
                               "left_width": lw, "right_width": len(node.right.schema),
                               "null_aware": node.null_aware, "singleton": not has_keys,
                               "interval": interval_bounds(node.condition, lw)}, key)
        if isinstance(node, LogicalOverWindow):
            child = self._lower(node.input)
            part = node.partition
            ex = self._exchange(child, Distribution("hash", tuple(part)) if part
                                else Distribution("single"))
            return StreamNode("over_window", node.schema, [ex],
                              {"partition": list(part), "order": list(node.order),
                               "calls": list(node.calls), "singleton": not part},
                              list(child.stream_key))
        if isinstance(node, LogicalTopN):
            child = self._lower(node.input)
            gk = node.group_key
            dist = Distribution("hash", tuple(gk)) if gk else Distribution("single")
            ex = self._exchange(child, dist)
            key = list(child.stream_key)
            return StreamNode("top_n", node.schema, [ex],
                              {"order": list(node.order), "limit": node.limit,
                               "offset": node.offset, "group_key": list(gk),
                               "row_number": node.row_number, "singleton": not gk}, key)
        if isinstance(node, LogicalDistinct):
            child = self._lower(node.input)
            n = len(node.schema)
            ex = self._exchange(child, Distribution("hash", tuple(range(n))))
            return StreamNode("distinct", node.schema, [ex], {"key": list(range(n))},
                              list(range(n)))
        if isinstance(node, LogicalUnion):
            kids = [self._lower(i) for i in node.inputs_]
            n = len(node.schema)
            exs = [self._exchange(k, Distribution("hash", tuple(range(n)))) for k in kids]
            return StreamNode("union", node.schema, exs, {}, [])
        if isinstance(node, LogicalValues):
            if node.fields:
                raise not_supported("VALUES in a streaming query")
            return StreamNode("values", node.schema, [], {"rows": node.rows, "singleton": True},
                              [])
        raise not_supported(f"{type(node).__name__} in a streaming query")


def source_node(rel: Relation, fields: list[Field], columns: list[int] | None = None
                ) -> StreamNode:
    """A source's reader inside a view's graph: a leaf that generates rows itself
    (each view reading a source gets its own readers). With `columns`, a source with
    `AS PROCTIME()` columns comes out as a projection to those columns (a proctime
    column nobody reads costs nothing)."""
    opts = rel.options
    proctime = opts.get("proctime") or []
    read = [c for c in rel.columns if c.name not in proctime]
    wm = opts.get("watermark")
    watermark = None
    if wm:
        idx = next((i for i, c in enumerate(read) if c.name == wm[0]), None)
        watermark = (idx, int(wm[1])) if idx is not None else None
    node = StreamNode("source", [f for f in fields if f.name not in proctime], [],
                      {"name": rel.name, "relation_id": rel.id,
                       "options": dict(opts.get("with", {})),
                       "columns": [(c.name, c.type) for c in read],
                       "encode": opts.get("encode"),
                       "encode_options": dict(opts.get("encode_options") or {}),
                       "watermark": watermark,
                       # Exchanges forward the minimum of the readers' watermarks, and a
                       # reader without splits catches up with the others; but a files
                       # reader owning no file yet may get one later and would hold the
                       # watermark back: a files source with one is read by one actor.
                       "singleton": watermark is not None and
                       opts.get("with", {}).get("connector") == "posix_fs"}, [])
    if not proctime:
        return node
    # `col AS PROCTIME()` columns: the time each row passes this projection.
    names = [c.name for c in read]
    wanted = list(range(len(rel.columns))) if columns is None else columns
    cols = [rel.columns[i] for i in wanted]
    exprs = [X.Call("proctime", (), c.type) if c.name in proctime else
             X.InputRef(names.index(c.name), c.type, c.name) for c in cols]
    if all(isinstance(e, X.InputRef) for e in exprs) and \
            [e.index for e in exprs if isinstance(e, X.InputRef)] == list(range(len(read))):
        return node
    return StreamNode("project", [Field(c.name, c.type) for c in cols], [node],
                      {"exprs": exprs}, [])


def _reads_source(node: StreamNode) -> bool:
    """Whether a source reader runs in the fragment being built under `node`."""
    stack = [node]
    while stack:
        n = stack.pop()
        if n.kind == "source":
            return True
        if n.kind not in ("exchange", "table_scan"):
            stack.extend(n.inputs)
    return False


def _number_ops(frag: Fragment) -> None:
    """Give every operator of a fragment a stable index (pre-order), used in state ids."""
    counter = 0
    stack = [frag.root]
    while stack:
        n = stack.pop()
        n.op_index = counter
        counter += 1
        if n.kind not in ("exchange", "table_scan"):
            stack.extend(reversed(n.inputs))


__all__ = ["StreamPlan", "StreamPlanner", "StreamNode", "Fragment", "Distribution", "AggCall"]
