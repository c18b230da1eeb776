"""The cost of the time accounting, measured: a datagen source with N rows into a
grouped count, timed until the view holds every row, with metrics on and off,
runs interleaved. `python -m tests.observability.overhead [N] [RUNS]`."""

from __future__ import annotations

import statistics
import sys
import time

import sqlstream


def run(enabled: bool, n: int) -> tuple[float, float]:
    """(wall seconds, process CPU seconds): CPU time is less disturbed by other
    processes on a shared machine."""
    conn = sqlstream.connect(metrics_enabled=enabled)
    try:
        cur = conn.cursor()
        cur.execute("CREATE SOURCE events (id BIGINT, k INT) WITH (connector = 'datagen', "
                    "fields.id.kind = 'sequence', fields.id.start = '1', "
                    f"fields.id.end = '{n}', fields.k.kind = 'random', fields.k.min = '0', "
                    "fields.k.max = '99', datagen.rows.per.second = '0')")
        t0, c0 = time.perf_counter(), time.process_time()
        cur.execute("CREATE MATERIALIZED VIEW v AS SELECT k, count(*) AS c FROM events "
                    "GROUP BY k")
        while True:
            cur.execute("FLUSH")
            cur.execute("SELECT sum(c) FROM v")
            if cur.fetchone()[0] == n:
                return time.perf_counter() - t0, time.process_time() - c0
            time.sleep(0.02)
    finally:
        conn.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for i in range(runs):
        for enabled in (True, False):
            t, cpu = run(enabled, n)
            times[enabled].append((t, cpu))
            print(f"run {i} metrics_enabled={enabled}: {t:.2f} s ({n / t:,.0f} rows/s), "
                  f"CPU {cpu:.2f} s", flush=True)
    for k, what in ((0, "wall"), (1, "CPU")):
        on = statistics.median(x[k] for x in times[True])
        off = statistics.median(x[k] for x in times[False])
        print(f"{what}: median on {on:.2f} s, off {off:.2f} s: "
              f"overhead {100 * (on / off - 1):+.1f}%")


if __name__ == "__main__":
    main()
