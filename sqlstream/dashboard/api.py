"""The dashboard's figures: rows of the `sys` tables, computed live on the engine loop
exactly as the tables compute them, as JSON-ready dicts keyed by the tables' column
names; plus a bounded history of per-second samples for the plots."""

from __future__ import annotations

import datetime as dt
import math
from collections import deque
from typing import TYPE_CHECKING, Any

from planner.catalog import MATERIALIZED_VIEW, SOURCE, TABLE
from sqlstream import system_tables

if TYPE_CHECKING:
    from executor.runtime import RelationRuntime
    from sqlstream.database import Database

# The sys tables every snapshot carries (the live update pushes one per second).
SNAPSHOT_TABLES = ("fragments", "actors", "backpressure", "sources", "bottlenecks")
SNAPSHOT_BARRIERS = 120  # the newest barriers in each snapshot; the history has all kept
RELATION_KINDS = (TABLE, SOURCE, MATERIALIZED_VIEW, "sink")


def json_value(v: Any) -> Any:
    """A sys-table value as JSON: timestamps as ISO 8601, non-finite floats as null."""
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def sys_rows(db: "Database", name: str) -> list[dict[str, Any]]:
    """The rows `SELECT * FROM sys.<name>` would return now, as dicts. Engine loop only."""
    cols, rows = system_tables.live_rows(db, name)
    return [dict(zip(cols, (json_value(v) for v in r))) for r in rows]


def snapshot(db: "Database") -> dict[str, Any]:
    """Everything the page draws, read in one pass on the engine loop."""
    assert db.runtime is not None
    out: dict[str, Any] = {"time": dt.datetime.now(dt.UTC).isoformat()}
    for name in SNAPSHOT_TABLES:
        out[name] = sys_rows(db, name)
    out["relations"] = relation_list(db, out["sources"])
    out["barrier_latency"] = sys_rows(db, "barrier_latency")[-SNAPSHOT_BARRIERS:]
    out["graphs"] = graphs(out["fragments"])
    out["process_cpu"] = json_value(db.runtime.cpu.utilization())
    return out


def relation_list(db: "Database", sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tables, sources, views and sinks (sys.relations) with their rows and rows/s: a
    table's or view's rows are its materialized rows; a source's are the rows its
    readers read. Rates are a table's source actor's, a source's readers' summed, a
    view's or sink's last actors' output (changes per second)."""
    assert db.runtime is not None
    by_id = {rt.relation.id: rt for rt in db.runtime.relations.values()}
    out = []
    for row in sys_rows(db, "relations"):
        if row["kind"] not in RELATION_KINDS:
            continue
        rt = by_id.get(row["id"])
        rows: int | None = None
        rate: float | None = None
        if row["kind"] == SOURCE:
            mine = [s for s in sources if s["source"] == row["name"]]
            rows = sum(s["rows_read"] or 0 for s in mine)
            rate = sum(s["rows_per_second"] or 0.0 for s in mine)
        elif rt is not None:
            rows = _materialized_rows(rt)
            if row["kind"] == TABLE:
                own = [s for s in sources if s["source"] == row["name"] and s["reader"] == "table"]
                rate = own[0]["rows_per_second"] if own else None
            else:
                rate = _output_rate(rt)
        out.append({**row, "rows": rows, "rows_per_second": json_value(rate),
                    "running": rt is not None})
    return out


def _materialized_rows(rt: "RelationRuntime") -> int | None:
    tables = [st for a in rt.mat_actors for st in a.states if "/mat/" in st.table_id]
    return sum(st.row_count() for st in tables) if tables else None


def _output_rate(rt: "RelationRuntime") -> float | None:
    last = rt.mat_actors or [a for a in rt.actors if a.fragment == max(
        (b.fragment for b in rt.actors), default=0)]
    figs = [a.metrics.figures() for a in last if a.metrics is not None]
    return sum(f.rows_per_second for f in figs) if figs else None


def graphs(fragments: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Per relation, the fragments its graph shows: its own and, transitively, the
    fragments it reads from (a view's upstream table, whose source actor is where the
    view's backpressure arrives)."""
    by_id = {f["fragment_id"]: f for f in fragments}
    out: dict[str, list[int]] = {}
    for rel in dict.fromkeys(f["relation"] for f in fragments):
        seen: dict[int, None] = {}
        stack = [f["fragment_id"] for f in fragments if f["relation"] == rel]
        while stack:
            fid = stack.pop()
            if fid in seen or fid not in by_id:
                continue
            seen[fid] = None
            stack += upstream_ids(by_id[fid])
        out[rel] = sorted(seen)
    return out


def upstream_ids(fragment: dict[str, Any]) -> list[int]:
    text = fragment.get("upstream_fragment_ids") or ""
    return [int(x) for x in text.split(",") if x.strip()]


def view_detail(db: "Database", name: str) -> dict[str, Any] | None:
    """One relation's graph (fragments, actors, output edges, bottlenecks, as in the
    sys tables), its SQL, its stream plan (EXPLAIN) and the plan with live figures
    (EXPLAIN ANALYZE). None when no such relation runs. Engine loop only."""
    from executor.metrics import explain_analyze
    assert db.runtime is not None
    rel = db.catalog.get(name)
    if rel is None or rel.kind not in RELATION_KINDS:
        return None
    rt = db.runtime.relations.get(rel.id)
    fragments = sys_rows(db, "fragments")
    ids = set(graphs(fragments).get(rel.name, []))
    plan = rt.plan if rt is not None else None
    return {
        "name": rel.name,
        "kind": rel.kind,
        "definition": rel.definition,
        "explain": plan.explain().split("\n") if plan is not None else [],
        "explain_analyze": explain_analyze(plan, rt.actors) if plan is not None and
        rt is not None else [],
        "fragments": [f for f in fragments if f["fragment_id"] in ids],
        "actors": [a for a in sys_rows(db, "actors") if a["fragment_id"] in ids],
        "backpressure": [b for b in sys_rows(db, "backpressure") if b["fragment_id"] in ids],
        "bottlenecks": [b for b in sys_rows(db, "bottlenecks") if b["fragment_id"] in ids],
    }


class History:
    """A bounded ring of per-second samples of each source reader's rate and lag
    (barrier latencies need none: the barrier manager keeps the last 1000 epochs)."""

    def __init__(self, size: int = 600) -> None:
        self.samples: deque[dict[str, Any]] = deque(maxlen=size)

    def add(self, snap: dict[str, Any]) -> dict[str, Any]:
        sample = {"time": snap["time"],
                  "sources": [{k: s[k] for k in ("source", "relation", "reader",
                                                 "rows_per_second", "lag")}
                              for s in snap["sources"]]}
        self.samples.append(sample)
        return sample

    def as_list(self) -> list[dict[str, Any]]:
        return list(self.samples)


__all__ = ["snapshot", "view_detail", "sys_rows", "relation_list", "graphs", "History",
           "json_value"]
