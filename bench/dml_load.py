"""DML over the wire: N psycopg clients in autocommit mode run INSERT, UPDATE and
DELETE against one table read by two views, for a fixed time; prints statements
per second and latency percentiles. Each statement is acknowledged only once it is
durable, so this measures the durable-write path.

    python -m bench.dml_load --clients 20 --seconds 10              # starts a server
    python -m bench.dml_load --dsn "host=127.0.0.1 port=5432 ..."   # any PostgreSQL

Not part of the test run.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import psycopg

SETUP = [
    "DROP MATERIALIZED VIEW IF EXISTS dml_sum",
    "DROP MATERIALIZED VIEW IF EXISTS dml_count",
    "DROP TABLE IF EXISTS dml_t",
    "CREATE TABLE dml_t (k int PRIMARY KEY, v int)",
    "CREATE MATERIALIZED VIEW dml_count AS SELECT v % 10 AS g, count(*) AS n FROM dml_t GROUP BY v % 10",
    "CREATE MATERIALIZED VIEW dml_sum AS SELECT sum(v) AS s FROM dml_t",
]
PG_SETUP = [s.replace("MATERIALIZED VIEW IF EXISTS", "VIEW IF EXISTS")
            .replace("CREATE MATERIALIZED VIEW", "CREATE VIEW") for s in SETUP]


def client(dsn: str, cid: int, until: float, latencies: list[float]) -> None:
    rnd = random.Random(cid)
    keys: list[int] = []
    next_key = cid * 10_000_000
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < until:
            r = rnd.random()
            started = time.perf_counter()
            if r < 0.5 or not keys:
                next_key += 1
                conn.execute("INSERT INTO dml_t VALUES (%s, %s)", (next_key, rnd.randint(0, 999)))
                keys.append(next_key)
            elif r < 0.8:
                conn.execute("UPDATE dml_t SET v = %s WHERE k = %s",
                             (rnd.randint(0, 999), rnd.choice(keys)))
            else:
                conn.execute("DELETE FROM dml_t WHERE k = %s", (keys.pop(rnd.randrange(len(keys))),))
            latencies.append(time.perf_counter() - started)


def run(dsn: str, clients: int, seconds: float, postgres: bool) -> dict[str, float]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for stmt in (PG_SETUP if postgres else SETUP):
            conn.execute(stmt)
    per_client: list[list[float]] = [[] for _ in range(clients)]
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=client, args=(dsn, i, until, per_client[i]))
               for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    lat = sorted(x for lst in per_client for x in lst)
    q = statistics.quantiles(lat, n=100)
    return {"statements": len(lat), "per_second": len(lat) / elapsed,
            "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000}


def start_server(port: int, data_dir: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "repl.main", "serve", "--data-dir", data_dir,
                             "--port", str(port), "--max-connections", "100"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("sqlstream serve did not start")
            time.sleep(0.1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--dsn", help="an existing server (PostgreSQL: plain views are used)")
    ap.add_argument("--postgres", action="store_true", help="the --dsn server is PostgreSQL")
    ap.add_argument("--port", type=int, default=55480)
    args = ap.parse_args()
    proc = None
    dsn = args.dsn
    if dsn is None:
        data_dir = tempfile.mkdtemp(prefix="dml-load-")
        proc = start_server(args.port, data_dir)
        dsn = f"host=127.0.0.1 port={args.port} user=root dbname=dev"
    server_cpu = 0.0
    client_cpu = time.process_time()
    try:
        out = run(dsn, args.clients, args.seconds, args.postgres)
        if proc is not None:
            with open(f"/proc/{proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            server_cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
    client_cpu = time.process_time() - client_cpu
    print(f"{args.clients} clients, {out['statements']} statements: "
          f"{out['per_second']:.0f}/s, p50 {out['p50_ms']:.1f} ms, p99 {out['p99_ms']:.1f} ms"
          f" (CPU seconds: clients {client_cpu:.1f}"
          + (f", server {server_cpu:.1f} incl. start-up)" if proc is not None else ")"))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
