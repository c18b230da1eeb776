"""The dashboard's JSON API over real HTTP: the same rows as the sys tables, the
history ring, the event stream, read-only routes, loopback binding and the password."""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the dashboard extra (starlette) is not installed")
pytest.importorskip("uvicorn", reason="the dashboard extra (uvicorn) is not installed")

from sqlstream import dashboard
from sqlstream.database import Database
from tests.dashboard.http import first_event, get_json, request


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[Database, Any, Any]]:
    db = Database.open(None)
    s = db.session()
    s.execute("CREATE TABLE t (k INT, v INT)")
    s.execute("CREATE MATERIALIZED VIEW v AS SELECT k, count(*) AS n FROM t GROUP BY k")
    s.execute("INSERT INTO t VALUES " + ",".join(f"({i % 3}, {i})" for i in range(500)))
    s.execute("FLUSH")
    board = dashboard.start(db, 0, interval_s=0.2)
    try:
        yield db, s, board
    finally:
        board.stop()
        db.close()


def rows(s: Any, sql: str) -> list[tuple]:
    return s.execute(sql)[0].rows


def sys_dicts(s: Any, table: str) -> list[dict[str, Any]]:
    result = s.execute(f"SELECT * FROM sys.{table}")[0]
    names = [c.name for c in result.columns]
    return [dict(zip(names, r)) for r in result.rows]


def test_sys_routes_return_the_sys_tables_rows(running) -> None:  # type: ignore[no-untyped-def]
    _db, s, board = running
    for table in ("relations", "fragments", "state_tables"):
        api = get_json(board.url + f"api/sys/{table}")
        assert sorted(api, key=str) == sorted(sys_dicts(s, table), key=str), table
    # Figures that move with time: same rows (keys), same columns, ratios in range.
    api_actors = get_json(board.url + "api/sys/actors")
    sql_actors = sys_dicts(s, "actors")
    assert [set(a) for a in api_actors] == [set(a) for a in sql_actors]
    assert sorted(a["actor_id"] for a in api_actors) == sorted(a["actor_id"] for a in sql_actors)
    assert all(0 <= a["busy_ratio"] <= 1 for a in api_actors)
    api_bp = get_json(board.url + "api/sys/backpressure")
    assert sorted((b["actor_id"], b["downstream_fragment_id"], b["queue_capacity"])
                  for b in api_bp) == sorted(
        (b["actor_id"], b["downstream_fragment_id"], b["queue_capacity"])
        for b in sys_dicts(s, "backpressure"))
    # Timestamps are ISO 8601, the same instants SQL shows.
    api_barriers = {b["epoch"]: b for b in get_json(board.url + "api/sys/barrier_latency")}
    for b in sys_dicts(s, "barrier_latency"):
        if b["epoch"] in api_barriers:
            assert dt.datetime.fromisoformat(api_barriers[b["epoch"]]["injected_at"]) == \
                b["injected_at"]


def test_relations_carry_row_counts_and_rates(running) -> None:  # type: ignore[no-untyped-def]
    _db, s, board = running
    rels = {r["name"]: r for r in get_json(board.url + "api/relations")}
    assert set(rels) == {"t", "v"}
    assert rels["t"]["kind"] == "table" and rels["v"]["kind"] == "materialized view"
    assert rels["t"]["rows"] == rows(s, "SELECT count(*) FROM t")[0][0] == 500
    assert rels["v"]["rows"] == rows(s, "SELECT count(*) FROM v")[0][0] == 3
    assert rels["t"]["rows_per_second"] >= 0 and rels["v"]["rows_per_second"] >= 0


def test_view_detail_is_its_graph_sql_and_explain(running) -> None:  # type: ignore[no-untyped-def]
    _db, s, board = running
    d = get_json(board.url + "api/views/v")
    assert d["definition"] == rows(s, "SELECT definition FROM sys.relations WHERE name = 'v'")[0][0]
    assert d["explain"] == [r[0] for r in rows(s, "EXPLAIN " + d["definition"])]
    assert d["explain_analyze"][0].startswith("Fragment 1")
    # The view's fragments and, upstream, the table's: the graph the page draws.
    frags = {f["fragment_id"] for f in sys_dicts(s, "fragments")}
    assert {f["fragment_id"] for f in d["fragments"]} == frags
    assert {a["actor_id"] for a in d["actors"]} == {a["actor_id"] for a in sys_dicts(s, "actors")}
    t = get_json(board.url + "api/views/t")
    assert {f["relation"] for f in t["fragments"]} == {"t"} and t["explain"] == []
    status, _h, body = request(board.url + "api/views/nope")
    assert status == 404 and b"nope" in body
    assert request(board.url + "api/sys/nope")[0] == 404


def test_history_and_event_stream(running) -> None:  # type: ignore[no-untyped-def]
    _db, s, board = running
    s.execute("FLUSH")
    ctype, fields, snap = first_event(board.url + "api/events")
    assert ctype.startswith("text/event-stream") and fields["event"] == "snapshot"
    assert set(snap) >= {"time", "relations", "fragments", "actors", "backpressure", "sources",
                         "bottlenecks", "barrier_latency", "graphs", "sample"}
    assert snap["graphs"]["v"] == sorted(f["fragment_id"] for f in sys_dicts(s, "fragments"))
    assert snap["bottlenecks"] == []
    deadline = time.monotonic() + 10
    while len(get_json(board.url + "api/history")["samples"]) < 3:
        assert time.monotonic() < deadline, "the history does not grow"
        time.sleep(0.2)
    h = get_json(board.url + "api/history")
    times = [x["time"] for x in h["samples"]]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert [x["source"] for x in h["samples"][-1]["sources"]] == ["t"]
    committed = {r[0] for r in rows(s, "SELECT epoch FROM sys.barrier_latency "
                                       "WHERE committed_at IS NOT NULL")}
    assert committed and committed <= {b["epoch"] for b in h["barrier_latency"]}


def test_page_and_vendored_libraries_are_served(running) -> None:  # type: ignore[no-untyped-def]
    _db, _s, board = running
    status, headers, body = request(board.url)
    assert status == 200 and headers["content-type"].startswith("text/html")
    for lib in ("vendor/cytoscape.min.js", "vendor/cytoscape-dagre.min.js",
                "vendor/uPlot.iife.min.js", "dashboard.js"):
        assert f"static/{lib}".encode() in body
        status, _h, js = request(board.url + f"static/{lib}")
        assert status == 200 and len(js) > 1000, lib


def test_read_only(running) -> None:  # type: ignore[no-untyped-def]
    _db, _s, board = running
    for path in ("api/snapshot", "api/views/v", "api/sys/actors", ""):
        for method in ("POST", "PUT", "DELETE"):
            assert request(board.url + path, method=method)[0] == 405, (method, path)


def test_binds_loopback_and_asks_for_the_password() -> None:
    db = Database.open(None)
    board = dashboard.start(db, 0, password="s3cret", interval_s=0.2)
    try:
        assert board.host == "127.0.0.1"
        status, headers, _b = request(board.url + "api/relations")
        assert status == 401 and headers["www-authenticate"].startswith("Basic")
        assert request(board.url, password="wrong")[0] == 401
        assert request(board.url + "api/events", password="wrong")[0] == 401
        assert request(board.url + "static/dashboard.js")[0] == 401
        assert request(board.url + "api/relations", password="s3cret")[0] == 200
        assert first_event(board.url + "api/events", "s3cret")[1]["event"] == "snapshot"
        addrs = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None,
                                                      socket.AF_INET)} - {"127.0.0.1"}
        for addr in addrs:
            with pytest.raises(OSError):
                socket.create_connection((str(addr), board.port), timeout=2).close()
    finally:
        board.stop()
        db.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", board.port), timeout=2).close()
