"""The append-only layout of Materialize: a view over a stream that only inserts
keeps its rows by column, one state entry and one serving batch per checkpoint.

Unit cases on the operator and its state table, then views over CSV files
compared with DuckDB over the same files, restarts, rescaling, and views that are
not append-only (tables take deletes) keeping the multiset layout."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from executor.message import Chunk
from executor.operators.materialize import AppendOnlyViolation, Materialize, RowIds
from executor.runtime import append_only
from storage.serving_store import Delta, ServingStore
from storage.state_table import AppendLog, StateTable, decode_column, encode_column
from tests.differential.oracle import describe_difference, same_multiset
from tests.executor.harness import MockSource, run
from tests.sources.conftest import Sql


class Sink:
    def __init__(self) -> None:
        self.deltas: list[tuple[int, int, Delta]] = []

    def stage_serving(self, epoch: int, relation_id: int, delta: Delta) -> None:
        self.deltas.append((epoch, relation_id, delta))


class Store:
    """A checkpoint store stand-in: what was staged, as the store would pickle it."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, str, list[tuple[tuple, Any]]]] = []
        self.snapshots = 0

    def stage(self, epoch: int, table_id: str, writes: list) -> None:
        raise AssertionError("stage_entries is used")

    def stage_entries(self, epoch: int, table_id: str, entries: list) -> None:
        self.entries.append((epoch, table_id, entries))

    def stage_snapshot(self, epoch: int, table_id: str, entries: list) -> None:
        self.snapshots += 1


def served(deltas: list[Delta]) -> dict[int, tuple]:
    """rid -> row of every appended batch (each rid once)."""
    out: dict[int, tuple] = {}
    for d in deltas:
        assert not d.inserts and not d.deletes
        for first, n, columns in d.appends:
            rows = list(zip(*columns))
            assert len(rows) == n
            for i, row in enumerate(rows):
                assert first + i not in out, f"row id {first + i} twice"
                out[first + i] = row
    return out


def test_batches_per_checkpoint_with_duplicates_and_snapshot() -> None:
    sink, store = Sink(), Store()
    mat = Materialize(7, None, AppendLog("m", store), sink, RowIds(), append_only=True)
    src = (MockSource().push_chunk("+ 1 a\n+ 1 a\n+ 2 b").push_barrier()
           .push_barrier()  # nothing new: no batch
           .push_chunk("+ 3 c").push_chunk("+ 1 a").push_barrier())
    out = run(mat.execute, src)
    assert [m for m in out if isinstance(m, Chunk)][0] == Chunk.from_pretty("+ 1 a\n+ 1 a\n+ 2 b")
    assert [(e, len(d.appends)) for e, _r, d in sink.deltas] == [(2, 1), (4, 1)]
    rows = served([d for _e, _r, d in sink.deltas])
    assert sorted(rows.values()) == [(1, "a"), (1, "a"), (1, "a"), (2, "b"), (3, "c")]
    assert sorted(rows) == [1, 2, 3, 4, 5]  # one contiguous range per batch
    assert sorted(mat.snapshot()) == sorted(rows.values())
    # One state entry per checkpoint: key (first rid,), the rows by column.
    assert [(e, [k for k, _v in entries]) for e, _t, entries in store.entries] == \
        [(2, [(1,)]), (4, [(4,)])]
    assert store.entries[1][2][0][1] == (4, 2, [[3, 1], ["c", "a"]])
    assert mat.state.row_count() == 5 and mat.max_rid() == 5


def test_rows_in_pending_epoch_are_in_the_snapshot() -> None:
    mat = Materialize(1, None, AppendLog("m"), None, RowIds(), append_only=True)
    mat.apply(Chunk.from_pretty("+ 1 a"))
    mat.apply(Chunk.from_pretty("+ 2 b"))
    assert mat.snapshot() == [(1, "a"), (2, "b")]


@pytest.mark.parametrize("text", ["- 1 a", "+ 2 b\n- 1 a", "U- 1 a\nU+ 1 b"])
def test_a_delete_at_an_append_only_materialize_is_an_error(text: str) -> None:
    for state in (AppendLog("m"), StateTable("m")):
        mat = Materialize(1, None, state, None, RowIds(), append_only=True)
        mat.apply(Chunk.from_pretty("+ 1 a"))
        with pytest.raises(AppendOnlyViolation, match="append-only relation 1"):
            mat.apply(Chunk.from_pretty(text))


def test_actors_draw_disjoint_row_id_ranges() -> None:
    sink, rids = Sink(), RowIds()
    mats = [Materialize(1, None, AppendLog(f"m/a{i}"), sink, rids, append_only=True)
            for i in range(3)]
    for epoch in range(2, 6):
        for i, mat in enumerate(mats):
            mat.apply(Chunk.inserts([(epoch, i, j) for j in range(epoch + i)]))
        for mat in mats:  # every actor takes its range at the same barrier
            run(mat.execute, MockSource().push_barrier(epoch))
    rows = served([d for _e, _r, d in sink.deltas])  # asserts no rid twice
    assert len(rows) == sum(e + i for e in range(2, 6) for i in range(3))
    assert max(m.max_rid() for m in mats) == len(rows) == rids.next_id - 1


def test_recovery_reloads_batches_and_bumps_row_ids() -> None:
    store = Store()
    mat = Materialize(1, None, AppendLog("m", store), Sink(), RowIds(), append_only=True)
    rows = [(i, Decimal(i) / 8, dt.datetime(2020, 1, 1) + dt.timedelta(microseconds=i))
            for i in range(50)]
    mat.apply(Chunk.inserts(rows[:20]))
    run(mat.execute, MockSource().push_barrier(2))
    mat.apply(Chunk.inserts(rows[20:]))
    run(mat.execute, MockSource().push_barrier(3))
    committed = [kv for _e, _t, entries in store.entries for kv in entries]
    again = Materialize(1, None, AppendLog("m"), None, RowIds(), append_only=True)
    again.load(committed)
    assert again.log is not None and again.max_rid() == 50
    assert again.snapshot() == rows
    delta = again.initial_delta()
    assert sorted(served([delta]).items()) == list(enumerate(rows, 1))


def test_state_of_the_multiset_layout_keeps_that_layout() -> None:
    """A view created before append logs existed: its committed entries are
    (row) -> (count, rid); they are loaded as they are, and kept that way."""
    mat = Materialize(1, None, AppendLog("m"), Sink(), RowIds(), append_only=True)
    mat.load([((1, "a"), (2, 5)), ((2, "b"), (1, 6))])
    assert mat.log is None and type(mat.state) is StateTable
    assert sorted(mat.snapshot()) == [(1, "a"), (1, "a"), (2, "b")] and mat.max_rid() == 6
    mat.apply(Chunk.from_pretty("+ 1 a"))
    assert mat.state.data[(1, "a")] == (3, 5)


def test_one_entry_per_epoch_is_never_compacted() -> None:
    store = Store()
    log = AppendLog("m", store)
    for epoch in range(1, 3000):
        log.append(epoch, 1, [[epoch]])
        log.commit(epoch)
    assert store.snapshots == 0 and len(store.entries) == 2999 and log.row_count() == 2999


def test_columns_encode_and_decode_exactly() -> None:
    utc = dt.timezone.utc
    columns: list[list] = [
        [dt.datetime(1900, 1, 1, 0, 0, 0, 1), None, dt.datetime(2038, 5, 6, 7, 8, 9, 999999)],
        [Decimal("1.50"), Decimal("-0"), Decimal("1E+3"), None, Decimal("NaN")],
        [dt.date(1, 1, 1), dt.date(2024, 2, 29), None],
        [dt.datetime(2020, 1, 1, tzinfo=utc), dt.datetime(2021, 1, 1, tzinfo=utc)],  # kept
        [dt.datetime(2020, 1, 1, fold=1)],  # kept: the fold would be lost
        [1, "x", None, 2.5, True],
        [None, None],
    ]
    for column in columns:
        back = decode_column(encode_column(column))
        # repr: the type, a numeric's scale, a timestamp's zone and fold; NaN as NaN
        assert [repr(v) for v in back] == [repr(v) for v in column]
    assert isinstance(encode_column(columns[0]), dict)
    assert encode_column(columns[3]) is columns[3] and encode_column(columns[4]) is columns[4]


def test_serving_store_appends_batches() -> None:
    ss = ServingStore()
    ss.create_relation(3, "v", [("a", "BIGINT", False), ("t", "TIMESTAMP", False),
                                ("d", "DECIMAL(10,2)", False)], multiset=True)
    t = dt.datetime(2020, 1, 1)
    ss.apply({3: Delta(appends=[(10, 2, [[1, 1], [t, None], [Decimal("1.5"), None]])])})
    ss.apply({3: Delta(appends=[(12, 1, [[2], [t], [Decimal("2")]]),
                                (20, 2, [[3, 4], [None, t], [None, Decimal("0.25")]])])})
    got = ss.duck.execute("SELECT _rid, _n, c0 FROM _ss.r3 ORDER BY _rid").fetchall()
    assert got == [(10, 1, 1), (11, 1, 1), (12, 1, 2), (20, 1, 3), (21, 1, 4)]
    assert ss.duck.execute("SELECT count(*), sum(d), count(t) FROM v").fetchall() == \
        [(5, Decimal("3.75"), 3)]


# ------------------------------------------------------------------ end to end

CSV_A = "id,k,name,price,ts"
CSV_B = "k,label"


def write_files(root: Path, seed: int) -> None:
    """Two CSV files of `a` (duplicates, NULLs) and one of `b`."""
    rng = random.Random(seed)
    (root / "a").mkdir()
    (root / "b").mkdir()
    for f in range(2):
        lines = [CSV_A]
        for i in range(1500):
            k = rng.randint(0, 20)
            name = rng.choice(["x", "y", "zz", ""])
            price = rng.choice(["", f"{rng.randint(0, 99999) / 100:.2f}"])
            ts = (dt.datetime(2024, 1, 1) + dt.timedelta(milliseconds=rng.randint(0, 9 * 10**6)))
            row = f"{rng.randint(0, 300)},{k},{name},{price},{ts:%Y-%m-%d %H:%M:%S.%f}"
            lines.append(row)
            if rng.random() < 0.1:
                lines.append(row)  # an exact duplicate
        (root / "a" / f"part{f}.csv").write_text("\n".join(lines) + "\n")
    lines = [CSV_B] + [f"{k},label{k % 4}" for k in range(0, 25, 2)] + ["4,again"]
    (root / "b" / "b.csv").write_text("\n".join(lines) + "\n")


SOURCES = [
    "CREATE SOURCE a (id INT, k INT, name VARCHAR, price NUMERIC, ts TIMESTAMP) WITH ("
    "connector = 'posix_fs', posix_fs.root = '{root}/a', match_pattern = '*.csv') "
    "FORMAT PLAIN ENCODE CSV (without_header = 'false')",
    "CREATE SOURCE b (k INT, label VARCHAR) WITH (connector = 'posix_fs', "
    "posix_fs.root = '{root}/b', match_pattern = '*.csv') "
    "FORMAT PLAIN ENCODE CSV (without_header = 'false')",
]
# name -> (engine SQL, DuckDB SQL or None when the same)
VIEWS: dict[str, tuple[str, str | None]] = {
    "v_all": ("SELECT * FROM a", None),
    "v_proj": ("SELECT k, price * 1.5 AS p, name || '!' AS n, ts FROM a WHERE k % 3 <> 0", None),
    "v_dup": ("SELECT k % 4 AS m, name FROM a", None),
    "v_union": ("SELECT k, name FROM a WHERE k < 5 UNION ALL SELECT k, label FROM b", None),
    "v_join": ("SELECT a.id, a.k, b.label FROM a JOIN b ON a.k = b.k", None),
    "v_hop": ("SELECT id, window_start FROM HOP(a, ts, INTERVAL '1' HOUR, INTERVAL '2' HOUR)",
              "SELECT id, ws AS window_start FROM a, (SELECT unnest(["
              "time_bucket(INTERVAL '1' HOUR, ts), "
              "time_bucket(INTERVAL '1' HOUR, ts) - INTERVAL '1' HOUR]) AS ws)"),
}
NOT_APPEND_ONLY = {
    "v_count": ("SELECT k, count(*) AS n FROM a GROUP BY k", None),
    "v_left": ("SELECT a.id, b.label FROM a LEFT JOIN b ON a.k = b.k", None),
    "v_distinct": ("SELECT DISTINCT k FROM a", None),
}


def duck_over(root: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE a AS SELECT * FROM read_csv('{root}/a/*.csv', header = true, "
                "columns = {'id': 'INT', 'k': 'INT', 'name': 'VARCHAR', "
                "'price': 'DECIMAL(38,10)', 'ts': 'TIMESTAMP'})")
    con.execute(f"CREATE TABLE b AS SELECT * FROM read_csv('{root}/b/*.csv', header = true, "
                "columns = {'k': 'INT', 'label': 'VARCHAR'})")
    return con


def runtime_of(s: Sql) -> Any:
    db = s.conn._db
    assert db is not None and db.runtime is not None
    return db


def check_views(s: Sql, con: duckdb.DuckDBPyConnection, views: dict) -> None:
    for name, (sql, duck_sql) in views.items():
        got = s(f"SELECT * FROM {name}")
        want = con.execute(duck_sql or sql).fetchall()
        assert len(want) > 2, f"{name}: an oracle this small proves nothing"
        assert same_multiset(got, want), f"{name}: " + describe_difference(got, want)


def check_row_ids(s: Sql, names: list[str]) -> None:
    db = runtime_of(s)
    for name in names:
        rel = db.catalog.get(name)
        n, distinct = db.serving.duck.execute(
            f"SELECT count(*), count(DISTINCT _rid) FROM _ss.r{rel.id}").fetchall()[0]
        assert n == distinct, f"{name}: {n - distinct} duplicate row ids"


def total_rows(root: Path) -> int:
    return sum(len(p.read_text().splitlines()) - 1 for p in (root / "a").glob("*.csv"))


@pytest.mark.parametrize("parallelism", [1, 2])
def test_append_only_views_match_duckdb_and_survive_restart(tmp_path: Path,
                                                            parallelism: int) -> None:
    root = tmp_path / "data"
    root.mkdir()
    write_files(root, seed=parallelism)
    path = str(tmp_path / "db")
    con = duck_over(root)
    n = total_rows(root)
    s = Sql(path, barrier_interval_ms=50)
    try:
        s(f"SET streaming_parallelism = {parallelism}")
        for ddl in SOURCES:
            s(ddl.format(root=root))
        for name, (sql, _d) in {**VIEWS, **NOT_APPEND_ONLY}.items():
            s(f"CREATE MATERIALIZED VIEW {name} AS {sql}")
        assert s.until("SELECT count(*) FROM v_all", lambda r: r == [(n,)], 60) == [(n,)]
        # A view over a view, created once the upstream is full: its backfill is the
        # upstream's snapshot; and it is append-only too.
        s("CREATE MATERIALIZED VIEW vv AS SELECT m, name FROM v_dup WHERE m > 0")
        s("CREATE MATERIALIZED VIEW vv_count AS SELECT m, count(*) AS c FROM vv GROUP BY m")
        s("FLUSH")
        db = runtime_of(s)
        flags = {name: db.runtime.append_only[db.catalog.get(name).id]
                 for name in [*VIEWS, *NOT_APPEND_ONLY, "vv", "vv_count"]}
        assert flags == {**{v: True for v in VIEWS}, **{v: False for v in NOT_APPEND_ONLY},
                         "vv": True, "vv_count": False}
        views = {**VIEWS, **NOT_APPEND_ONLY,
                 "vv": ("SELECT k % 4 AS m, name FROM a WHERE k % 4 > 0", None),
                 "vv_count": ("SELECT k % 4 AS m, count(*) AS c FROM a WHERE k % 4 > 0 "
                              "GROUP BY 1", None)}
        check_views(s, con, views)
        check_row_ids(s, [*VIEWS, "vv"])
        states = {(r[0], r[4]): r[2] for r in s("SELECT * FROM sys.state_tables")}
        assert sum(c for (rel, tid), c in states.items()
                   if rel == "v_all" and "/mat/" in tid) == n
    finally:
        s.close()
    s = Sql(path, barrier_interval_ms=50)
    try:
        s("FLUSH")  # every actor has loaded its state and refilled the serving store
        check_views(s, con, views)
        check_row_ids(s, [*VIEWS, "vv"])
        # More rows after the restart get fresh row ids.
        (root / "a" / "part9.csv").write_text(CSV_A + "\n1,1,late,1.00,2024-01-01 00:00:00\n")
        s.until("SELECT count(*) FROM v_all", lambda r: r == [(n + 1,)], 60)
        con.execute("INSERT INTO a VALUES (1, 1, 'late', 1.00, TIMESTAMP '2024-01-01')")
        check_views(s, con, views)
        check_row_ids(s, [*VIEWS, "vv"])
    finally:
        s.close()


def test_rescale_of_an_append_only_view_keeps_every_row(tmp_path: Path) -> None:
    """Two actors' batches regrouped into one: their keys (first row ids) never
    collide, where the multiset layout's keys (the rows) would for duplicates."""
    s = Sql(str(tmp_path / "db"), barrier_interval_ms=50)
    try:
        s("SET streaming_parallelism = 2")
        s("""CREATE SOURCE s (id BIGINT) WITH (connector = 'datagen',
             fields.id.kind = 'sequence', fields.id.start = '1', fields.id.end = '3000',
             datagen.split.num = '4', datagen.rows.per.second = '20000')""")
        s("CREATE MATERIALIZED VIEW v AS SELECT id % 3 AS m FROM s")
        want = [(0, 1000), (1, 1000), (2, 1000)]
        query = "SELECT m, count(*) FROM v GROUP BY m ORDER BY m"
        assert s.until(query, lambda r: r == want, 60) == want
        s("ALTER MATERIALIZED VIEW v SET PARALLELISM = 1")
        s("FLUSH")
        assert s(query) == want
        check_row_ids(s, ["v"])
    finally:
        s.close()


def test_views_over_tables_keep_the_multiset_layout() -> None:
    """A table takes DELETE and UPDATE: no view reading it is append-only, so no
    delete can reach an append log through SQL."""
    s = Sql(None, barrier_interval_ms=50)
    try:
        s("CREATE TABLE t (k INT, v INT)")
        s("INSERT INTO t VALUES (1, 1), (1, 1), (2, 5)")
        s("CREATE MATERIALIZED VIEW w AS SELECT k, v FROM t WHERE v > 0")
        s("CREATE MATERIALIZED VIEW w2 AS SELECT k FROM w")
        s("""CREATE SOURCE src (id BIGINT) WITH (connector = 'datagen',
             fields.id.kind = 'sequence', fields.id.start = '1', fields.id.end = '3')""")
        s("CREATE MATERIALIZED VIEW mix AS SELECT k FROM t UNION ALL SELECT id FROM src")
        db = runtime_of(s)
        for name in ("w", "w2", "mix"):
            rel = db.catalog.get(name)
            assert db.runtime.append_only[rel.id] is False
            for actor in db.runtime.relations[rel.id].mat_actors:
                assert actor.materialize.log is None
        s("DELETE FROM t WHERE k = 1")
        s("UPDATE t SET v = 7 WHERE k = 2")
        s("FLUSH")
        assert s("SELECT * FROM w") == [(2, 7)] and s("SELECT * FROM w2") == [(2,)]
        assert sorted(s.until("SELECT * FROM mix", lambda r: len(r) == 4)) == \
            [(1,), (2,), (2,), (3,)]
    finally:
        s.close()


def test_append_only_decision_follows_the_operators() -> None:
    from planner.stream_plan import Fragment, StreamNode, StreamPlan

    def plan(*kinds: str, join: str = "inner", scan: int | None = None) -> StreamPlan:
        node = StreamNode("table_scan", [], upstream_relation=scan) if scan is not None \
            else StreamNode("source", [])
        for kind in kinds:
            params = {"kind": join} if kind == "hash_join" else {}
            node = StreamNode(kind, [], [node], params)
        root = StreamNode("materialize", [], [node])
        return StreamPlan(1, "v", [Fragment(0, root, 1)], [], [])

    assert append_only(plan("project", "filter", "hop_window", "union"), {})
    assert append_only(plan("hash_join"), {})
    for kind in ("hash_agg", "top_n", "distinct", "temporal_filter", "over_window",
                 "eowc_agg"):
        assert not append_only(plan("project", kind), {}), kind
    for join in ("left", "right", "full", "semi", "anti"):
        assert not append_only(plan("hash_join", join=join), {}), join
    assert append_only(plan("project", scan=5), {5: True})
    assert not append_only(plan("project", scan=5), {5: False})
    assert not append_only(plan("project", scan=6), {5: True})  # a table
