"""A view whose operators fail before its backfill is committed is not created:
the CREATE reports the error, the view is gone (it would otherwise come back
after the graph's rebuild without its backfill), and everything else goes on."""

from __future__ import annotations

from typing import AsyncIterator

import pytest

import sqlstream
from executor.message import Chunk, Message
from executor.operators.hash_agg import HashAgg

VIEW = "CREATE MATERIALIZED VIEW s AS SELECT v, count(*) AS n FROM t GROUP BY v"


def test_view_whose_backfill_fails_is_not_created(monkeypatch: pytest.MonkeyPatch) -> None:
    with sqlstream.connect(barrier_interval_ms=50) as conn:
        conn.execute("CREATE TABLE t (k int PRIMARY KEY, v int)")
        conn.execute("INSERT INTO t VALUES (1, 1), (2, 2), (3, 2); FLUSH")
        original = HashAgg.execute

        async def failing(self: HashAgg, input: AsyncIterator[Message]
                          ) -> AsyncIterator[Message]:
            async for msg in original(self, input):
                if isinstance(msg, Chunk):
                    raise RuntimeError("injected operator failure")
                yield msg

        monkeypatch.setattr(HashAgg, "execute", failing)
        with pytest.raises(sqlstream.Error):
            conn.execute(VIEW)
        monkeypatch.undo()
        assert conn.execute("SHOW MATERIALIZED VIEWS").fetchall() == []
        conn.execute("INSERT INTO t VALUES (4, 4); FLUSH")
        assert sorted(conn.execute("SELECT * FROM t").fetchall()) == [
            (1, 1), (2, 2), (3, 2), (4, 4)]
        conn.execute(VIEW)
        assert sorted(conn.execute("SELECT * FROM s").fetchall()) == [(1, 1), (2, 2), (4, 1)]
