"""An acknowledged write is on disk when its call returns, even while an epoch's
checkpoint transaction is open on the same SQLite connection: a DML log entry or
a catalog update must not ride inside that transaction (a crash before its
COMMIT would lose an acknowledged statement)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from storage.checkpoint_store import CheckpointStore


def _visible(path: Path, query: str) -> int:
    """Read through a separate connection: sees committed data only."""
    other = sqlite3.connect(path)
    try:
        return int(other.execute(query).fetchone()[0])
    finally:
        other.close()


async def _during_commit(path: Path, write: str) -> int:
    store = CheckpointStore(str(path))
    await store.open()
    try:
        # Enough staged state that the checkpoint transaction stays open a while.
        store.stage(1, "r1/x", [(0, (i,), ("v" * 200, i)) for i in range(60000)])
        commit = asyncio.ensure_future(store.commit(1))
        assert store.db is not None
        for _ in range(5000):
            if store.db.in_transaction:
                break
            await asyncio.sleep(0.0005)
        assert store.db.in_transaction, "the checkpoint transaction never opened"
        if write == "dml":
            await store.append_dml(3, 1, ([1], [(1, 2)]))
            seen = _visible(path, "SELECT count(*) FROM dml_log WHERE table_id = 3")
        else:
            await store.put_meta("catalog", "{}")
            seen = _visible(path, "SELECT count(*) FROM meta WHERE k = 'catalog'")
        await commit
        return seen
    finally:
        await store.close()


def test_dml_log_entry_is_committed_when_append_returns(tmp_path: Path) -> None:
    assert asyncio.run(_during_commit(tmp_path / "c.db", "dml")) == 1


def test_catalog_is_committed_when_put_returns(tmp_path: Path) -> None:
    assert asyncio.run(_during_commit(tmp_path / "c.db", "meta")) == 1
