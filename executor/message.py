"""The three messages that flow on every stream edge: Chunk, Barrier, Watermark.

A Chunk is a batch of change rows kept as two parallel lists: `ops` (one Op per
row) and `rows` (tuples, positional by column). Operators work on whole chunks;
nothing on the data path is done per row across an await.

The engine's streams are multisets of rows changed by deltas: an Insert adds one
copy of a row, a Delete removes one copy. An update is an adjacent
UpdateDelete/UpdateInsert pair; operators may treat U- as Delete and U+ as
Insert, and do.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator


class Op(enum.IntEnum):
    INSERT = 0
    DELETE = 1
    UPDATE_DELETE = 2
    UPDATE_INSERT = 3


INSERT, DELETE, UPDATE_DELETE, UPDATE_INSERT = Op.INSERT, Op.DELETE, Op.UPDATE_DELETE, Op.UPDATE_INSERT

# +1 for ops that add a row, -1 for ops that remove one (indexable by op).
SIGN = (1, -1, -1, 1)

_OP_TEXT = {"+": INSERT, "-": DELETE, "U-": UPDATE_DELETE, "U+": UPDATE_INSERT}
_TEXT_OP = {v: k for k, v in _OP_TEXT.items()}


@dataclass(frozen=True, slots=True)
class Chunk:
    """A batch of change rows: ops[i] applies to rows[i]."""

    ops: list[int]
    rows: list[tuple]

    def __len__(self) -> int:
        return len(self.rows)

    @staticmethod
    def inserts(rows: list[tuple]) -> Chunk:
        return Chunk([INSERT] * len(rows), rows)

    @staticmethod
    def deletes(rows: list[tuple]) -> Chunk:
        return Chunk([DELETE] * len(rows), rows)

    def signed(self) -> Iterator[tuple[int, tuple]]:
        """(+1 | -1, row) pairs."""
        for op, row in zip(self.ops, self.rows):
            yield SIGN[op], row

    def compact(self) -> Chunk:
        """Drop pairs that cancel out (same row inserted then deleted), keep order of
        the rest. Used by tests to compare chunks as multisets of changes."""
        counts: dict[tuple, int] = {}
        for sign, row in self.signed():
            counts[row] = counts.get(row, 0) + sign
        ops: list[int] = []
        rows: list[tuple] = []
        for row, n in counts.items():
            op = INSERT if n > 0 else DELETE
            for _ in range(abs(n)):
                ops.append(op)
                rows.append(row)
        return Chunk(ops, rows)

    @staticmethod
    def from_pretty(text: str) -> Chunk:
        """Build a chunk from text, one row a line after a header of type letters:

            I  T
          + 1  a
          - 2  .      ('.' is NULL)
          U- 3 b
          U+ 3 c

        Header letters: I integer, F float, T text, B boolean (t/f); the header may
        be omitted, then every value is parsed as int, else float, else text."""
        lines = [ln.split() for ln in text.strip().splitlines() if ln.strip()]
        kinds: list[str] | None = None
        if lines and lines[0][0] not in _OP_TEXT:
            kinds = lines.pop(0)
        ops: list[int] = []
        rows: list[tuple] = []
        for parts in lines:
            ops.append(_OP_TEXT[parts[0]])
            values = parts[1:]
            rows.append(tuple(_parse_pretty(v, kinds[i] if kinds else None)
                              for i, v in enumerate(values)))
        return Chunk(ops, rows)

    def to_pretty(self) -> str:
        return "\n".join(f"{_TEXT_OP[Op(op)]} " + " ".join("." if v is None else str(v) for v in row)
                         for op, row in zip(self.ops, self.rows))


def _parse_pretty(text: str, kind: str | None) -> Any:
    if text == ".":
        return None
    if kind == "I":
        return int(text)
    if kind == "F":
        return float(text)
    if kind == "T":
        return text
    if kind == "B":
        return text in ("t", "true")
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


class BarrierKind(enum.Enum):
    BARRIER = "barrier"
    CHECKPOINT = "checkpoint"


@dataclass(frozen=True, slots=True)
class Mutation:
    """A change to the running graph carried by a barrier. `kind` is one of
    add, stop, pause, resume, rate_limit, scale; `payload` is kind-specific."""

    kind: str
    payload: Any = None


@dataclass(frozen=True, slots=True)
class Barrier:
    epoch: int
    prev_epoch: int
    kind: BarrierKind = BarrierKind.CHECKPOINT
    mutation: Mutation | None = None

    @property
    def is_checkpoint(self) -> bool:
        return self.kind is BarrierKind.CHECKPOINT


@dataclass(frozen=True, slots=True)
class Watermark:
    """No later row will carry a value smaller than `value` in column `column`."""

    column: int
    value: Any


Message = Chunk | Barrier | Watermark


def keep_pairs_whole(ops: list[int], keep: list[bool]) -> list[int]:
    """`ops` ready to be filtered by `keep`: where only one half of an adjacent U-/U+
    pair is kept, that half becomes a plain Delete or Insert (no half pair leaves)."""
    if UPDATE_DELETE not in ops:
        return ops
    out = list(ops)
    for i in range(len(ops) - 1):
        if ops[i] == UPDATE_DELETE and ops[i + 1] == UPDATE_INSERT \
                and bool(keep[i]) != bool(keep[i + 1]):
            if keep[i]:
                out[i] = DELETE
            else:
                out[i + 1] = INSERT
    return out


def without_pairs(ops: list[int]) -> list[int]:
    """`ops` with every U-/U+ made a plain Delete/Insert (for operators whose output
    rows no longer pair up, such as one row fanned out to several windows)."""
    if UPDATE_DELETE not in ops and UPDATE_INSERT not in ops:
        return ops
    return [DELETE if op == UPDATE_DELETE else INSERT if op == UPDATE_INSERT else op
            for op in ops]


@dataclass(slots=True)
class ChunkBuilder:
    """Accumulates output rows and cuts them into chunks of at most `capacity` rows."""

    capacity: int = 1024
    ops: list[int] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)

    def append(self, op: int, row: tuple) -> None:
        self.ops.append(op)
        self.rows.append(row)

    def extend(self, ops: Iterable[int], rows: Iterable[tuple]) -> None:
        self.ops.extend(ops)
        self.rows.extend(rows)

    def take(self) -> list[Chunk]:
        """All accumulated rows as chunks, and start over."""
        if not self.rows:
            return []
        ops, rows, cap = self.ops, self.rows, self.capacity
        self.ops, self.rows = [], []
        return cut(ops, rows, cap)


def cut(ops: list[int], rows: list[tuple], cap: int) -> list[Chunk]:
    """Chunks of at most `cap` rows (at least 2), in order, none ending between a U- and
    its U+: a cut that would fall inside a pair moves one row earlier."""
    n = len(rows)
    if n <= cap:
        return [Chunk(ops, rows)] if n else []
    cap = max(cap, 2)
    out: list[Chunk] = []
    i = 0
    while n - i > cap:
        j = i + cap
        if ops[j - 1] == UPDATE_DELETE:
            j -= 1
        out.append(Chunk(ops[i:j], rows[i:j]))
        i = j
    if i < n:
        out.append(Chunk(ops[i:], rows[i:]))
    return out
