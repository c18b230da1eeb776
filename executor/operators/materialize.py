"""Materialize: keeps a relation's contents (the state reads and subscribers use)
and, at each checkpoint, hands the epoch's net change to the serving store.

Three layouts:
- keyed (tables, `key` given): state key = primary key, value = (row, rid);
  an insert of an existing key overwrites it.
- multiset (views): state key = the row, value = (count, rid).
- append log (views over append-only streams, state an `AppendLog`): rows kept
  column by column; at each checkpoint the epoch's rows get one range of row ids
  and become one state entry and one batch for the serving store. Nothing per row,
  not even the row's tuple.
`rid` is the row's surrogate id in the serving store.

`append_only` says the plan lets only inserts reach this operator (the runtime
decides it from the operators below); a delete arriving anyway is a bug upstream,
raised as `AppendOnlyViolation` instead of miscounting silently.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterator, Protocol

from executor.message import (DELETE, INSERT, SIGN, UPDATE_DELETE, UPDATE_INSERT, Barrier, Chunk,
                              Message)
from storage.serving_store import Delta
from storage.state_table import AppendLog, StateTable


class AppendOnlyViolation(RuntimeError):
    """A delete or update reached the materialize of an append-only view."""


class ServingSink(Protocol):
    def stage_serving(self, epoch: int, relation_id: int, delta: Delta) -> None: ...


class RowIds:
    """The one sequence of serving-store row ids that every materialize actor of a
    runtime draws from: actors of one relation share its serving table, so their
    ids must never collide. `bump` moves it past ids recovered from state."""

    def __init__(self, start: int = 1) -> None:
        self.next_id = start

    def __iter__(self) -> RowIds:
        return self

    def __next__(self) -> int:
        rid = self.next_id
        self.next_id += 1
        return rid

    def take(self, n: int) -> int:
        """Reserve n consecutive ids; returns the first."""
        first = self.next_id
        self.next_id += n
        return first

    def bump(self, top: int) -> None:
        self.next_id = max(self.next_id, top + 1)


class Materialize:
    def __init__(self, relation_id: int, key: list[int] | None, state: StateTable,
                 sink: ServingSink | None, rids: Iterator[int],
                 append_only: bool = False, upsert: bool = False) -> None:
        assert append_only or not isinstance(state, AppendLog), "an append log needs inserts only"
        self.relation_id = relation_id
        self.key = key
        self.state = state
        self.sink = sink
        self.rids = rids
        self.append_only = append_only
        # A table read in an upsert format: its input says what each key now is (an
        # insert) or that it is gone (a delete with only the key set); the output is
        # the real change against the current contents.
        self.upsert = upsert
        # rid each touched key had at the start of the epoch (None: absent).
        self._touched: dict[tuple, int | None] = {}
        # Append log: rows since the last checkpoint (no row id yet), by column.
        self._pending: list[list] | None = None
        self._pending_n = 0
        self.rows_in = 0

    @property
    def log(self) -> AppendLog | None:
        state = self.state
        return state if isinstance(state, AppendLog) else None

    def load(self, entries: list[tuple[tuple, Any]]) -> None:
        """Committed state at recovery. State an append log finds in another layout (a
        view created before append logs existed) keeps that layout."""
        log = self.log
        if log is not None and not AppendLog.holds(entries):
            self.state = log.as_plain()
        self.state.load(entries)

    def snapshot(self) -> list[tuple]:
        """Current contents as rows (one per copy): the backfill of a new subscriber."""
        log = self.log
        if log is not None:
            rows: list[tuple] = []
            for _first, n, columns in log.batches():
                rows.extend(zip(*columns) if columns else [()] * n)
            if self._pending is not None:
                rows.extend(zip(*self._pending) if self._pending else [()] * self._pending_n)
            return rows
        if self.key is not None:
            return [row for row, _rid in self.state.data.values()]
        out: list[tuple] = []
        for row, (count, _rid) in self.state.data.items():
            out.extend([row] * count) if count > 1 else out.append(row)
        return out

    def initial_delta(self) -> Delta:
        """Everything in state, as inserts: fills the serving store at recovery."""
        log = self.log
        if log is not None:
            return Delta(appends=list(log.batches()))
        if self.key is not None:
            return Delta([], [(rid, 1) + row for row, rid in self.state.data.values()])
        return Delta([], [(rid, count) + row for row, (count, rid) in self.state.data.items()])

    def max_rid(self) -> int:
        log = self.log
        if log is not None:
            return max((first + n - 1 for first, n, _c in log.batches()), default=0)
        vals = self.state.data.values()
        if self.key is not None:
            return max((rid for _row, rid in vals), default=0)
        return max((rid for _count, rid in vals), default=0)

    def apply(self, chunk: Chunk) -> None:
        self.rows_in += len(chunk.rows)
        if self.append_only:
            if DELETE in chunk.ops or UPDATE_DELETE in chunk.ops:
                raise AppendOnlyViolation(
                    f"a delete reached the materialize of append-only relation "
                    f"{self.relation_id}: an operator below it was taken for insert-only")
            if self.log is not None:
                self._append_rows(chunk.rows)
                return
        data, touched, state = self.state.data, self._touched, self.state
        if self.key is not None:
            key = self.key
            for op, row in zip(chunk.ops, chunk.rows):
                k = tuple(row[i] for i in key)
                old = data.get(k)
                if k not in touched:
                    touched[k] = old[1] if old is not None else None
                if SIGN[op] > 0:
                    state.put(k, (row, old[1] if old is not None else next(self.rids)))
                elif old is not None:
                    state.delete(k)
            return
        ops, rows = chunk.ops, chunk.rows
        if DELETE not in ops and UPDATE_DELETE not in ops:
            self._insert_rows(rows)
            return
        for op, row in zip(ops, rows):
            old = data.get(row)
            if row not in touched:
                touched[row] = old[1] if old is not None else None
            count = (old[0] if old is not None else 0) + SIGN[op]
            if count > 0:
                state.put(row, (count, old[1] if old is not None else next(self.rids)))
            elif old is not None:
                # count <= 0: the row is gone (a negative count would be an upstream bug).
                state.delete(row)

    def _insert_rows(self, rows: list[tuple]) -> None:
        """An insert-only chunk into the multiset layout (the common case of a view
        over an append-only stream): no per-row sign, one dirty-marking per chunk."""
        data, touched, rids = self.state.data, self._touched, self.rids
        get = data.get
        for row in rows:
            old = get(row)
            if old is None:
                data[row] = (1, next(rids))
                if row not in touched:
                    touched[row] = None
            else:
                if row not in touched:
                    touched[row] = old[1]
                data[row] = (old[0] + 1, old[1])
        self.state.mark_dirty_all(rows)

    def take_delta(self) -> Delta:
        delta = Delta()
        data = self.state.data
        if self.key is None:
            deletes, inserts, get = delta.deletes, delta.inserts, data.get
            for k, old_rid in self._touched.items():
                if old_rid is not None:
                    deletes.append(old_rid)
                now = get(k)
                if now is not None:
                    inserts.append((now[1], now[0]) + k)
            self._touched = {}
            return delta
        for k, old_rid in self._touched.items():
            if old_rid is not None:
                delta.deletes.append(old_rid)
            now = data.get(k)
            if now is not None:
                if self.key is not None:
                    row, rid = now
                    delta.inserts.append((rid, 1) + row)
                else:
                    count, rid = now
                    delta.inserts.append((rid, count) + k)
        self._touched = {}
        return delta

    def _append_rows(self, rows: list[tuple]) -> None:
        """An insert-only chunk into the append log, column by column (the rows'
        tuples are not kept)."""
        if not rows:
            return
        columns = self._pending
        if columns is None:
            self._pending = [list(c) for c in zip(*rows)]
        else:
            for column, values in zip(columns, zip(*rows)):
                column.extend(values)
        self._pending_n += len(rows)

    def _append_batch(self, epoch: int) -> None:
        """The epoch's rows in an append log: one range of row ids, one state entry,
        one batch for the serving store."""
        log = self.log
        assert log is not None and self._pending is not None and isinstance(self.rids, RowIds)
        columns, n = self._pending, self._pending_n
        self._pending, self._pending_n = None, 0
        first = self.rids.take(n)
        log.append(first, n, columns)
        if self.sink is not None:
            self.sink.stage_serving(epoch, self.relation_id, Delta(appends=[(first, n, columns)]))

    async def execute(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        async for msg in input:
            match msg:
                case Chunk():
                    if self.upsert:
                        msg = upsert_changes(msg, self.key or [], self.state.data)
                        if not msg.rows:
                            continue
                    self.apply(msg)
                    yield msg
                case Barrier():
                    if msg.is_checkpoint:
                        if self._pending_n:
                            self._append_batch(msg.epoch)
                        elif self.sink is not None and self._touched:
                            self.sink.stage_serving(msg.epoch, self.relation_id,
                                                    self.take_delta())
                        self.state.commit(msg.epoch)
                    yield msg
                case _:
                    yield msg


def upsert_changes(chunk: Chunk, key: list[int], data: dict) -> Chunk:
    """Upserts and deletes by key as changes: a new key is an insert, a known key an
    update pair (none when the row is unchanged), a delete takes the stored row and
    a delete of an absent key is dropped. Later rows of the chunk see earlier ones."""
    ops: list[int] = []
    rows: list[tuple] = []
    seen: dict[tuple, tuple | None] = {}
    for op, row in zip(chunk.ops, chunk.rows):
        k = tuple(row[i] for i in key)
        if k in seen:
            old = seen[k]
        else:
            got = data.get(k)
            old = got[0] if got is not None else None
        if SIGN[op] > 0:
            if old is None:
                ops.append(INSERT)
                rows.append(row)
            elif old != row:
                ops += [UPDATE_DELETE, UPDATE_INSERT]
                rows += [old, row]
            seen[k] = row
        else:
            if old is not None:
                ops.append(DELETE)
                rows.append(old)
            seen[k] = None
    return Chunk(ops, rows)


__all__ = ["AppendOnlyViolation", "Materialize", "RowIds", "Any"]
