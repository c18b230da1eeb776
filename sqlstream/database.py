"""Database: one engine instance (catalog, stores, stream runtime) on its own
event-loop thread, shared by every session opened on the same data directory
in this process."""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import functools
import gc
import logging
import os
import shutil
import tempfile
import threading
from typing import Any, Coroutine, TypeVar

from executor.operators.table_source import Offset
from executor.message import cut
from executor.runtime import RelationRuntime, Runtime
from planner.catalog import (MATERIALIZED_VIEW, TABLE, Catalog, Relation, RelationInfo)
from planner.errors import InternalError, OperationalError
from sqlstream.settings import SETTINGS, defaults
from storage.checkpoint_store import CheckpointStore
from storage.serving_store import ServingStore

R = TypeVar("R")
log = logging.getLogger("sqlstream")

_registry: dict[str, "Database"] = {}
_registry_lock = threading.Lock()


class TableWriter:
    """A table's current contents as DML sees them (including statements not yet
    committed by a checkpoint): primary key -> row. DML is checked against it."""

    def __init__(self, rel: Relation) -> None:
        self.rel = rel
        self.rows: dict[tuple, tuple] = {}
        self.seq = 0  # last DML log sequence number
        self.next_row_id = 1


_DEFAULT_GC_THRESHOLD = (700, 10, 10)


def _tune_collector() -> None:
    """Collect cyclic garbage less often than CPython's default (a young-generation
    pass every 700 net allocations). The engine allocates row tuples and state
    entries by the million and frees most of them by reference counting; at the
    default rate the collector keeps rescanning the survivors (operator state),
    which cost a quarter of a windowed aggregate's time and paused the engine loop
    for 100-280 ms at each full pass. Left alone when the application has set its
    own thresholds."""
    if gc.get_threshold() == _DEFAULT_GC_THRESHOLD:
        gc.set_threshold(100_000, 50, 1000)


class Database:
    def __init__(self, path: str | None, settings: dict[str, Any]) -> None:
        _tune_collector()
        self.path = path
        self.temp_dir = None
        if path is None:
            self.temp_dir = tempfile.mkdtemp(prefix="sqlstream-")
            data_dir = self.temp_dir
        else:
            data_dir = path
            os.makedirs(data_dir, exist_ok=True)
        self.data_dir = data_dir
        self.settings = defaults()
        self.settings.update({k: v for k, v in settings.items() if k in SETTINGS})
        self.refs = 0
        self.closed = False
        self.lock = threading.RLock()  # serializes DDL and DML
        self.catalog = Catalog()
        self.writers: dict[int, TableWriter] = {}
        # Relations start-up could not serve (id -> why): kept in the catalog, refused
        # when used, listed in sys.relations; the rest of the database runs.
        self.broken: dict[int, str] = {}
        self._durable = threading.local()  # per thread: DML log writes not yet waited for
        self._dml_queue: collections.deque[tuple[Any, ...]] = collections.deque()
        self._dml_drain_scheduled = False
        self._dml_drain_lock = asyncio.Lock()
        self.serving = ServingStore()
        self.duck = self.serving.duck
        from sqlstream import batch_builtins
        batch_builtins.register(self.duck)
        self.store = CheckpointStore(os.path.join(data_dir, "sqlstream.db"))
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="sqlstream-engine",
                                        daemon=True)
        self._thread.start()
        self.runtime: Runtime | None = None
        from sqlstream import recovery  # the start-up path, kept apart
        try:
            self.run(recovery.start(self))
        except BaseException:
            self._shutdown_loop()
            raise
        self.pg_catalog: Any = None
        try:
            from sqlstream.pg_catalog import PgCatalog
            self.pg_catalog = PgCatalog(self)
        except ImportError:
            pass

    # ------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: str | None = None, **settings: Any) -> Database:
        from sqlstream.setting_names import canonical, check_options
        check_options(settings)
        settings = {canonical(k): v for k, v in settings.items()}
        if path is None:
            db = cls(None, settings)
            db.refs = 1
            return db
        key = os.path.realpath(path)
        with _registry_lock:
            db = _registry.get(key)
            if db is None or db.closed:
                db = cls(path, settings)
                _registry[key] = db
            db.refs += 1
            return db

    def session(self) -> Any:
        from sqlstream.session import Session
        return Session(self)

    @property
    def catalog_version(self) -> int:
        return self.catalog.version

    def catalog_snapshot(self) -> list[RelationInfo]:
        with self.lock:
            return self.catalog.snapshot()

    def check_usable(self, rel: Relation, position: int | None = None) -> None:
        """Refuse a relation start-up could not bring back (see `broken`)."""
        why = self.broken.get(rel.id)
        if why is not None:
            raise OperationalError(
                f'relation "{rel.name}" is broken and cannot be used', "55000", position,
                detail=why, hint="DROP it (with CASCADE for the views over it) and "
                                 "create it again.")

    # ------------------------------------------------------------ loop plumbing
    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, R], timeout: float | None = None) -> R:
        """Run a coroutine on the engine loop and wait for its result."""
        if self.closed and self.runtime is None:
            coro.close()
            raise OperationalError("the database is closed", "08003")
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(timeout)

    def flush(self, cancel: threading.Event | None = None) -> int:
        """Inject a checkpoint barrier and wait for its commit. If an actor has
        failed, the runtime is first rebuilt from the last committed epoch (the
        acknowledged DML after it is replayed), so nothing acknowledged is lost."""
        assert self.runtime is not None
        for attempt in (1, 2):
            if self.runtime.barriers.failure is not None:
                failure = self.runtime.barriers.failure
                log.warning("rebuilding the stream graph after a failure: %r", failure)
                if attempt == 2:
                    break
                with self.lock:
                    from sqlstream import recovery
                    self.run(recovery.restart(self))
            try:
                return self._wait(self.runtime.barriers.flush(), cancel)
            except (OperationalError, InternalError):
                raise
            except Exception:
                if attempt == 2:
                    break
        failure = self.runtime.barriers.failure
        raise InternalError(f"streaming failed: {failure!r}", "XX000")

    def _wait(self, coro: Coroutine[Any, Any, R], cancel: threading.Event | None) -> R:
        """run(), giving up with 57014 when `cancel` is set (the work itself goes on:
        a checkpoint that was asked for still completes)."""
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        while True:
            try:
                return fut.result(0.05 if cancel is not None else None)
            except concurrent.futures.TimeoutError:
                if cancel is not None and cancel.is_set():
                    raise OperationalError("canceling statement due to user request",
                                           "57014") from None

    # ------------------------------------------------------------ DML entry
    def push_changes(self, rel: Relation, ops: list[int], rows: list[tuple]) -> None:
        """Queue a statement's changes to be logged durably and fed to the table's
        source, in the order of their sequence numbers. Caller holds self.lock and has
        already applied them to the writer; it calls wait_durable() once it has let
        the lock go, so that statements of other sessions are fed and logged while it
        waits, their log records in the same SQLite transaction (group commit)."""
        writer = self.writers[rel.id]
        rt = self.runtime.relations.get(rel.id) if self.runtime else None
        if rt is None or rt.input is None:
            raise InternalError(f"table {rel.name} has no running source", "XX000")
        writer.seq += 1
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._dml_queue.append((rt, writer.seq, ops, rows, done))
        if not self._dml_drain_scheduled:
            self._dml_drain_scheduled = True
            self.loop.call_soon_threadsafe(self._start_dml_drain)
        pending = getattr(self._durable, "futures", None)
        if pending is None:
            pending = self._durable.futures = []
        pending.append(done)

    def wait_durable(self) -> None:
        """Wait until every statement this thread pushed is fed and in the DML log."""
        pending = getattr(self._durable, "futures", None)
        if not pending:
            return
        self._durable.futures = []
        for done in pending:
            done.result()

    def _start_dml_drain(self) -> None:
        asyncio.ensure_future(self._drain_dml())

    async def _drain_dml(self) -> None:
        async with self._dml_drain_lock:  # one drain at a time keeps the queue's order
            while True:
                while self._dml_queue:
                    rt, seq, ops, rows, done = self._dml_queue.popleft()
                    try:
                        durable = await self._push(rt, seq, ops, rows)
                    except BaseException as e:
                        done.set_exception(e)
                        if not isinstance(e, Exception):
                            raise
                        continue
                    durable.add_done_callback(functools.partial(_settle, done))
                self._dml_drain_scheduled = False
                if not self._dml_queue:
                    return
                self._dml_drain_scheduled = True

    async def _push(self, rt: RelationRuntime, seq: int, ops: list[int],
                    rows: list[tuple]) -> asyncio.Future[None]:
        # Staged before it is fed, in the order of seq: a crash before the log write
        # loses only statements not yet acknowledged (a checkpoint may already hold
        # them, and then recovery does not replay them).
        durable = self.store.stage_dml(rt.relation.id, seq, (ops, rows))
        assert self.runtime is not None
        barriers, key = self.runtime.barriers, ("table", rt.relation.id)
        barriers.hold(key)  # the statement lands in one epoch: reads see all of it or none
        try:
            await feed(rt, seq, ops, rows, int(self.settings["chunk_size"]))
        finally:
            barriers.release(key)
        return durable

    # ------------------------------------------------------------ catalog
    async def persist_catalog(self) -> None:
        await self.store.put_meta("catalog", self.catalog.to_json())

    # ------------------------------------------------------------ closing
    def close(self) -> None:
        with _registry_lock:
            self.refs -= 1
            if self.refs > 0 or self.closed:
                return
            self.closed = True
            if self.path is not None:
                _registry.pop(os.path.realpath(self.path), None)
        try:
            if self.runtime is not None and self.runtime.barriers.failure is None:
                try:
                    self.run(self.runtime.barriers.flush(), timeout=30)
                except Exception:
                    pass
            if self.runtime is not None:
                self.run(self.runtime.stop())
            self.run(self.store.close())
        finally:
            self.runtime = None
            self._shutdown_loop()
            try:
                self.duck.close()
            except Exception:
                pass
            if self.temp_dir is not None:
                shutil.rmtree(self.temp_dir, ignore_errors=True)

    def _shutdown_loop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)


def _settle(done: concurrent.futures.Future[None], durable: asyncio.Future[None]) -> None:
    if durable.cancelled():
        done.set_exception(OperationalError("the DML log write was cancelled", "58000"))
    elif durable.exception() is not None:
        done.set_exception(durable.exception())  # type: ignore[arg-type]
    else:
        done.set_result(None)


async def feed(rt: RelationRuntime, seq: int, ops: list[int], rows: list[tuple],
               chunk_size: int) -> None:
    """Send one statement's change rows into a table's source, then its offset marker.
    The channel is bounded: a full graph makes the statement wait (backpressure)."""
    assert rt.input is not None
    for chunk in cut(ops, rows, chunk_size):
        await rt.input.send(chunk)
    rt.input.send_nowait(Offset(seq))


__all__ = ["Database", "TableWriter", "TABLE", "MATERIALIZED_VIEW", "Catalog"]
