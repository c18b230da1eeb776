"""Stream plan: the logical plan lowered to incremental operators, cut into
fragments at exchanges. Each fragment runs as `parallelism` actors; an exchange
says how rows are routed to the next fragment's actors (hash on keys, single).

A fragment's leaves are inputs: `StreamExchange` (from another fragment of the
same view) or `StreamTableScan` (a subscription to an upstream relation's
materialized output).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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
from planner.plan_shape import shape
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
            name = "StreamTemporalJoin" if p.get("temporal") else "StreamHashJoin" \
                if p["kind"] in ("inner", "left", "right", "full") else "StreamSemiAntiJoin"
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
        if k == "sink":
            return (f"StreamSink {{ name: {p['name']}, connector: "
                    f"{p['options'].get('connector')}, format: {p.get('format')} }}")
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
            cols = p["columns"] if p.get("output") is None else \
                [p["columns"][i] for i in p["output"]]
            return (f"StreamSource {{ source: {p['name']}, connector: "
                    f"{p['options'].get('connector')}, columns: ["
                    + ", ".join(c for c, _t in cols) + "] }")
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
        root = self._lower(prune_source_columns(logical) if shape() >= 2 else logical)
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
            if rel.kind == SOURCE:
                return source_node(rel, all_fields, node.columns)
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
            if shape() >= 2 and child.kind == "hop_window" and child.params.get("output") is None \
                    and all(isinstance(e, X.InputRef) for e in node.exprs):
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
                               "interval": interval_bounds(node.condition, lw),
                               "temporal": node.temporal}, key)
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
    (each view reading a source gets its own readers). With `columns` (positions in
    the source's columns), the reader produces only those, and its output comes out
    as exactly those columns in that order: a projection on top reorders them, drops
    the watermark column when only the reader needs it, and fills `AS PROCTIME()`
    columns (a proctime column nobody reads costs nothing)."""
    opts = rel.options
    proctime = opts.get("proctime") or []
    read = [c for c in rel.columns if c.name not in proctime]  # what the connector fills
    wanted = list(range(len(rel.columns))) if columns is None else columns
    names = {rel.columns[i].name for i in wanted}
    wm = opts.get("watermark")
    # The watermark column is always read: the reader drops late rows and emits
    # watermarks by it, whether or not the view selects it.
    output = [j for j, c in enumerate(read) if c.name in names or (wm and c.name == wm[0])]
    out_names = [read[j].name for j in output]
    watermark = None
    if wm and wm[0] in out_names:
        watermark = (out_names.index(wm[0]), int(wm[1]))
    by_name = {f.name: f for f in fields}
    node = StreamNode("source", [by_name[n] for n in out_names if n in by_name], [],
                      {"name": rel.name, "relation_id": rel.id,
                       "options": dict(opts.get("with", {})),
                       "columns": [(c.name, c.type) for c in read],
                       # Positions in `columns` the reader produces (None: all of them).
                       "output": None if output == list(range(len(read))) else output,
                       "encode": opts.get("encode"),
                       "format": opts.get("format"),
                       "encode_options": dict(opts.get("encode_options") or {}),
                       "watermark": watermark,
                       # Exchanges forward the minimum of the readers' watermarks, and a
                       # reader without splits catches up with the others; but a files
                       # reader owning no file yet may get one later and would hold the
                       # watermark back: a files source with one is read by one actor.
                       "singleton": watermark is not None and
                       opts.get("with", {}).get("connector") == "posix_fs"}, [])
    cols = [rel.columns[i] for i in wanted]
    exprs = [X.Call("proctime", (), c.type) if c.name in proctime else
             X.InputRef(out_names.index(c.name), c.type, c.name) for c in cols]
    if [e.index if isinstance(e, X.InputRef) else -1 for e in exprs] == \
            list(range(len(out_names))):
        return node
    # A column selection stays keyless: rows from a source are inserts without a key.
    return StreamNode("project", [Field(c.name, c.type) for c in cols], [node],
                      {"exprs": exprs}, [])


def prune_source_columns(node: LogicalNode) -> LogicalNode:
    """Narrow every scan of a source to the columns the plan above it reads, through
    the projections, filters and windows between them (a source's rows are inserts
    without a key, so a column nobody reads can go at the scan): its readers then
    parse and convert only those. The plan's output columns are unchanged.

    >>> from planner.catalog import ColumnDef, Relation
    >>> from planner.types import INT64, VARCHAR
    >>> rel = Relation(1, "s", SOURCE, [ColumnDef("a", INT64), ColumnDef("b", VARCHAR),
    ...                                 ColumnDef("c", INT64)], [], "", options={})
    >>> plan = LogicalProject(LogicalScan(rel, [0, 1, 2]), [X.InputRef(2, INT64, "c")], ["c"])
    >>> pruned = prune_source_columns(plan)
    >>> pruned.input.columns, pruned.exprs[0].index
    ([2], 0)
    """
    return _prune(node, None)[0]


# Operators between a source scan and the plan above whose columns can be pruned.
_CHAIN = (LogicalProject, LogicalFilter, LogicalHopWindow, LogicalTemporalFilter)


def _over_source(node: LogicalNode) -> bool:
    while isinstance(node, _CHAIN):
        node = node.input
    return isinstance(node, LogicalScan) and node.relation.kind == SOURCE


def _prune(node: LogicalNode, required: list[int] | None
           ) -> tuple[LogicalNode, dict[int, int] | None]:
    """`node` rewritten to output at least its `required` columns (None: all), and the
    new position of each column kept (None: the columns are unchanged)."""
    if not _over_source(node):
        return _prune_inputs(node), None
    width = len(node.schema)
    req = sorted(set(range(width) if required is None else required))
    if isinstance(node, LogicalScan):
        if len(req) == width or not req:
            # A view reading no column (count(*)) reads them all, so that it counts
            # exactly the rows `SELECT *` would see (bad records skipped).
            return node, None
        return LogicalScan(node.relation, [node.columns[i] for i in req]), \
            {c: k for k, c in enumerate(req)}
    if isinstance(node, LogicalProject):
        exprs = [node.exprs[i] for i in req]
        need = sorted({r for e in exprs for r in e.input_refs()})
        child, m = _prune(node.input, need)
        out = LogicalProject(child, [_remap(e, m) for e in exprs], [node.names[i] for i in req])
        return out, None if len(req) == width else {c: k for k, c in enumerate(req)}
    if isinstance(node, LogicalFilter):
        pred = node.predicate
        need = sorted(set(req) | set(pred.input_refs()))
        child, m = _prune(node.input, need)
        return LogicalFilter(child, _remap(pred, m)), m
    if isinstance(node, LogicalTemporalFilter):
        child, m = _prune(node.input, sorted(set(req) | {node.time_col}))
        return replace(node, input=child,
                       time_col=node.time_col if m is None else m[node.time_col]), m
    assert isinstance(node, LogicalHopWindow)
    w = len(node.input.schema)  # window_start and window_end follow the input's columns
    child, m = _prune(node.input, sorted({i for i in req if i < w} | {node.time_col}))
    if m is None:
        return replace(node, input=child), None
    w2 = len(child.schema)
    return replace(node, input=child, time_col=m[node.time_col]), {**m, w: w2, w + 1: w2 + 1}


def _prune_inputs(node: LogicalNode) -> LogicalNode:
    """`node` with the source scans below its inputs pruned; its inputs keep all their
    columns (it may read any of them)."""
    for name in ("input", "left", "right"):
        if isinstance(getattr(node, name, None), _LOGICAL_NODES):
            node = replace(node, **{name: _prune(getattr(node, name), None)[0]})
    if isinstance(node, LogicalUnion):
        node = replace(node, inputs_=[_prune(i, None)[0] for i in node.inputs_])
    return node


_LOGICAL_NODES = (LogicalScan, LogicalProject, LogicalFilter, LogicalAgg, LogicalJoin,
                  LogicalTopN, LogicalDistinct, LogicalUnion, LogicalValues, LogicalOverWindow,
                  LogicalHopWindow, LogicalTemporalFilter)


def _remap(e: Any, m: dict[int, int] | None) -> Any:
    """`e` with each column reference moved to its new position."""
    if m is None:
        return e
    return e.transform(lambda n: replace(n, index=m[n.index]) if isinstance(n, X.InputRef)
                       else n)


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
