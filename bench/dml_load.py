"""DML throughput over the wire: N psycopg clients, each in its own thread, send
autocommit INSERT / UPDATE / DELETE by primary key for a bounded time against a
table with two materialized views (a grouped aggregate and a filter/projection).
Reports statements/s and the p50 / p99 latency of an acknowledged statement.

By default it starts `sqlstream serve` itself on a free loopback port with a
temporary data directory; `--pg` runs the same clients against a PostgreSQL 15
it initialises and starts the same way (as the unprivileged `postgres` user when
run as root, since PostgreSQL refuses to run as root). Both are stopped and
their directories removed at the end.

    python -m bench.dml_load --clients 20 --seconds 10
    python -m bench.dml_load --clients 20 --seconds 10 --pg
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_BIN = "/usr/lib/postgresql/15/bin"

TABLE = "CREATE TABLE items (id INT PRIMARY KEY, grp INT NOT NULL, qty INT NOT NULL, price INT)"
# sqlstream keeps both views up to date incrementally on every write.
VIEWS = [
    ("CREATE MATERIALIZED VIEW items_by_grp AS "
     "SELECT grp, count(*) AS n, sum(qty) AS total FROM items GROUP BY grp"),
    ("CREATE MATERIALIZED VIEW big_items AS "
     "SELECT id, grp, qty * price AS amount FROM items WHERE qty > 50"),
]
# PostgreSQL has no incrementally maintained views: plain views over the same table
# (computed when read, so they cost its writes nothing).
PG_VIEWS = [v.replace("MATERIALIZED VIEW", "VIEW") for v in VIEWS]

INSERT = "INSERT INTO items (id, grp, qty, price) VALUES (%s, %s, %s, %s)"
UPDATE = "UPDATE items SET qty = %s WHERE id = %s"
DELETE = "DELETE FROM items WHERE id = %s"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_connectable(dsn: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            psycopg.connect(dsn, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# ---------------------------------------------------------------- servers
@contextmanager
def sqlstream_server(extra: list[str] | None = None) -> Iterator[str]:
    """`sqlstream serve` on loopback with a temporary data directory; yields its DSN."""
    tmp = tempfile.mkdtemp(prefix="dml-load-")
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    with open(os.path.join(tmp, "server.log"), "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sqlstream", "serve", "--port", str(port),
             "--data-dir", os.path.join(tmp, "data"), *(extra or [])],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    dsn = f"host=127.0.0.1 port={port} user=bench dbname=dev"
    try:
        wait_connectable(dsn, proc)
        yield dsn
    finally:
        stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL 15 (default durability: fsync on, synchronous_commit on)."""
    tmp = tempfile.mkdtemp(prefix="dml-load-pg-")
    os.chmod(tmp, 0o755)
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
    data = os.path.join(tmp, "data")
    subprocess.run(_as_postgres([f"{PG_BIN}/initdb", "-D", data, "-U", "postgres",
                                 "--auth=trust", "-E", "UTF8"]),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = free_port()
    proc = subprocess.Popen(
        _as_postgres([f"{PG_BIN}/postgres", "-D", data, "-p", str(port), "-h", "127.0.0.1",
                      "-k", tmp, "-c", "max_connections=200"]),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    try:
        wait_connectable(dsn, proc)
        yield dsn
    finally:
        stop(proc, signal.SIGINT)  # fast shutdown
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- load
class Client(threading.Thread):
    """One connection sending DML on its own keys (id % clients == index), so clients
    never collide on a key and every statement is expected to succeed."""

    def __init__(self, dsn: str, index: int, clients: int, start: float, warmup: float,
                 end: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.dsn, self.index, self.clients = dsn, index, clients
        self.start_at, self.measure_from, self.end = start, start + warmup, end
        self.rnd = random.Random(seed * 1000 + index)
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.live: dict[int, int] = {}  # id -> qty, as acknowledged
        self.next = 0

    def _statement(self) -> tuple[str, tuple[Any, ...], Any]:
        r = self.rnd.random()
        if not self.live or r < 0.4 or (r < 0.6 and len(self.live) < 50):
            key = self.next * self.clients + self.index
            self.next += 1
            qty = self.rnd.randint(1, 100)
            return INSERT, (key, key % 17, qty, self.rnd.randint(1, 50)), ("put", key, qty)
        key = self.rnd.choice(list(self.live)) if len(self.live) < 64 else \
            next(iter(self.live))
        if r < 0.85:
            qty = self.rnd.randint(1, 100)
            return UPDATE, (qty, key), ("put", key, qty)
        return DELETE, (key,), ("del", key, 0)

    def run(self) -> None:
        try:
            conn = psycopg.connect(self.dsn, autocommit=True)
        except psycopg.Error as e:
            self.errors.append(f"connect: {e}")
            return
        with conn:
            while True:
                sql, params, effect = self._statement()
                t0 = time.perf_counter()
                if t0 >= self.end:
                    break
                try:
                    conn.execute(sql, params)
                except psycopg.Error as e:
                    self.errors.append(str(e).strip())
                    if len(self.errors) > 100:
                        break
                    continue
                t1 = time.perf_counter()
                if t0 >= self.measure_from:
                    self.latencies.append(t1 - t0)
                if effect[0] == "put":
                    self.live[effect[1]] = effect[2]
                else:
                    self.live.pop(effect[1], None)


def setup(dsn: str, pg: bool) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(TABLE)
        for v in PG_VIEWS if pg else VIEWS:
            conn.execute(v)


def check(dsn: str, pg: bool, clients: list[Client]) -> str:
    """The table holds exactly the acknowledged writes, and the grouped view equals a
    recomputation over it."""
    expected = {k: q for c in clients for k, q in c.live.items()}
    with psycopg.connect(dsn, autocommit=True) as conn:
        if not pg:
            conn.execute("FLUSH")
        got = dict(conn.execute("SELECT id, qty FROM items").fetchall())
        view = sorted(conn.execute("SELECT grp, n, total FROM items_by_grp").fetchall())
        again = sorted(conn.execute("SELECT grp, count(*), sum(qty) FROM items GROUP BY grp"
                                    ).fetchall())
    if got != expected:
        return f"table differs: {len(got)} rows, {len(expected)} acknowledged"
    if [tuple(map(int, r)) for r in view] != [tuple(map(int, r)) for r in again]:
        return "items_by_grp differs from a recomputation"
    return "ok"


def run_load(dsn: str, pg: bool, clients: int, seconds: float, warmup: float,
             seed: int) -> dict[str, Any]:
    setup(dsn, pg)
    start = time.perf_counter() + 0.5
    end = start + warmup + seconds
    threads = [Client(dsn, i, clients, start, warmup, end, seed) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=warmup + seconds + 120)
    lat = sorted(x for t in threads for x in t.latencies)
    errors = [e for t in threads for e in t.errors]
    n = len(lat)
    result = {
        "system": "postgresql" if pg else "sqlstream", "clients": clients,
        "seconds": seconds, "statements": n, "statements_per_s": round(n / seconds, 1),
        "p50_ms": round(lat[n // 2] * 1000, 2) if n else None,
        "p99_ms": round(lat[min(n - 1, int(n * 0.99))] * 1000, 2) if n else None,
        "mean_ms": round(statistics.fmean(lat) * 1000, 2) if n else None,
        "errors": len(errors), "first_error": errors[0] if errors else None,
    }
    result["check"] = check(dsn, pg, threads)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.dml_load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--seconds", type=float, default=10.0, help="measured time")
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured time first")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pg", "--postgres", dest="pg", action="store_true",
                   help="against PostgreSQL 15 instead (with --dsn: a running one)")
    p.add_argument("--both", action="store_true", help="sqlstream, then PostgreSQL")
    p.add_argument("--dsn", default=None, help="an already running server (set up empty)")
    p.add_argument("--json", default=None, help="append the results to this file")
    args = p.parse_args(argv)
    if not 1 <= args.clients <= 100 or not 0 < args.seconds <= 300:
        p.error("--clients must be 1-100 and --seconds at most 300")
    systems = [False, True] if args.both else [args.pg]
    results = []
    for pg in systems:
        if args.dsn:
            server: Any = contextmanager(lambda: iter([args.dsn]))()
        else:
            server = postgres_server() if pg else sqlstream_server()
        with server as dsn:
            r = run_load(dsn, pg, args.clients, args.seconds, args.warmup, args.seed)
        results.append(r)
        print(f"{r['system']:>10}: {r['clients']} clients, {r['statements_per_s']:,.0f} "
              f"statements/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
              f"errors {r['errors']}, check {r['check']}", flush=True)
        if r["first_error"]:
            print(f"            first error: {r['first_error']}", flush=True)
    if args.json:
        with open(args.json, "a", encoding="utf-8") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")
    return 0 if all(r["check"] == "ok" and not r["errors"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
