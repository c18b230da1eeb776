"""ALTER MATERIALIZED VIEW v SET PARALLELISM = n, done the way recovery is.

The stream graph is stopped after a checkpoint, so the committed epoch E is the
whole truth: nothing the actors did after it counts. The view's committed state
is regrouped by vnode for the new actors, the offsets of the source readers in
the view are merged for the new readers, and both are committed with the new
catalog in one transaction at E. The graph is then rebuilt from E exactly as
after a crash (connectors rewind, acknowledged DML is replayed). A crash at any
moment leaves either the old catalog with the old state or the new catalog with
the regrouped state, both as of E.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from executor.exchange import owner_of_vnode
from planner.catalog import Relation
from planner.stream_plan import StreamPlan
from storage.state_table import vnode_of

if TYPE_CHECKING:
    from sqlstream.database import Database


def check(rel: Relation, plan: StreamPlan) -> int | None:
    """The distribution length of the view's materialized rows; NotImplementedError
    when they cannot be regrouped (they follow the group key of an aggregate)."""
    sink = next(f for f in plan.fragments if f.root.kind == "materialize")
    below = sink.root.inputs[0]
    mat_dist = len(below.params["group_key"]) if below.kind == "hash_agg" else None
    if sink.parallelism > 1 and mat_dist is None:
        raise NotImplementedError("a view whose last operator is not a grouped aggregate")
    for frag in plan.fragments:
        stack = [frag.root]
        while stack:
            node = stack.pop()
            if node.kind == "source" and \
                    node.params["options"].get("connector") == "posix_fs":
                raise NotImplementedError("a view reading a files source directly")
            if node.kind not in ("exchange", "table_scan"):
                stack.extend(node.inputs)
    return mat_dist


async def rescale(db: "Database", rel: Relation, plan: StreamPlan, mat_dist: int | None,
                  n: int) -> None:
    """Run on the engine loop after a FLUSH, with DDL and DML locked out. On an error
    before the commit the graph is rebuilt as it was."""
    from sqlstream import recovery
    before = rel.parallelism
    try:
        await _regroup(db, rel, plan, mat_dist, n)
    except BaseException:
        rel.parallelism = before
        db.store.discard_uncommitted()
        await recovery.restart(db)
        raise
    await recovery.restart(db)


async def _regroup(db: "Database", rel: Relation, plan: StreamPlan, mat_dist: int | None,
                   n_new: int) -> None:
    runtime = db.runtime
    assert runtime is not None
    rt = runtime.relations[rel.id]
    tables = {st.table_id: st.dist_len for a in rt.actors for st in a.states}
    readers = [r.key for rs in runtime.sources.values() for r in rs
               if r.key.startswith(f"source:r{rel.id}/")]
    await runtime.stop()
    store = db.store
    store.discard_uncommitted()  # work after the last commit is redone from it
    epoch = store.committed_epoch
    sink = next(f for f in plan.fragments if f.root.kind == "materialize")

    def parallelism(base: str) -> int:
        if base.endswith("/mat"):
            return sink.parallelism
        return next(f.parallelism for f in plan.fragments
                    if base.startswith((f"r{rel.id}/f{f.index}/",
                                        f"source:r{rel.id}/f{f.index}/")))

    # State: the committed entries of every old table, regrouped by vnode.
    merged: dict[str, tuple[int, dict[tuple, Any]]] = {}
    for tid, dist in tables.items():
        base = tid.rsplit("/a", 1)[0]
        if base.endswith("/mat"):
            dist = mat_dist or 0
        data = merged.setdefault(base, (dist, {}))[1]
        data.update((k, v) for _vn, k, v in await store.load_state(tid))
    written: list[str] = []
    for base, (dist, data) in merged.items():
        n = parallelism(base)
        parts: list[list[tuple[tuple, Any]]] = [[] for _ in range(n)]
        for key, value in data.items():
            owner = owner_of_vnode(vnode_of(key[:dist]), n) if dist and key else 0
            parts[owner].append((key, value))
        for i, part in enumerate(parts):
            tid = f"{base}/a{i}of{n}"
            store.stage_snapshot(epoch, tid, part)
            written.append(tid)
    for tid in tables:
        if tid not in written:
            store.stage_snapshot(epoch, tid, [])
    # Source readers in the view: each new reader restores its own splits from the
    # union of the old readers' committed positions.
    offsets = await store.load_offsets()
    by_base: dict[str, list[dict[str, Any]]] = {}
    for key in readers:
        if key in offsets:
            by_base.setdefault(key.rsplit("/a", 1)[0], []).append(json.loads(offsets[key]))
    for base, saved in by_base.items():
        position: dict[str, Any] = {}
        for s in saved:
            position.update(s["position"])
        rows = sum(int(s.get("rows", 0)) for s in saved)
        for i in range(parallelism(base)):
            store.stage_offset(epoch, f"{base}/a{i}of{parallelism(base)}", json.dumps(
                {"position": position, "rows": rows if i == 0 else 0}))
    rel.parallelism = n_new
    await store.commit(epoch, {"catalog": db.catalog.to_json()})


__all__ = ["check", "rescale"]
