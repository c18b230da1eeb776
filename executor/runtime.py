"""The stream runtime: deploys stream plans as actors wired by bounded channels,
subscribes new views to their upstream relations (with a backfill snapshot),
drops them, and commits epochs through the barrier manager.

Everything here runs on the engine's event loop thread. Graph changes (attach,
drop) are made between two awaits, so no actor sees a half-made change.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from executor.barrier_manager import DEFAULT_MAX_INFLIGHT, BarrierManager
from executor.builder import MULTI_INPUT, BuildContext, build_operator
from executor.exchange import Channel, Dispatcher, Edge, merge, split
from executor.message import Barrier, Chunk, Message
from executor.metrics import ActorMetrics, ProcessCpu, count_rows, idle_while
from executor.operators.materialize import Materialize, RowIds
from executor.operators.source_reader import SourceReader, open_reader
from executor.operators.table_source import TableSource, parse_watermark, watermark_key
from executor.sinks.open import SinkExecutor, open_sink
from planner.catalog import Relation
from planner.stream_plan import Fragment, StreamNode, StreamPlan
from storage.checkpoint_store import CheckpointStore
from storage.serving_store import Delta, ServingStore
from storage.state_table import AppendLog, StateTable

log = logging.getLogger("sqlstream.runtime")


@dataclass
class Actor:
    id: int
    relation_id: int
    fragment: int
    index: int
    parallelism: int
    operators: list[str]
    dispatcher: Dispatcher = field(default_factory=Dispatcher)
    materialize: Materialize | None = None
    source: TableSource | None = None
    task: asyncio.Task | None = None
    states: list[StateTable] = field(default_factory=list)
    rows_out: int = 0
    # Wall time split into busy / idle / backpressured over a sliding window
    # (None when the setting `metrics_enabled` is off).
    metrics: ActorMetrics | None = None
    started: float = field(default_factory=time.time)

    @property
    def rows_in(self) -> int:
        return self.metrics.rows_in if self.metrics is not None else 0


@dataclass
class RelationRuntime:
    relation: Relation
    actors: list[Actor]
    mat_actors: list[Actor]
    plan: StreamPlan | None = None
    input: Channel | None = None  # a table's DML injection point
    backfill_total: int = 0
    backfill_sent: int = 0
    created_at: float = field(default_factory=time.time)


class Runtime:
    def __init__(self, store: CheckpointStore, serving: ServingStore,
                 settings: dict[str, Any]) -> None:
        self.store = store
        self.serving = serving
        self.settings = settings
        self.relations: dict[int, RelationRuntime] = {}
        self.rids = RowIds()  # shared by every materialize actor
        self.append_only: dict[int, bool] = {}  # by view: only inserts reach its materialize
        self._actor_ids = itertools.count(1)
        self._serving_staged: dict[int, dict[int, list[Delta]]] = defaultdict(dict)
        # Source readers by source name (metrics; ALTER SOURCE rate limits), and the
        # tasks feeding connector rows into tables created WITH (connector = ...).
        self.sources: dict[str, list[SourceReader]] = {}
        self._pumps: dict[int, asyncio.Task] = {}
        # Sink writers' operators by sink relation id (sys.sinks; told of commits).
        self.sinks: dict[int, list[SinkExecutor]] = {}
        self.cpu = ProcessCpu(float(settings.get("metrics_window_s", 10)))
        self._sampler: asyncio.Task | None = None
        self.channels: list[Channel] = []
        self.barriers = BarrierManager(self._commit, store.committed_epoch,
                                       int(settings.get("barrier_interval_ms", 1000)),
                                       int(settings.get("checkpoint_frequency", 1)),
                                       int(settings.get("max_inflight_barriers",
                                                        DEFAULT_MAX_INFLIGHT)))
        self.barriers.on_failure = self._on_failure

    def _channel(self) -> Channel:
        ch = Channel(self.capacity)
        self.channels.append(ch)
        return ch

    def _on_failure(self) -> None:
        """An actor died: close every channel so nothing stays blocked on the dead
        graph (a DML statement's rows are already in the durable log; the rebuild
        replays them)."""
        for ch in self.channels:
            ch.close()

    @property
    def capacity(self) -> int:
        return int(self.settings.get("exchange_capacity", 2048))

    @property
    def chunk_size(self) -> int:
        return int(self.settings.get("chunk_size", 1024))

    # ------------------------------------------------------------ commits
    def stage_serving(self, epoch: int, relation_id: int, delta: Delta) -> None:
        self._serving_staged[epoch].setdefault(relation_id, []).append(delta)

    async def _commit(self, epoch: int) -> None:
        await self.store.commit(epoch)
        staged = [self._serving_staged.pop(e) for e in sorted(self._serving_staged) if e <= epoch]
        for per_rel in staged:
            merged: dict[int, Delta] = {}
            for rid, deltas in per_rel.items():
                d = Delta()
                for x in deltas:
                    d.deletes.extend(x.deletes)
                    d.inserts.extend(x.inserts)
                    d.appends.extend(x.appends)
                merged[rid] = d
            if merged:
                await asyncio.to_thread(self.serving.apply, merged)
        for sinks in self.sinks.values():
            for s in sinks:
                s.committed(epoch)

    # ------------------------------------------------------------ deploy
    async def deploy_table(self, rel: Relation, parallelism: int, offset: int,
                           partial: int = 0) -> RelationRuntime:
        """A table: source actor (DML + barriers) -> hash(pk) -> materialize actors."""
        input_ch = self._channel()
        src_actor = self._new_actor(rel.id, 0, 0, 1, ["TableSource"])
        input_ch.rx = src_actor.metrics
        watermark = _table_watermark(rel)
        current = None
        if watermark is not None:
            current = parse_watermark((await self.store.load_offsets()).get(
                watermark_key(rel.id)))
        source = TableSource(rel.id, self.store, offset, partial, watermark, current)
        src_actor.source = source
        mats: list[Actor] = []
        chans = [self._channel() for _ in range(parallelism)]
        src_actor.dispatcher.edges.append(Edge(chans, tuple(rel.pk), target="mat"))
        for i in range(parallelism):
            actor = self._new_actor(rel.id, 1, i, parallelism, ["Materialize"])
            chans[i].tx, chans[i].rx = src_actor.metrics, actor.metrics
            state = await self._state(f"r{rel.id}/mat", i, parallelism, len(rel.pk), actor)
            mat = Materialize(rel.id, list(rel.pk), state, self, self.rids,
                              upsert=rel.options.get("format") == "UPSERT")
            actor.materialize = mat
            self._bump_rids(mat)
            if state.data:  # recovery: refill the serving store from committed state
                self.serving.apply({rel.id: mat.initial_delta()})
            mats.append(actor)
        rt = RelationRuntime(rel, [src_actor] + mats, mats, None, input_ch)
        self.relations[rel.id] = rt
        # An APPEND ONLY table takes INSERT only: views over it see inserts only.
        self.append_only[rel.id] = bool(rel.options.get("append_only"))
        self._start(src_actor, source.execute(input_ch.__aiter__()))
        for actor, ch in zip(mats, chans):
            assert actor.materialize is not None
            self._start(actor, actor.materialize.execute(ch.__aiter__()), sink=True)
        if rel.options.get("with"):
            self._pumps[rel.id] = asyncio.ensure_future(self._pump_connector(rel, input_ch))
        else:
            self.barriers.add_source(("table", rel.id), input_ch)
        return rt

    async def _pump_connector(self, rel: Relation, input_ch: Channel) -> None:
        """A table WITH (connector = ...): its reader takes the barriers and feeds its
        rows (with a hidden row id), then each barrier, into the table's input, where
        DML statements join them."""
        from planner.stream_plan import source_node
        params = source_node(rel, []).params
        hidden = any(c.hidden for c in rel.columns)
        params["columns"] = [(c.name, c.type) for c in rel.columns if not c.hidden]
        params["primary_key"] = [rel.columns[i].name for i in rel.pk if not hidden]
        reader = open_reader(rel.name, f"source:table{rel.id}", params, 0, 1, self.store,
                             self.chunk_size, row_id=hidden)
        self.sources.setdefault(rel.name, []).append(reader)
        self.barriers.add_source(("table", rel.id), reader.inbox)
        try:
            async for msg in reader.execute():
                if type(msg) is Chunk:
                    await input_ch.send(msg)
                else:
                    input_ch.send_nowait(msg)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            log.exception("source reader of table %s failed", rel.name)
            self.barriers.fail(exc)

    async def deploy_view(self, rel: Relation, plan: StreamPlan, backfill: bool) -> RelationRuntime:
        """Build every fragment's actors, wire the exchanges, subscribe the scans to
        their upstream relations (sending a snapshot when `backfill`), start them."""
        frag_actors: dict[int, list[Actor]] = {}
        # channels[(fragment, leaf op index)][downstream actor][upstream actor]
        inputs: dict[tuple[int, int], list[list[Channel]]] = {}
        rt = RelationRuntime(rel, [], [], plan)
        self.append_only[rel.id] = append_only(plan, self.append_only)
        for frag in plan.fragments:
            n = frag.parallelism
            actors = [self._new_actor(rel.id, frag.index, i, n, _op_names(frag.root))
                      for i in range(n)]
            frag_actors[frag.index] = actors
            rt.actors.extend(actors)
            for leaf in frag.leaves:
                if leaf.kind == "exchange":
                    ups = frag_actors[leaf.upstream_fragment]
                    grid = self._grid(ups, actors)
                    for u, up in enumerate(ups):
                        keys = leaf.distribution.keys if leaf.distribution else ()
                        up.dispatcher.edges.append(Edge([grid[d][u] for d in range(n)], keys,
                                                        target=rel.id))
                    inputs[(frag.index, leaf.op_index)] = grid
                else:  # table_scan: subscribe to the upstream relation's materialize actors
                    upstream = self.relations[leaf.upstream_relation]
                    ups = upstream.mat_actors
                    grid = self._grid(ups, actors)
                    keys = leaf.distribution.keys if leaf.distribution else ()
                    for u, up in enumerate(ups):
                        edge = Edge([grid[d][u] for d in range(n)], keys, target=rel.id)
                        if backfill and up.materialize is not None:
                            rows = up.materialize.snapshot()
                            rt.backfill_total += len(rows)
                            edge.feeder = asyncio.ensure_future(
                                self._feed_snapshot(rows, edge, rt))
                        up.dispatcher.edges.append(edge)
                    inputs[(frag.index, leaf.op_index)] = grid
        # Build operator chains (state loaded) and start the actors.
        for frag in plan.fragments:
            for actor in frag_actors[frag.index]:
                ctx = await self._context(rel, plan, frag, actor)
                stream = self._build(frag.root, actor, inputs, ctx)
                is_sink = frag.root.kind in ("materialize", "sink")
                if is_sink:
                    rt.mat_actors.append(actor)
                if actor.materialize is not None:
                    await self._restore_materialized(actor)
                self._start(actor, stream, sink=is_sink)
        self.relations[rel.id] = rt
        return rt

    def _grid(self, ups: list[Actor], downs: list[Actor]) -> list[list[Channel]]:
        """Channels [downstream actor][upstream actor], each knowing both actors' clocks."""
        grid = [[self._channel() for _ in ups] for _ in downs]
        for d, down in enumerate(downs):
            for u, up in enumerate(ups):
                grid[d][u].tx, grid[d][u].rx = up.metrics, down.metrics
        return grid

    async def _feed_snapshot(self, rows: list[tuple], edge: Edge, rt: RelationRuntime) -> None:
        size = self.chunk_size
        for i in range(0, len(rows), size):
            chunk = Chunk.inserts(rows[i:i + size])
            if len(edge.channels) == 1:
                await edge.channels[0].send(chunk)
            else:
                for ch, part in zip(edge.channels, split(chunk, edge.keys, len(edge.channels))):
                    if part is not None:
                        await ch.send(part)
            rt.backfill_sent += len(chunk.rows)

    async def _context(self, rel: Relation, plan: StreamPlan, frag: Fragment,
                       actor: Actor) -> BuildContext:
        # Preload every state table this actor's operators use.
        wanted: list[tuple[StreamNode, str, int]] = []
        stack = [frag.root]
        while stack:
            node = stack.pop()
            if node.kind == "hash_join":
                n = len(node.params["left_key"])
                wanted += [(node, "left", n), (node, "right", n)]
            elif node.kind in ("hash_agg", "top_n", "distinct", "eowc_agg", "over_window"):
                key = node.params.get("group_key", node.params.get(
                    "key", node.params.get("partition", [])))
                wanted.append((node, "", len(key)))
            elif node.kind in ("values", "temporal_filter"):
                wanted.append((node, "", 0))
            if node.kind not in ("exchange", "table_scan"):
                stack.extend(node.inputs)
        tables: dict[tuple[int, str], StateTable] = {}
        for node, suffix, dist_len in wanted:
            tid = f"r{rel.id}/f{frag.index}/o{node.op_index}{'/' + suffix if suffix else ''}"
            tables[(node.op_index, suffix)] = await self._state(
                tid, actor.index, actor.parallelism, dist_len, actor)

        def state(node: StreamNode, suffix: str, dist_len: int) -> StateTable:
            return tables[(node.op_index, suffix)]

        return BuildContext(state, self.chunk_size, actor.metrics,
                            int(self.settings.get("udf_concurrency", 16)),
                            lambda node: inserts_only(node.inputs, plan, self.append_only))

    async def _state(self, base: str, index: int, parallelism: int, dist_len: int,
                     actor: Actor) -> StateTable:
        tid = f"{base}/a{index}of{parallelism}"
        st = StateTable(tid, self.store, dist_len)
        st.load((key, value) for _vnode, key, value in await self.store.load_state(tid))
        actor.states.append(st)
        return st

    def _build(self, node: StreamNode, actor: Actor,
               inputs: dict[tuple[int, int], list[list[Channel]]],
               ctx: BuildContext) -> AsyncIterator[Message]:
        stream = self._build_node(node, actor, inputs, ctx)
        if actor.metrics is not None and node.kind not in ("exchange", "table_scan"):
            return count_rows(stream, actor.metrics, node.op_index)  # EXPLAIN ANALYZE
        return stream

    def _build_node(self, node: StreamNode, actor: Actor,
                    inputs: dict[tuple[int, int], list[list[Channel]]],
                    ctx: BuildContext) -> AsyncIterator[Message]:
        if node.kind in ("exchange", "table_scan"):
            return merge(inputs[(actor.fragment, node.op_index)][actor.index])
        if node.kind == "materialize":
            tid = f"r{actor.relation_id}/mat/a{actor.index}of{actor.parallelism}"
            insert_only = self.append_only.get(actor.relation_id, False)
            mat = Materialize(node.params["relation_id"], None,
                              AppendLog(tid, self.store) if insert_only
                              else StateTable(tid, self.store, 0),
                              self, self.rids, insert_only)
            actor.materialize = mat
            # The input chain is built now, not when the generator first runs: a
            # source in it must take the barriers injected from here on.
            return mat.execute(self._build(node.inputs[0], actor, inputs, ctx))
        if node.kind == "sink":
            op = open_sink(node.params, actor.index, actor.parallelism, actor.metrics)
            self.sinks.setdefault(actor.relation_id, []).append(op)
            return op.execute(self._build(node.inputs[0], actor, inputs, ctx))
        if node.kind == "source":
            reader = open_reader(node.params["name"], f"source:r{actor.relation_id}/f"
                                 f"{actor.fragment}/o{node.op_index}/a{actor.index}of"
                                 f"{actor.parallelism}", node.params, actor.index,
                                 actor.parallelism, self.store, self.chunk_size)
            self.sources.setdefault(node.params["name"], []).append(reader)
            self.barriers.add_source(("source", actor.id), reader.inbox)
            if actor.metrics is not None:  # waiting for data or for its rate is idle time
                reader.inbox.wait = idle_while(actor.metrics, reader.inbox.wait)
            return reader.execute()
        if node.kind == "values":
            op = build_operator(node, ctx)
            ch = self._channel()
            ch.rx = actor.metrics
            self.barriers.add_source(("values", actor.id), ch)
            return op.execute(ch.__aiter__())
        op = build_operator(node, ctx)
        if node.kind in MULTI_INPUT:
            return op.execute([self._build(c, actor, inputs, ctx) for c in node.inputs])
        return op.execute(self._build(node.inputs[0], actor, inputs, ctx))

    async def _restore_materialized(self, actor: Actor) -> None:
        """Load a view's committed contents (its materialized state) and put them in the
        serving store before its actor starts: a batch read right after recovery (or
        a new subscriber's backfill) sees the whole committed epoch, never a part."""
        mat = actor.materialize
        assert mat is not None
        mat.load([(k, v) for _vn, k, v in await self.store.load_state(mat.state.table_id)])
        actor.states.append(mat.state)
        self._bump_rids(mat)
        if mat.state.data:
            self.serving.apply({mat.relation_id: mat.initial_delta()})

    def _bump_rids(self, mat: Materialize) -> None:
        self.rids.bump(mat.max_rid())
        mat.rids = self.rids

    def _new_actor(self, rel_id: int, frag: int, index: int, n: int,
                   operators: list[str]) -> Actor:
        aid = next(self._actor_ids)
        metrics = None
        if self.settings.get("metrics_enabled", True):
            metrics = ActorMetrics(aid, rel_id, frag,
                                   float(self.settings.get("metrics_window_s", 10)))
        return Actor(aid, rel_id, frag, index, n, operators, metrics=metrics)

    def _start(self, actor: Actor, stream: AsyncIterator[Message], sink: bool = False) -> None:
        if self._sampler is None:
            self._sampler = asyncio.ensure_future(self._sample_cpu())
        if sink:
            self.barriers.add_sink(actor.id)
        actor.task = asyncio.ensure_future(self._run_actor(actor, stream, sink))

    async def _run_actor(self, actor: Actor, stream: AsyncIterator[Message], sink: bool) -> None:
        dispatcher = actor.dispatcher
        barriers = self.barriers
        metrics = actor.metrics
        try:
            # Busy / idle / backpressured time is switched by the channels the actor
            # reads and writes (executor/metrics.py); here only rows are counted.
            async for msg in stream:
                if type(msg) is Chunk:
                    n = len(msg.rows)
                    actor.rows_out += n
                    if metrics is not None:
                        metrics.add_rows(n)
                await dispatcher.dispatch(msg)
                if sink and type(msg) is Barrier:
                    barriers.collect(actor.id, msg.epoch)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a bug in an operator: stop committing, report it
            log.exception("actor %s of relation %s failed", actor.id, actor.relation_id)
            barriers.fail(exc)

    # ------------------------------------------------------------ drop
    async def drop(self, rel_id: int) -> None:
        rt = self.relations.pop(rel_id, None)
        self.append_only.pop(rel_id, None)
        if rt is None:
            return
        # Unsubscribe from upstream relations first (closing those channels wakes any
        # upstream actor blocked on them), then stop this relation's actors.
        for other in self.relations.values():
            for actor in other.mat_actors:
                actor.dispatcher.remove_target(rel_id)
        self.barriers.remove_sinks([a.id for a in rt.mat_actors])
        self.barriers.remove_source(("table", rel_id))
        self.sinks.pop(rel_id, None)
        pump = self._pumps.pop(rel_id, None)
        if pump is not None:
            pump.cancel()
        for name in list(self.sources):
            self.sources[name] = [r for r in self.sources[name]
                                  if not r.key.startswith((f"source:r{rel_id}/",
                                                           f"source:table{rel_id}"))]
            if not self.sources[name]:
                del self.sources[name]
        for a in rt.actors:
            self.barriers.remove_source(("values", a.id))
            self.barriers.remove_source(("source", a.id))
        await _cancel_all([a.task for a in rt.actors if a.task is not None])

    async def _sample_cpu(self) -> None:
        """Process CPU time once a second: tells a CPU-bound process (sys.bottlenecks)."""
        while True:
            self.cpu.sample()
            await asyncio.sleep(1.0)

    async def stop(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
        await self.barriers.stop()
        for pump in self._pumps.values():
            pump.cancel()
        self._on_failure()  # close every channel: nothing may stay blocked on one
        await _cancel_all([a.task for rt in self.relations.values() for a in rt.actors
                           if a.task is not None])


async def _cancel_all(tasks: list[asyncio.Task]) -> None:
    """Cancel tasks and wait for them, a bounded time: a task that does not end is
    reported instead of hanging the caller."""
    for t in tasks:
        t.cancel()
    if not tasks:
        return
    _done, pending = await asyncio.wait(tasks, timeout=5)
    for t in pending:
        log.error("actor task did not stop when cancelled: %s", t.get_stack(limit=8))


# Operators whose output holds only inserts when their inputs do (an inner join's
# state cleanup forgets rows without retracting output; "values" emits once).
_INSERTS_STAY_INSERTS = ("source", "values", "project", "filter", "hop_window", "union",
                         "materialize")


def _table_watermark(rel: Relation) -> tuple[int, dt.timedelta] | None:
    """An APPEND ONLY table's WATERMARK for its DML (a table with a connector gets its
    watermarks from the connector's reader)."""
    wm = rel.options.get("watermark")
    if not wm or rel.options.get("with"):
        return None
    col = rel.column_index(wm[0])
    assert col is not None
    return col, dt.timedelta(microseconds=int(wm[1]))


def append_only(plan: StreamPlan, upstream: dict[int, bool]) -> bool:
    """Whether only inserts can reach a view's materialize: every operator keeps
    inserts as inserts and every relation it scans is an append-only view
    or table (`upstream`; only APPEND ONLY tables are). Aggregates, top-N, distinct,
    temporal filters, over windows and outer/semi/anti joins can retract rows."""
    return inserts_only([f.root for f in plan.fragments], plan, upstream)


def inserts_only(nodes: list[StreamNode], plan: StreamPlan, upstream: dict[int, bool]) -> bool:
    """Whether the streams out of `nodes` can hold only inserts (see append_only);
    an exchange is followed into the fragment that feeds it."""
    fragments = {f.index: f for f in plan.fragments}
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if node.kind == "table_scan":
            if node.upstream_relation is None or not upstream.get(node.upstream_relation):
                return False
        elif node.kind == "exchange":
            if node.upstream_fragment is not None:
                stack.append(fragments[node.upstream_fragment].root)
        elif node.kind == "hash_join":
            if node.params["kind"] != "inner":
                return False
        elif node.kind not in _INSERTS_STAY_INSERTS:
            return False
        if node.kind not in ("exchange", "table_scan"):
            stack.extend(node.inputs)
    return True


def _op_names(root: StreamNode) -> list[str]:
    names = []
    stack = [root]
    while stack:
        n = stack.pop()
        if n.kind not in ("exchange", "table_scan"):
            names.append(n.describe().split(" ")[0])
            stack.extend(n.inputs)
    return names
