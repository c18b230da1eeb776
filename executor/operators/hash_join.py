"""HashJoin: incremental equi-join of two streams (inner, left, right, full outer).

Each side keeps its rows in a StateTable keyed `(*join_key, row) -> (count, degree)`:
`count` is the row's multiplicity, `degree` the number of matching partner rows on
the other side (counted with multiplicity). Degrees are kept only for the preserved
side(s) of an outer join; they decide when a NULL-padded row must appear or vanish.
The state key starts with the join key, so the table's `dist_len` is the key length.

Rows whose join key holds a NULL never match (SQL equality); they are not stored:
on a preserved side they pass straight through NULL-padded, otherwise they vanish.

Watermarks: when both sides have a watermark on the columns of one equality of
the key (`a.window_start = b.window_start`), no later row of either side has a
key value below the smaller of the two. Rows below it can never match again, so
they are dropped from both sides' state (the state of closed windows stays
bounded), and that minimum goes on as a watermark on both output columns.
Watermarks on other columns are not forwarded: the output interleaves both sides.

Interval joins: a condition such as `l.ts BETWEEN r.ts - INTERVAL '10' SECOND AND
r.ts` bounds each side's time column by the other's (planner/interval_join.py
finds the bounds). A watermark `w` on `r.ts` promises that every later right row,
insert or delete, has `r.ts >= w`, so a left row with `l.ts + 10 s < w` can match
no later right row, and every row a later left message matches is still stored:
the row is forgotten (its output rows stay). That holds for outer joins too: the
dropped row's degree can no longer change, and a later delete of it finds all its
partners. Rows are kept in a heap by time per bound, so a watermark costs only
the rows it lets go.
"""

from __future__ import annotations

import datetime as dt
import heapq
from itertools import compress
from typing import Any, AsyncIterator, Callable

from executor.align import align
from executor.message import (DELETE, INSERT, SIGN, Barrier, Chunk, ChunkBuilder, Message,
                              Watermark)
from storage.state_table import StateTable

Condition = Callable[[list[tuple]], list[bool]]

JOIN_KINDS = ("inner", "left", "right", "full")


def key_getter(indices: list[int]) -> Callable[[tuple], tuple]:
    """A function extracting the join key of a row as a tuple."""
    idx = tuple(indices)
    if not idx:
        return lambda row: ()
    if len(idx) == 1:
        i = idx[0]
        return lambda row: (row[i],)
    return lambda row: tuple(row[i] for i in idx)


class Expiry:
    """One interval bound on a side's rows: a row goes once `row[col] < threshold`
    (`<=` when strict), the threshold being a watermark on the other side's column
    `other_col` minus `offset`. The heap holds (row[col], seq, join key, row) for the
    rows stored since it was built; entries of rows deleted meanwhile are skipped."""

    __slots__ = ("col", "other_col", "offset", "strict", "heap", "seq")

    def __init__(self, col: int, other_col: int, offset_us: int, strict: bool) -> None:
        self.col = col
        self.other_col = other_col
        self.offset = dt.timedelta(microseconds=offset_us)
        self.strict = strict
        self.heap: list[tuple] | None = None  # built on the first watermark
        self.seq = 0

    def push(self, jk: tuple, row: tuple) -> None:
        value = row[self.col]
        if value is not None and self.heap is not None:
            self.seq += 1
            heapq.heappush(self.heap, (value, self.seq, jk, row))


class JoinSide:
    """One input's rows grouped by join key: the StateTable plus an index built from it.

    The index (join key -> {row: (count, degree)}) is derived: it is rebuilt lazily
    from the StateTable, so an operator constructed over recovered state is complete.
    Every write goes to both. Values are immutable tuples so that a staged checkpoint
    write never changes after it was handed over.
    """

    __slots__ = ("state", "key_of", "width", "pad", "_index", "expiries")

    def __init__(self, state: StateTable, key: list[int], width: int) -> None:
        self.state = state
        self.key_of = key_getter(key)
        self.width = width
        self.pad: tuple = (None,) * width
        self._index: dict[tuple, dict[tuple, tuple[int, int]]] | None = None
        self.expiries: list[Expiry] = []  # interval bounds on this side's rows

    @property
    def index(self) -> dict[tuple, dict[tuple, tuple[int, int]]]:
        if self._index is None:
            index: dict[tuple, dict[tuple, tuple[int, int]]] = {}
            for key, value in self.state.items():
                if key:  # the empty key is reserved for side-wide totals
                    index.setdefault(key[:-1], {})[key[-1]] = value
            self._index = index
        return self._index

    def bucket(self, jk: tuple) -> dict[tuple, tuple[int, int]]:
        """Rows stored under one join key (an empty dict if none; do not mutate)."""
        return self.index.get(jk, _EMPTY)

    def put(self, jk: tuple, row: tuple, count: int, degree: int) -> None:
        """Set a row's count and degree; a count of zero or less removes the row."""
        index = self.index
        if count > 0:
            value = (count, degree)
            bucket = index.get(jk)
            if bucket is None:
                bucket = index[jk] = {}
            if self.expiries and row not in bucket:
                for e in self.expiries:
                    e.push(jk, row)
            bucket[row] = value
            self.state.put(jk + (row,), value)
            return
        bucket = index.get(jk)
        if bucket is not None and row in bucket:
            del bucket[row]
            if not bucket:
                del index[jk]
        self.state.delete(jk + (row,))

    def drop_below(self, pos: int, value: object) -> int:
        """Remove every row whose join key's `pos`-th value is below `value`."""
        index = self.index
        gone = [jk for jk in index if jk[pos] < value]  # type: ignore[operator]
        dropped = 0
        for jk in gone:
            for row in index.pop(jk):
                self.state.delete(jk + (row,))
                dropped += 1
        return dropped


    def expire(self, e: Expiry, threshold: Any) -> int:
        """Remove every row whose column `e.col` is below `threshold` (or equal, for a
        strict bound)."""
        index = self.index
        if e.heap is None:
            col = e.col
            e.heap = [(row[col], seq, jk, row) for seq, (jk, row) in enumerate(
                (jk, row) for jk, bucket in index.items() for row in bucket)
                if row[col] is not None]
            e.seq = len(e.heap)
            heapq.heapify(e.heap)
        heap, strict = e.heap, e.strict
        dropped = 0
        while heap and (heap[0][0] < threshold or strict and heap[0][0] == threshold):
            _value, _seq, jk, row = heapq.heappop(heap)
            bucket = index.get(jk)
            if bucket is None or row not in bucket:
                continue  # deleted since, or already dropped
            del bucket[row]
            if not bucket:
                del index[jk]
            self.state.delete(jk + (row,))
            dropped += 1
        return dropped


_EMPTY: dict[tuple, tuple[int, int]] = {}


def match_partners(groups: dict[tuple, dict[tuple, None]], other: JoinSide,
                   this_is_left: bool, condition: Condition | None) -> dict[tuple, list[tuple]]:
    """For every distinct row of a chunk (grouped by join key), the partner rows on the
    other side that satisfy `condition`. The condition runs once over all candidate
    pairs of the chunk (as `left_row + right_row`), not once per pair."""
    matched: dict[tuple, list[tuple]] = {}
    if condition is None:
        for jk, rows in groups.items():
            partners = list(other.bucket(jk))
            for row in rows:
                matched[row] = partners
        return matched
    pairs: list[tuple] = []
    spans: list[tuple[tuple, list[tuple], int]] = []
    for jk, rows in groups.items():
        partners = list(other.bucket(jk))
        for row in rows:
            if not partners:
                matched[row] = partners
                continue
            spans.append((row, partners, len(pairs)))
            if this_is_left:
                pairs.extend([row + p for p in partners])
            else:
                pairs.extend([p + row for p in partners])
    if pairs:
        results = condition(pairs)
        for row, partners, start in spans:
            matched[row] = list(compress(partners, results[start:start + len(partners)]))
    return matched


def group_by_key(rows: list[tuple], side: JoinSide) -> tuple[list[tuple | None],
                                                             dict[tuple, dict[tuple, None]]]:
    """Join key of every row (None where a key column is NULL) and the distinct rows
    per non-NULL key, both in arrival order."""
    keys: list[tuple | None] = []
    groups: dict[tuple, dict[tuple, None]] = {}
    key_of = side.key_of
    for row in rows:
        jk = key_of(row)
        if None in jk:
            keys.append(None)
            continue
        keys.append(jk)
        group = groups.get(jk)
        if group is None:
            group = groups[jk] = {}
        group[row] = None
    return keys, groups


class HashJoin:
    """Equi-join of two streams with an optional extra condition, fully incremental."""

    def __init__(self, kind: str, left_key: list[int], right_key: list[int],
                 left_width: int, right_width: int, condition: Condition | None,
                 left_state: StateTable, right_state: StateTable,
                 chunk_size: int = 1024,
                 interval: list[tuple[int, int, int, int, bool]] | None = None) -> None:
        if kind not in JOIN_KINDS:
            raise ValueError(f"unknown join kind {kind!r}")
        if len(left_key) != len(right_key):
            raise ValueError("join keys differ in length")
        self.kind = kind
        self.condition = condition
        self.chunk_size = chunk_size
        self.left = JoinSide(left_state, left_key, left_width)
        self.right = JoinSide(right_state, right_key, right_width)
        self.left_preserved = kind in ("left", "full")
        self.right_preserved = kind in ("right", "full")
        self.left_key, self.right_key = list(left_key), list(right_key)
        self.left_width = left_width
        # Per key position: the latest watermark of each side, and the last one sent.
        self._wm: list[dict[int, object]] = [{}, {}]
        self._wm_sent: dict[int, object] = {}
        self.rows_dropped = 0  # state rows removed by watermarks
        # Interval bounds (side, col, other_col, offset_us, strict): see planner/interval_join.
        for side, col, other_col, offset_us, strict in interval or ():
            (self.left, self.right)[side].expiries.append(
                Expiry(col, other_col, offset_us, strict))

    async def execute(self, inputs: list[AsyncIterator[Message]]) -> AsyncIterator[Message]:
        async for side, msg in align(inputs):
            match msg:
                case Chunk():
                    for out in self._apply(side, msg):
                        yield out
                case Barrier():
                    # (1) nothing is pending: output is emitted per input chunk.
                    if msg.is_checkpoint:  # (2)
                        self.left.state.commit(msg.epoch)
                        self.right.state.commit(msg.epoch)
                    yield msg  # (3)
                case Watermark():
                    for wm in self._watermark(side, msg):
                        yield wm

    def _watermark(self, side: int, wm: Watermark) -> list[Watermark]:
        """Record one side's watermark; clean state and forward the minimum of both
        sides for each key equality both sides have a watermark on."""
        if wm.value is None:
            return []
        other = self.right if side == 0 else self.left
        for e in other.expiries:
            if e.other_col == wm.column:
                try:
                    threshold = wm.value - e.offset  # type: ignore[operator]
                except OverflowError:
                    continue  # out of the datetime range: keep the rows
                self.rows_dropped += other.expire(e, threshold)
        keys = self.left_key if side == 0 else self.right_key
        if wm.column not in keys:
            return []
        out: list[Watermark] = []
        for pos, col in enumerate(keys):
            if col != wm.column:
                continue
            mine, theirs = self._wm[side], self._wm[1 - side]
            old = mine.get(pos)
            if old is not None and not wm.value > old:
                continue
            mine[pos] = wm.value
            if pos not in theirs:
                continue
            low = min(wm.value, theirs[pos])
            sent = self._wm_sent.get(pos)
            if sent is not None and not low > sent:
                continue
            self._wm_sent[pos] = low
            self.rows_dropped += self.left.drop_below(pos, low)
            self.rows_dropped += self.right.drop_below(pos, low)
            out.append(Watermark(self.left_key[pos], low))
            out.append(Watermark(self.left_width + self.right_key[pos], low))
        return out

    def _apply(self, side: int, chunk: Chunk) -> list[Chunk]:
        """Apply one input chunk to the state and return the resulting output chunks."""
        is_left = side == 0
        this, other = (self.left, self.right) if is_left else (self.right, self.left)
        this_pres, other_pres = ((self.left_preserved, self.right_preserved) if is_left
                                 else (self.right_preserved, self.left_preserved))
        keys, groups = group_by_key(chunk.rows, this)
        matched = match_partners(groups, other, is_left, self.condition)
        out = ChunkBuilder(self.chunk_size)
        this_pad, other_pad = this.pad, other.pad
        # Net state changes of the chunk, written once per row after the loop:
        # count change and degree of this side's rows, degree change of partners.
        own: dict[tuple, list] = {}
        partner_deltas: dict[tuple[tuple, tuple], int] = {}
        for op, row, jk in zip(chunk.ops, chunk.rows, keys):
            sign = SIGN[op]
            out_op = INSERT if sign > 0 else DELETE
            if jk is None:
                if this_pres:
                    out.append(out_op, row + other_pad if is_left else other_pad + row)
                continue
            obucket = other.bucket(jk)
            degree = 0
            for p in matched[row]:
                count = obucket[p][0]
                degree += count
                out.extend([out_op] * count, [row + p if is_left else p + row] * count)
                if other_pres:
                    key = (jk, p)
                    partner_deltas[key] = partner_deltas.get(key, 0) + sign
            if this_pres and degree == 0:
                out.append(out_op, row + other_pad if is_left else other_pad + row)
            entry = own.get(row)
            if entry is None:
                own[row] = [jk, sign, degree]
            else:
                entry[1] += sign
        for row, (jk, delta, degree) in own.items():
            if delta:
                count = this.bucket(jk).get(row, (0, 0))[0] + delta
                this.put(jk, row, count, degree if this_pres else 0)
        for (jk, p), delta in partner_deltas.items():
            if not delta:
                continue
            count, old = other.bucket(jk)[p]
            new = old + delta
            other.put(jk, p, count, new)
            padded = this_pad + p if is_left else p + this_pad
            if old == 0 and new > 0:  # first partner: padded rows give way
                out.extend([DELETE] * count, [padded] * count)
            elif old > 0 and new == 0:  # last partner gone: padded rows return
                out.extend([INSERT] * count, [padded] * count)
        return out.take()
