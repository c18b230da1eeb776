"""StateTable: the one facade through which operators keep state.

The whole state of an actor's operator lives in a plain dict keyed by tuples.
Writes mark keys dirty; `commit(epoch)` hands only the dirty keys (with their
current value, or None for a deleted key) to the checkpoint store, which writes
them with every other actor's state of that epoch in one transaction.

The checkpoint store keeps each table as a log of per-epoch delta blobs, compacted
into a snapshot when the log outgrows the live contents. An entry's vnode (a stable
hash of the key's distribution prefix, `vnode_of`) tells which actor owns it when a
fragment is rebuilt with another parallelism.
"""

from __future__ import annotations

import datetime
import itertools
import zlib
from decimal import Decimal
from typing import Any, Iterator, Protocol

VNODE_COUNT = 256


def _canonical(v: Any) -> Any:
    """One spelling per value among numbers SQL calls equal: 2, 2.0 and
    Decimal('2.000') hash as 2, -0.0 as 0, Decimal('2.50') as 2.5, every NaN alike."""
    if isinstance(v, float):
        if v.is_integer():
            return int(v)
        return "NaN" if v != v else v
    if isinstance(v, Decimal):
        if not v.is_finite():
            return "NaN" if v.is_nan() else float(v)
        if v == v.to_integral_value():
            return int(v)
        f = float(v)
        return f if Decimal(f) == v else v.normalize()
    total_micros = getattr(v, "total_micros", None)  # an interval: '1 day' = '24 hours'
    return total_micros() if total_micros is not None else v


def stable_hash(values: tuple) -> int:
    """A hash that is the same in every process (Python's hash() of str is not) and
    the same for equal numbers of different spellings (numeric scales, -0.0)."""
    for v in values:
        if type(v) is float or type(v) is Decimal or type(v).__name__ == "Interval":
            values = tuple(map(_canonical, values))
            break
    return zlib.crc32(repr(values).encode())


def vnode_of(values: tuple) -> int:
    return stable_hash(values) % VNODE_COUNT


class StateSink(Protocol):
    """Where committed state goes (the checkpoint store)."""

    def stage(self, epoch: int, table_id: str,
              writes: list[tuple[int, tuple, Any]]) -> None: ...


class StateTable:
    """Key -> value state of one operator in one actor.

    `dist_len` is how many leading key columns form the distribution key (the
    columns the fragment is hash-partitioned on); 0 means a singleton fragment.
    """

    __slots__ = ("table_id", "dist_len", "data", "_dirty", "_sink", "_logged")

    def __init__(self, table_id: str, sink: StateSink | None = None, dist_len: int = 0) -> None:
        self.table_id = table_id
        self.dist_len = dist_len
        self.data: dict[tuple, Any] = {}
        # Keys written since the last commit, in order of first write (a dict, not a
        # set: committing walks them, and in write order that walk touches memory in
        # the order it was allocated; in hash order it cost 3-5x more for large epochs).
        self._dirty: dict[tuple, None] = {}
        self._sink = sink
        self._logged = 0  # entries written as deltas since the last full snapshot

    # -- reads
    def get(self, key: tuple, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __contains__(self, key: tuple) -> bool:
        return key in self.data

    def __len__(self) -> int:
        return len(self.data)

    def items(self) -> Iterator[tuple[tuple, Any]]:
        return iter(self.data.items())

    def row_count(self) -> int:
        """Rows held (sys.state_tables): one per entry, unless entries hold batches."""
        return len(self.data)

    def sample(self, k: int) -> list[tuple[tuple, Any]]:
        """Up to k entries of one row each, to estimate the size of a row."""
        return list(itertools.islice(self.data.items(), k))

    def iter_prefix(self, prefix: tuple) -> Iterator[tuple[tuple, Any]]:
        """Entries whose key starts with `prefix` (a scan: keep it off hot paths)."""
        n = len(prefix)
        for key, value in self.data.items():
            if key[:n] == prefix:
                yield key, value

    # -- writes
    def put(self, key: tuple, value: Any) -> None:
        self.data[key] = value
        self._dirty[key] = None

    def delete(self, key: tuple) -> None:
        if key in self.data:
            del self.data[key]
            self._dirty[key] = None

    def mark_dirty(self, key: tuple) -> None:
        """For values mutated in place (a list or dict stored as the value)."""
        self._dirty[key] = None

    def mark_dirty_all(self, keys: list[tuple]) -> None:
        """Many keys written directly into `data` (one call per chunk on a hot path)."""
        self._dirty.update(dict.fromkeys(keys))

    # -- checkpoint
    @property
    def dirty_count(self) -> int:
        return len(self._dirty)

    def commit(self, epoch: int) -> None:
        """Hand the dirty keys of this epoch to the checkpoint store."""
        if not self._dirty:
            return
        data = self.data
        sink = self._sink
        self._logged += len(self._dirty)
        # When the log of deltas has grown well past the live size, write the whole
        # table once instead: recovery then reads at most ~3x the live entries.
        if self._logged > 2 * len(data) + 1024 and hasattr(sink, "stage_snapshot"):
            self._dirty = {}
            self._logged = len(data)
            sink.stage_snapshot(epoch, self.table_id, list(data.items()))  # type: ignore[union-attr]
            return
        dirty, self._dirty = self._dirty, {}
        if hasattr(sink, "stage_entries"):  # (key, value) pairs, no vnode tuple per key
            get = data.get
            sink.stage_entries(epoch, self.table_id,  # type: ignore[union-attr]
                               [(key, get(key)) for key in dirty])
        elif sink is not None:
            sink.stage(epoch, self.table_id, [(0, key, data.get(key)) for key in dirty])

    def load(self, entries: Iterator[tuple[tuple, Any]] | list[tuple[tuple, Any]]) -> None:
        """Fill from committed state at recovery (nothing is dirty afterwards)."""
        self.data.update(entries)


class AppendLog(StateTable):
    """The state of an append-only relation: its rows in batches, one entry per
    checkpoint, key `(first_rid,)`, value `(first_rid, n, columns)`: n rows with the
    consecutive row ids first_rid, first_rid + 1, ..., kept column by column (a list
    of values per column; no tuple per row). Row ids are unique across the actors of
    a relation, so keys never collide when state is regrouped; and since nothing is
    ever overwritten, the log of deltas is the contents (it is never compacted).

    Committed batches are pickled with their timestamp, date and numeric columns as
    integers and strings (`encode_column`): pickling those objects one by one costs
    several times more."""

    __slots__ = ("_rows",)

    def __init__(self, table_id: str, sink: StateSink | None = None) -> None:
        super().__init__(table_id, sink, 0)
        self._rows = 0

    @staticmethod
    def holds(entries: list[tuple[tuple, Any]]) -> bool:
        """Whether committed entries are in this layout (every one a batch)."""
        return all(len(k) == 1 and type(v) is tuple and len(v) == 3 and v[0] == k[0]
                   and type(v[1]) is int and type(v[2]) is list for k, v in entries)

    def append(self, first_rid: int, n: int, columns: list[list]) -> None:
        """One checkpoint's rows (the lists are kept, never mutated afterwards)."""
        self.put((first_rid,), (first_rid, n, columns))
        self._rows += n

    def batches(self) -> Iterator[tuple[int, int, list[list]]]:
        return iter(self.data.values())

    def commit(self, epoch: int) -> None:
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, {}
        entries = []
        for key in dirty:
            first, n, columns = self.data[key]
            entries.append((key, (first, n, [encode_column(c) for c in columns])))
        sink = self._sink
        if hasattr(sink, "stage_entries"):
            sink.stage_entries(epoch, self.table_id, entries)  # type: ignore[union-attr]
        elif sink is not None:
            sink.stage(epoch, self.table_id, [(0, k, v) for k, v in entries])

    def load(self, entries: Iterator[tuple[tuple, Any]] | list[tuple[tuple, Any]]) -> None:
        for key, (first, n, columns) in entries:
            self.data[key] = (first, n, [decode_column(c) for c in columns])
            self._rows += n

    def row_count(self) -> int:
        return self._rows

    def sample(self, k: int) -> list[tuple[tuple, Any]]:
        out: list[tuple[tuple, Any]] = []
        for first, n, columns in self.data.values():
            out.extend(((first + i,), tuple(c[i] for c in columns))
                       for i in range(min(n, k - len(out))))
            if len(out) >= k:
                break
        return out

    def as_plain(self) -> StateTable:
        """A plain table with the same id and sink (state of another layout found)."""
        return StateTable(self.table_id, self._sink, self.dist_len)


_EPOCH = datetime.datetime(1970, 1, 1)
_MICRO = datetime.timedelta(microseconds=1)


def encode_column(values: list) -> Any:
    """A column as pickled cheaply: naive timestamps as microseconds since 1970,
    dates as ordinals, numerics as their exact text (each in a one-key dict, NULLs
    kept); any other column (or a mix of types) as it is."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if len(kinds) != 1:
        return values
    kind = kinds.pop()
    if kind is Decimal:
        return {"numeric": [None if v is None else str(v) for v in values]}
    if kind is datetime.date:
        return {"date": [None if v is None else v.toordinal() for v in values]}
    if kind is datetime.datetime:
        if any(v is not None and (v.tzinfo is not None or v.fold) for v in values):
            return values
        return {"timestamp": [None if v is None else (v - _EPOCH) // _MICRO for v in values]}
    return values


def decode_column(column: Any) -> list:
    if type(column) is not dict:
        return column
    ((kind, values),) = column.items()
    if kind == "numeric":
        return [None if v is None else Decimal(v) for v in values]
    if kind == "date":
        return [None if v is None else datetime.date.fromordinal(v) for v in values]
    if kind == "timestamp":
        return [None if v is None else _EPOCH + datetime.timedelta(microseconds=v)
                for v in values]
    raise ValueError(f"unknown column encoding {kind!r}")
