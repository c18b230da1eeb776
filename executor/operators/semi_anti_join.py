"""SemiAntiJoin: left rows filtered by whether they have a partner on the right.

"semi" passes a left row (with its multiplicity) while it has at least one right
partner (equal join key and `condition` over `left_row + right_row`); "anti" while
it has none. The left StateTable is keyed `(*join_key, row) -> (count, degree)`,
the right one `(*join_key, row) -> (count, 0)`; both have `dist_len = len(key)`.

Output is computed as a per-chunk difference: a left row's verdict before the chunk
against its verdict after it, so flips that cancel within a chunk emit nothing.

`null_aware=True` (anti only, one key column, no condition) gives the semantics of
`x NOT IN (subquery)`: a left row passes iff no right row equals its key, no right
row has a NULL key, and its own key is not NULL unless the right side is empty.
That verdict depends on side-wide totals, kept in the right table under the empty
key `()` as `(rows, null_key_rows)`; so a null-aware join needs a singleton
fragment (all rows of both sides in one actor).
"""

from __future__ import annotations

from typing import AsyncIterator

from executor.align import align
from executor.message import DELETE, INSERT, SIGN, Barrier, Chunk, ChunkBuilder, Message
from executor.operators.hash_join import Condition, JoinSide, group_by_key, match_partners
from storage.state_table import StateTable

_TOTALS = ()


class SemiAntiJoin:
    """Semi or anti join, fully incremental over both inputs."""

    def __init__(self, kind: str, left_key: list[int], right_key: list[int],
                 left_width: int, right_width: int, condition: Condition | None,
                 left_state: StateTable, right_state: StateTable,
                 null_aware: bool = False, chunk_size: int = 1024) -> None:
        if kind not in ("semi", "anti"):
            raise ValueError(f"unknown semi/anti join kind {kind!r}")
        if len(left_key) != len(right_key):
            raise ValueError("join keys differ in length")
        if null_aware:
            if kind != "anti" or len(left_key) != 1:
                raise ValueError("a null-aware join is an anti join on one key column")
            if condition is not None:
                raise NotImplementedError("null-aware anti join with an extra condition")
        self.kind = kind
        self.anti = kind == "anti"
        self.null_aware = null_aware
        self.condition = condition
        self.chunk_size = chunk_size
        self.left = JoinSide(left_state, left_key, left_width)
        self.right = JoinSide(right_state, right_key, right_width)

    async def execute(self, inputs: list[AsyncIterator[Message]]) -> AsyncIterator[Message]:
        async for side, msg in align(inputs):
            match msg:
                case Chunk():
                    chunks = self._apply_left(msg) if side == 0 else self._apply_right(msg)
                    for out in chunks:
                        yield out
                case Barrier():
                    # (1) nothing is pending: output is emitted per input chunk.
                    if msg.is_checkpoint:  # (2)
                        self.left.state.commit(msg.epoch)
                        self.right.state.commit(msg.epoch)
                    yield msg  # (3)
                case _:
                    pass  # watermarks are dropped for now

    # -- verdicts
    def _totals(self) -> tuple[int, int]:
        return self.right.state.get(_TOTALS, (0, 0))

    def _passes(self, degree: int, jk: tuple, totals: tuple[int, int]) -> bool:
        if not self.anti:
            return degree > 0
        if not self.null_aware:
            return degree == 0
        rows, null_rows = totals
        return degree == 0 and null_rows == 0 and (jk[0] is not None or rows == 0)

    # -- left input
    def _apply_left(self, chunk: Chunk) -> list[Chunk]:
        left = self.left
        keys, groups = group_by_key(chunk.rows, left)
        matched = match_partners(groups, self.right, True, self.condition)
        totals = self._totals()
        out = ChunkBuilder(self.chunk_size)
        for op, row, jk in zip(chunk.ops, chunk.rows, keys):
            sign = SIGN[op]
            if jk is None:
                if not self.null_aware:
                    # Never matches: always passes an anti join, never a semi join.
                    if self.anti:
                        out.append(INSERT if sign > 0 else DELETE, row)
                    continue
                jk = left.key_of(row)  # (None,): stored, its verdict hangs on the totals
                degree = 0
            else:
                bucket = self.right.bucket(jk)
                degree = sum(bucket[p][0] for p in matched[row])
            if self._passes(degree, jk, totals):
                out.append(INSERT if sign > 0 else DELETE, row)
            count = left.bucket(jk).get(row, (0, 0))[0] + sign
            left.put(jk, row, count, degree)
        return out.take()

    # -- right input
    def _apply_right(self, chunk: Chunk) -> list[Chunk]:
        right, left = self.right, self.left
        keys, groups = group_by_key(chunk.rows, right)
        matched = match_partners(groups, left, False, self.condition)
        before = self._totals()
        rows_total, null_total = before
        # Net changes of the chunk, written once per row: right counts, left degrees.
        own: dict[tuple, list] = {}
        deltas: dict[tuple[tuple, tuple], int] = {}
        for op, row, jk in zip(chunk.ops, chunk.rows, keys):
            sign = SIGN[op]
            rows_total += sign
            if jk is None:
                null_total += sign
                continue
            for p in matched[row]:
                key = (jk, p)
                deltas[key] = deltas.get(key, 0) + sign
            entry = own.get(row)
            if entry is None:
                own[row] = [jk, sign]
            else:
                entry[1] += sign
        for row, (jk, delta) in own.items():
            if delta:
                right.put(jk, row, right.bucket(jk).get(row, (0, 0))[0] + delta, 0)
        # Degree of every touched left row before this chunk, in first-touch order.
        touched: dict[tuple[tuple, tuple], int] = {}
        for (jk, p), delta in deltas.items():
            if delta:
                count, degree = left.bucket(jk)[p]
                touched[(jk, p)] = degree
                left.put(jk, p, count, degree + delta)
        after = (rows_total, null_total)
        if self.null_aware and after != before:
            if after[0] > 0 or after[1] > 0:
                right.state.put(_TOTALS, after)
            else:
                right.state.delete(_TOTALS)
            # Emptiness or NULL presence on the right changed: every verdict may flip.
            if (before[0] == 0) != (after[0] == 0) or (before[1] == 0) != (after[1] == 0):
                for jk, bucket in left.index.items():
                    for p, (_, degree) in bucket.items():
                        touched.setdefault((jk, p), degree)
        out = ChunkBuilder(self.chunk_size)
        for (jk, p), old_degree in touched.items():
            entry = left.bucket(jk).get(p)
            if entry is None:
                continue
            count, degree = entry
            was = self._passes(old_degree, jk, before)
            now = self._passes(degree, jk, after)
            if was != now:
                out.extend([INSERT if now else DELETE] * count, [p] * count)
        return out.take()
