"""The writer subprocess of the recovery test: opens a data directory, creates
the workload's tables and views, then runs the seeded DML statements, printing
each statement's index right after it returns (so the parent knows which ones
were acknowledged) until it is killed or done.

    python -m tests.recovery.writer DATA_DIR SEED COUNT [dml|backfill|large [ROWS [PARALLELISM]]]
"""

from __future__ import annotations

import os
import sys

import sqlstream
from tests.recovery.workload import TABLES, VIEWS, program


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    data_dir, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    mode = sys.argv[4] if len(sys.argv) > 4 else "dml"
    big = int(sys.argv[5]) if len(sys.argv) > 5 else 20000
    parallelism = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    conn = sqlstream.connect(data_dir, barrier_interval_ms=50)
    conn.execute(f"SET streaming_parallelism = {parallelism}")
    for ddl in TABLES:
        conn.execute(ddl)
    for name, (sql, _duck) in VIEWS.items():
        conn.execute(f"CREATE MATERIALIZED VIEW {name} AS {sql}")
    conn.execute("FLUSH")
    say("ready")
    for i, stmt in enumerate(program(seed, count, mode, big)):
        conn.execute(stmt)
        say(str(i))
    say("finished")
    # Exit without closing, like a crash that happens to come after the last statement.
    os._exit(0)


if __name__ == "__main__":
    main()
