"""The checkpoint store: SQLite (through aiosqlite) holding operator state,
source offsets, the DML log and the catalog.

Operators stage their dirty state for an epoch (`stage`); when the epoch is
complete the barrier manager calls `commit(epoch)`, which writes every staged
entry of that epoch and the sources' offsets in ONE transaction. A crash before
that transaction leaves the previous epoch intact; after it, the new one.

The DML log makes an acknowledged INSERT/UPDATE/DELETE durable before its
epoch commits: the statement's change rows are appended (and committed) before
the statement returns; recovery replays entries past each table's committed
offset.
"""

from __future__ import annotations

import pickle
from collections import defaultdict
from typing import Any

import aiosqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (
    table_id TEXT NOT NULL, key BLOB NOT NULL, vnode INTEGER NOT NULL, entry BLOB NOT NULL,
    PRIMARY KEY (table_id, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS offsets (source TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dml_log (
    table_id INTEGER NOT NULL, seq INTEGER NOT NULL, payload BLOB NOT NULL,
    PRIMARY KEY (table_id, seq)) WITHOUT ROWID;
"""


def encode_key(key: tuple) -> bytes:
    # repr is deterministic for the value types the engine stores, unlike pickle
    # (whose memo makes equal tuples encode differently).
    return repr(key).encode()


class CheckpointStore:
    def __init__(self, path: str) -> None:
        self.path = path
        self.db: aiosqlite.Connection | None = None
        self._staged: dict[int, list[tuple[str, list[tuple[int, bytes, bytes | None]]]]] = defaultdict(list)
        self._offsets: dict[int, dict[str, str]] = defaultdict(dict)
        self.committed_epoch = 0

    async def open(self) -> None:
        self.db = await aiosqlite.connect(self.path, isolation_level=None)
        await self.db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a killed process (not a power cut); every
        # commit still reaches the OS before the statement is acknowledged.
        await self.db.execute("PRAGMA synchronous=NORMAL")
        await self.db.executescript(_SCHEMA)
        text = await self.get_meta("committed_epoch")
        self.committed_epoch = int(text) if text else 0

    async def close(self) -> None:
        if self.db is not None:
            await self.db.close()
            self.db = None

    # ------------------------------------------------------------------ meta
    async def get_meta(self, key: str) -> str | None:
        assert self.db is not None
        async with self.db.execute("SELECT v FROM meta WHERE k = ?", (key,)) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def put_meta(self, key: str, value: str) -> None:
        assert self.db is not None
        await self.db.execute("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", (key, value))

    # ------------------------------------------------------------------ state
    def stage(self, epoch: int, table_id: str, writes: list[tuple[int, tuple, Any]]) -> None:
        """Called by StateTable.commit on the event loop. Values are serialized now:
        operators may mutate them in place during the next epoch."""
        dumps, hp = pickle.dumps, pickle.HIGHEST_PROTOCOL
        encoded = [(vnode, encode_key(key), None if value is None else dumps((key, value), hp))
                   for vnode, key, value in writes]
        self._staged[epoch].append((table_id, encoded))

    def stage_offset(self, epoch: int, source: str, value: str) -> None:
        self._offsets[epoch][source] = value

    def staged_entries(self, epoch: int) -> int:
        return sum(len(w) for _, w in self._staged.get(epoch, ()))

    async def commit(self, epoch: int, extra_meta: dict[str, str] | None = None) -> None:
        """Write everything staged for epochs <= epoch, and the offsets, atomically."""
        assert self.db is not None
        epochs = sorted(e for e in set(self._staged) | set(self._offsets) if e <= epoch)
        upserts: list[tuple[str, bytes, int, bytes]] = []
        deletes: list[tuple[str, bytes]] = []
        offsets: dict[str, str] = {}
        for e in epochs:
            for table_id, writes in self._staged.pop(e, ()):
                for vnode, k, entry in writes:
                    if entry is None:
                        deletes.append((table_id, k))
                    else:
                        upserts.append((table_id, k, vnode, entry))
            offsets.update(self._offsets.pop(e, {}))
        db = self.db
        await db.execute("BEGIN")
        try:
            if deletes:
                await db.executemany("DELETE FROM state WHERE table_id = ? AND key = ?", deletes)
            if upserts:
                await db.executemany(
                    "INSERT OR REPLACE INTO state (table_id, key, vnode, entry) VALUES (?,?,?,?)",
                    upserts)
            for source, value in offsets.items():
                await db.execute("INSERT OR REPLACE INTO offsets (source, value) VALUES (?, ?)",
                                 (source, value))
                if source.startswith("table:"):
                    table_id = int(source.split(":", 1)[1])
                    await db.execute("DELETE FROM dml_log WHERE table_id = ? AND seq <= ?",
                                     (table_id, int(value)))
            for k, v in (extra_meta or {}).items():
                await self.put_meta(k, v)
            await self.put_meta("committed_epoch", str(epoch))
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        self.committed_epoch = epoch

    async def load_state(self, table_id: str) -> list[tuple[int, tuple, Any]]:
        """All committed entries of a state table as (vnode, key, value)."""
        assert self.db is not None
        out = []
        async with self.db.execute("SELECT vnode, entry FROM state WHERE table_id = ?",
                                   (table_id,)) as cur:
            async for vnode, entry in cur:
                key, value = pickle.loads(entry)
                out.append((vnode, key, value))
        return out

    async def drop_state(self, prefix: str) -> None:
        """Remove the state tables whose id starts with prefix (a dropped relation)."""
        assert self.db is not None
        await self.db.execute("DELETE FROM state WHERE table_id >= ? AND table_id < ?",
                              (prefix, prefix + "\uffff"))

    async def load_offsets(self) -> dict[str, str]:
        assert self.db is not None
        async with self.db.execute("SELECT source, value FROM offsets") as cur:
            return {s: v async for s, v in cur}

    # ------------------------------------------------------------------ DML log
    async def append_dml(self, table_id: int, seq: int, rows: Any) -> None:
        """Durably record one statement's change rows before it is acknowledged."""
        assert self.db is not None
        await self.db.execute("INSERT INTO dml_log (table_id, seq, payload) VALUES (?, ?, ?)",
                              (table_id, seq, pickle.dumps(rows, pickle.HIGHEST_PROTOCOL)))

    async def load_dml(self, table_id: int, after: int) -> list[tuple[int, Any]]:
        assert self.db is not None
        out = []
        async with self.db.execute(
                "SELECT seq, payload FROM dml_log WHERE table_id = ? AND seq > ? ORDER BY seq",
                (table_id, after)) as cur:
            async for seq, payload in cur:
                out.append((seq, pickle.loads(payload)))
        return out

    async def drop_dml(self, table_id: int) -> None:
        assert self.db is not None
        await self.db.execute("DELETE FROM dml_log WHERE table_id = ?", (table_id,))
        await self.db.execute("DELETE FROM offsets WHERE source = ?", (f"table:{table_id}",))

