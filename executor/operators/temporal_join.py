"""TemporalJoin: `probe JOIN versions FOR SYSTEM_TIME AS OF PROCTIME()` (inner or left).

A probe (left) row is joined once with the version (right) rows of its epoch, as
RisingWave's and Flink's processing-time temporal joins do: a later change on the
version side changes nothing already emitted, and only probe rows that arrive after
it see it. Processing time has the barrier's grain: the probe rows of an epoch are
joined when its barrier arrives, with the versions as of that barrier. That makes the
answer independent of how the two inputs interleave within an epoch, and lets a new
view's backfill (both snapshots in its first epoch) see the whole version table.

State:
- the version side's rows, keyed `(*join key, row) -> (count, 0)` as HashJoin keeps
  a side (`JoinSide`), so it is found by join key;
- a memo of the probe rows, keyed `(*join key, row) -> copies`: for every stored copy
  of the row, the tuple of version rows it was joined with. A probe delete takes back
  the output of one copy, so the view stays the multiset of the joins it emitted.
Both tables start with the join key, so `dist_len` is the key length.
"""

from __future__ import annotations

from typing import AsyncIterator

from executor.align import align
from executor.message import DELETE, INSERT, SIGN, Barrier, Chunk, ChunkBuilder, Message
from executor.operators.hash_join import Condition, JoinSide, key_getter, match_partners
from storage.state_table import StateTable


class TemporalJoin:
    def __init__(self, kind: str, left_key: list[int], right_key: list[int],
                 left_width: int, right_width: int, condition: Condition | None,
                 memo: StateTable, versions: StateTable, chunk_size: int = 1024) -> None:
        if kind not in ("inner", "left"):
            raise ValueError(f"temporal join kind {kind!r}: only inner and left")
        if len(left_key) != len(right_key):
            raise ValueError("join keys differ in length")
        self.outer = kind == "left"
        self.condition = condition
        self.chunk_size = chunk_size
        self.memo = memo
        self.left_key_of = key_getter(left_key)
        self.versions = JoinSide(versions, right_key, right_width)
        self.pad: tuple = (None,) * right_width

    async def execute(self, inputs: list[AsyncIterator[Message]]) -> AsyncIterator[Message]:
        pending: list[Chunk] = []  # probe chunks of the current epoch
        async for side, msg in align(inputs):
            match msg:
                case Chunk() if side == 0:
                    pending.append(msg)
                case Chunk():
                    self._version(msg)
                case Barrier():
                    for chunk in pending:
                        for out in self._probe(chunk):
                            yield out
                    pending = []
                    if msg.is_checkpoint:
                        self.memo.commit(msg.epoch)
                        self.versions.state.commit(msg.epoch)
                    yield msg
                case _:
                    pass  # watermarks: the output interleaves rows of any age

    def _version(self, chunk: Chunk) -> None:
        """Apply a change of the version side: stored, never emitted."""
        side = self.versions
        for op, row in zip(chunk.ops, chunk.rows):
            jk = side.key_of(row)
            if None in jk:
                continue  # a NULL key never matches
            count = side.bucket(jk).get(row, (0, 0))[0] + SIGN[op]
            side.put(jk, row, count, 0)

    def _probe(self, chunk: Chunk) -> list[Chunk]:
        key_of, memo, pad, outer = self.left_key_of, self.memo, self.pad, self.outer
        keys = [key_of(row) for row in chunk.rows]
        groups: dict[tuple, dict[tuple, None]] = {}
        for op, row, jk in zip(chunk.ops, chunk.rows, keys):
            if SIGN[op] > 0 and None not in jk:
                groups.setdefault(jk, {})[row] = None
        matched = match_partners(groups, self.versions, True, self.condition)
        out = ChunkBuilder(self.chunk_size)
        for op, row, jk in zip(chunk.ops, chunk.rows, keys):
            sign = SIGN[op]
            if None in jk:
                if outer:
                    out.append(INSERT if sign > 0 else DELETE, row + pad)
                continue
            key = jk + (row,)
            copies: tuple = memo.get(key) or ()
            if sign > 0:
                bucket = self.versions.bucket(jk)
                partners = tuple(p for p in matched[row] for _ in range(bucket[p][0]))
                memo.put(key, copies + (partners,))
                out_op = INSERT
            elif copies:
                partners = copies[-1]
                if len(copies) > 1:
                    memo.put(key, copies[:-1])
                else:
                    memo.delete(key)
                out_op = DELETE
            else:
                continue  # a delete of a row never seen: nothing was emitted for it
            if partners:
                out.extend([out_op] * len(partners), [row + p for p in partners])
            elif outer:
                out.append(out_op, row + pad)
        return out.take()
