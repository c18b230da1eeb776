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

import asyncio
import io
import pickle
from collections import defaultdict
from typing import Any

import aiosqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state_log (
    table_id TEXT NOT NULL, seq INTEGER NOT NULL, snapshot INTEGER NOT NULL, payload BLOB NOT NULL,
    PRIMARY KEY (table_id, seq));
CREATE TABLE IF NOT EXISTS offsets (source TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dml_log (
    table_id INTEGER NOT NULL, seq INTEGER NOT NULL, payload BLOB NOT NULL,
    PRIMARY KEY (table_id, seq)) WITHOUT ROWID;
"""


def dumps(obj: Any) -> bytes:
    """Pickle state, offsets' rows or DML rows without the memo. The memo records every
    tuple pickled so that a second reference to it is written as a back-reference;
    state is a tree of small tuples with few shared ones, so the memo only costs (about
    12x the time of pickling a million (key, (row, rid)) entries). A value referenced
    twice is written twice and loads as two equal objects. The pickler refuses a
    cyclic value (ValueError) instead of looping; state holds none."""
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, pickle.HIGHEST_PROTOCOL)
    pickler.fast = True  # no memo
    pickler.dump(obj)
    return buf.getvalue()


# DML log records per multi-row INSERT: 3 parameters each, within SQLite's 999.
_RECORDS_PER_INSERT = 300


def _insert_dml_sql(n: int) -> str:
    return "INSERT INTO dml_log (table_id, seq, payload) VALUES " + ",".join(["(?,?,?)"] * n)


class CheckpointStore:
    def __init__(self, path: str) -> None:
        self.path = path
        self.db: aiosqlite.Connection | None = None
        self._staged: dict[int, list[tuple[str, bool, bytes]]] = defaultdict(list)
        self._seq = 0
        self._offsets: dict[int, dict[str, str]] = defaultdict(dict)
        self.committed_epoch = 0
        # One write at a time on the connection: an autocommit write (DML log, catalog)
        # issued while a checkpoint transaction is open would run inside it, and be
        # acknowledged before that transaction commits.
        self._write = asyncio.Lock()
        # Group commit of the DML log: records staged while a log write is under way
        # are written together by the next one, in one transaction.
        self._dml_pending: list[tuple[tuple[int, int, bytes], asyncio.Future[None]]] = []
        self._dml_writer: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.db = await aiosqlite.connect(self.path, isolation_level=None)
        await self.db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a killed process (not a power cut); every
        # commit still reaches the OS before the statement is acknowledged.
        await self.db.execute("PRAGMA synchronous=NORMAL")
        await self.db.executescript(_SCHEMA)
        text = await self.get_meta("committed_epoch")
        self.committed_epoch = int(text) if text else 0
        async with self.db.execute("SELECT max(seq) FROM state_log") as cur:
            row = await cur.fetchone()
        self._seq = row[0] or 0 if row else 0

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
        async with self._write:
            await self._put_meta(key, value)

    async def _put_meta(self, key: str, value: str) -> None:
        assert self.db is not None
        await self.db.execute("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", (key, value))

    # ------------------------------------------------------------------ state
    def stage(self, epoch: int, table_id: str, writes: list[tuple[int, tuple, Any]]) -> None:
        """Called by StateTable.commit on the event loop with an epoch's dirty entries
        (value None: deleted). They are serialized now, as one blob: operators may
        mutate values in place during the next epoch."""
        payload = dumps([(key, value) for _vnode, key, value in writes])
        self._staged[epoch].append((table_id, False, payload))

    def stage_entries(self, epoch: int, table_id: str, entries: list[tuple[tuple, Any]]) -> None:
        """`stage` with the entries already as (key, value) pairs."""
        self._staged[epoch].append((table_id, False,
                                    dumps(entries)))

    def stage_snapshot(self, epoch: int, table_id: str, entries: list[tuple[tuple, Any]]) -> None:
        """A state table's whole contents: replaces its log (compaction)."""
        self._staged[epoch].append((table_id, True, dumps(entries)))

    def stage_offset(self, epoch: int, source: str, value: str) -> None:
        self._offsets[epoch][source] = value

    def staged_bytes(self, epoch: int) -> int:
        return sum(len(p) for _, _, p in self._staged.get(epoch, ()))

    def discard_uncommitted(self) -> None:
        """Forget staged state and offsets not yet committed: the graph that staged
        them was stopped and is rebuilt from the last committed epoch."""
        self._staged.clear()
        self._offsets.clear()

    async def commit(self, epoch: int, extra_meta: dict[str, str] | None = None) -> None:
        """Write everything staged for epochs <= epoch, and the offsets, atomically."""
        assert self.db is not None
        epochs = sorted(e for e in set(self._staged) | set(self._offsets) if e <= epoch)
        rows: list[tuple[str, int, int, bytes]] = []
        snapshots: list[tuple[str, int]] = []
        offsets: dict[str, str] = {}
        for e in epochs:
            for table_id, snapshot, payload in self._staged.pop(e, ()):
                self._seq += 1
                rows.append((table_id, self._seq, int(snapshot), payload))
                if snapshot:
                    snapshots.append((table_id, self._seq))
            offsets.update(self._offsets.pop(e, {}))
        async with self._write:
            await self._commit_transaction(epoch, rows, snapshots, offsets, extra_meta or {})
        self.committed_epoch = epoch

    async def _commit_transaction(self, epoch: int, rows: list[tuple[str, int, int, bytes]],
                                  snapshots: list[tuple[str, int]], offsets: dict[str, str],
                                  extra_meta: dict[str, str]) -> None:
        db = self.db
        assert db is not None
        await db.execute("BEGIN")
        try:
            if rows:
                await db.executemany(
                    "INSERT INTO state_log (table_id, seq, snapshot, payload) VALUES (?,?,?,?)",
                    rows)
            for table_id, seq in snapshots:
                await db.execute("DELETE FROM state_log WHERE table_id = ? AND seq < ?",
                                 (table_id, seq))
            for source, value in offsets.items():
                await db.execute("INSERT OR REPLACE INTO offsets (source, value) VALUES (?, ?)",
                                 (source, value))
                if source.startswith("table:"):
                    table_id = int(source.split(":", 1)[1])
                    # value is "seq" or "seq:rows" (statement seq+1 partly applied: kept)
                    await db.execute("DELETE FROM dml_log WHERE table_id = ? AND seq <= ?",
                                     (table_id, int(value.split(":", 1)[0])))
            for k, v in extra_meta.items():
                await self._put_meta(k, v)
            await self._put_meta("committed_epoch", str(epoch))
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise

    async def load_state(self, table_id: str) -> list[tuple[int, tuple, Any]]:
        """All committed entries of a state table as (vnode, key, value); vnode is 0
        (callers that repartition compute it from the key)."""
        assert self.db is not None
        data: dict[tuple, Any] = {}
        async with self.db.execute(
                "SELECT payload FROM state_log WHERE table_id = ? ORDER BY seq",
                (table_id,)) as cur:
            async for (payload,) in cur:
                for key, value in pickle.loads(payload):
                    if value is None:
                        data.pop(key, None)
                    else:
                        data[key] = value
        return [(0, k, v) for k, v in data.items()]

    async def drop_state(self, prefix: str) -> None:
        """Remove the state tables whose id starts with prefix (a dropped relation)."""
        assert self.db is not None
        async with self._write:
            await self.db.execute("DELETE FROM state_log WHERE table_id >= ? AND table_id < ?",
                                  (prefix, prefix + "\uffff"))

    async def load_offsets(self) -> dict[str, str]:
        assert self.db is not None
        async with self.db.execute("SELECT source, value FROM offsets") as cur:
            return {s: v async for s, v in cur}

    # ------------------------------------------------------------------ DML log
    async def append_dml(self, table_id: int, seq: int, rows: Any) -> None:
        """Durably record one statement's change rows before it is acknowledged."""
        await self.stage_dml(table_id, seq, rows)

    def stage_dml(self, table_id: int, seq: int, rows: Any) -> asyncio.Future[None]:
        """Queue one statement's change rows for the DML log (on the store's loop); the
        future is done once they are committed. Records are written in the order they
        were staged, so a statement staged later is never durable before an earlier one."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._dml_pending.append(((table_id, seq, dumps(rows)), fut))
        if self._dml_writer is None or self._dml_writer.done():
            self._dml_writer = asyncio.ensure_future(self._write_dml())
        return fut

    async def _write_dml(self) -> None:
        assert self.db is not None
        while self._dml_pending:
            batch, self._dml_pending = self._dml_pending, []
            try:
                async with self._write:
                    await self._insert_dml([record for record, _f in batch])
            except Exception as e:  # noqa: BLE001 - every statement of the batch fails with it
                for _r, fut in batch:
                    if not fut.done():
                        fut.set_exception(e)
                continue
            for _r, fut in batch:
                if not fut.done():
                    fut.set_result(None)

    async def _insert_dml(self, records: list[tuple[int, int, bytes]]) -> None:
        """One transaction. Up to _RECORDS_PER_INSERT records (a batch of the usual
        size) are one multi-row INSERT, its own transaction: one round trip to
        SQLite's thread instead of three."""
        db = self.db
        assert db is not None
        if len(records) <= _RECORDS_PER_INSERT:
            await db.execute(_insert_dml_sql(len(records)), [v for r in records for v in r])
            return
        await db.execute("BEGIN")
        try:
            await db.executemany("INSERT INTO dml_log (table_id, seq, payload) VALUES (?, ?, ?)",
                                 records)
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise

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
        async with self._write:
            await self.db.execute("DELETE FROM dml_log WHERE table_id = ?", (table_id,))
            await self.db.execute("DELETE FROM offsets WHERE source = ?", (f"table:{table_id}",))

