"""The `datagen` connector: generated rows, deterministic for the given options.

`fields.<col>.kind` = `sequence` (`start`, `end`) or `random` (`min`, `max`,
`seed`, `length` for strings, `max_past` and `max_past_mode` for timestamps). Split
i of `datagen.split.num` produces global rows i, i + k, i + 2k, ...; row g's
sequence value is start + g and its random values are a hash of (seed, column,
g), so a split's position is just how many rows it has produced. With an `end`
the source finishes after the last sequence value.

A random timestamp is a base time minus a random amount up to `max_past`. With
`max_past_mode = 'absolute'` (the default) the base is the time of CREATE, fixed in
the catalog, so regenerated rows are identical; with `'relative'` (as in RisingWave)
it is the time the row is generated, so event time moves on with the wall clock and
windows over it close; a row regenerated after a restart then gets a new time.
"""

from __future__ import annotations

import datetime as dt
import decimal
import time
from typing import Any, Callable

from executor.connectors.base import (Connector, ConnectorReader, SourceSpec, bad_option,
                                      float_option, int_option, mix64, my_splits, register)
from planner import types as T

_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_EPOCH = dt.datetime(1970, 1, 1)


def _field_opts(options: dict[str, str], col: str) -> dict[str, str]:
    prefix = f"fields.{col.lower()}."
    return {k[len(prefix):]: v for k, v in options.items() if k.startswith(prefix)}


class _Clock:
    """The wall clock as of the chunk being generated (read once per chunk)."""

    __slots__ = ("now_us",)

    def __init__(self) -> None:
        self.now_us = int(time.time() * 1_000_000)

    def tick(self) -> None:
        self.now_us = int(time.time() * 1_000_000)


def _column_gen(options: dict[str, str], col: str, ctype: T.DataType, col_index: int,
                clock: _Clock | None = None) -> tuple[Callable[[int], Any], int | None]:
    """(value of global row g, number of rows or None when unbounded)."""
    f = _field_opts(options, col)
    kind = f.get("kind", "random").lower()
    name = f"fields.{col}"
    if kind == "sequence":
        if not (ctype.is_numeric):
            raise bad_option(f"{name}.kind", f"sequence needs a numeric column, {col} is {ctype}")
        start = int_option(f, "start", 0)
        end = int_option(f, "end", None)
        assert start is not None
        count = None if end is None else max(0, end - start + 1)
        if ctype.name in ("real", "double precision"):
            return (lambda g: float(start + g)), count
        if ctype.name == "numeric":
            return (lambda g: decimal.Decimal(start + g)), count
        return (lambda g: start + g), count
    if kind != "random":
        raise bad_option(f"{name}.kind", f"expected 'sequence' or 'random', got '{kind}'")
    seed = (int_option(f, "seed", 0) or 0) * 1_000_003 + col_index * 7919
    base = mix64(seed)
    tname = ctype.name
    if tname in ("smallint", "integer", "bigint"):
        lo = int_option(f, "min", 0) or 0
        hi = int_option(f, "max", 32767)
        assert hi is not None
        if hi < lo:
            raise bad_option(f"{name}.max", "must not be less than min")
        span = hi - lo + 1
        return (lambda g: lo + mix64(base ^ g) % span), None
    if tname in ("real", "double precision", "numeric"):
        flo = float_option(f, "min", 0.0) or 0.0
        fhi = float_option(f, "max", 32767.0)
        assert fhi is not None
        width = fhi - flo
        if tname == "numeric":
            return (lambda g: decimal.Decimal(repr(round(flo + width * (mix64(base ^ g) >> 11)
                                                         / 9007199254740992.0, 6)))), None
        return (lambda g: flo + width * (mix64(base ^ g) >> 11) / 9007199254740992.0), None
    if tname == "boolean":
        return (lambda g: bool(mix64(base ^ g) & 1)), None
    if tname == "varchar":
        length = int_option(f, "length", 10, minimum=0) or 0

        def text(g: int) -> str:
            h = mix64(base ^ g)
            out = []
            for _ in range(length):
                out.append(_ALPHABET[h % 62])
                h = h // 62 or mix64(h + g)
            return "".join(out)
        return text, None
    if tname in ("timestamp", "timestamptz", "date"):
        past_text = f.get("max_past", "1 day")
        try:
            past = T.parse_interval(past_text).total_micros()
        except ValueError:
            raise bad_option(f"{name}.max_past", f"not an interval: '{past_text}'") from None
        mode = f.get("max_past_mode", "absolute").lower()
        if mode not in ("absolute", "relative"):
            raise bad_option(f"{name}.max_past_mode",
                             f"expected 'absolute' or 'relative', got '{mode}'")
        fixed_us = int(options.get("datagen.base.time.us") or time.time() * 1_000_000)
        now = clock if mode == "relative" and clock is not None else None
        span_us = max(1, past)
        tz = dt.timezone.utc if tname == "timestamptz" else None

        def stamp(g: int) -> Any:
            base_us = fixed_us if now is None else now.now_us
            v = _EPOCH + dt.timedelta(microseconds=base_us - mix64(base ^ g) % span_us)
            if tname == "date":
                return v.date()
            return v.replace(tzinfo=tz) if tz else v
        return stamp, None
    raise bad_option(f"{name}.kind", f"random values of type {ctype} are not supported")


def _validate(spec: SourceSpec) -> None:
    opts = spec.options
    int_option(opts, "datagen.split.num", 1, minimum=1)
    float_option(opts, "datagen.rows.per.second", 10)
    known = {c.lower() for c, _ in spec.columns}
    for key in opts:
        if key.startswith("fields."):
            col = key.split(".")[1]
            if col not in known:
                raise bad_option(key, f'there is no column "{col}"')
    for i, (col, ctype) in enumerate(spec.columns):
        _column_gen(opts, col, ctype, i)


class DatagenReader(ConnectorReader):
    def __init__(self, spec: SourceSpec) -> None:
        opts = spec.options
        self.total_splits = int_option(opts, "datagen.split.num", 1, minimum=1) or 1
        self.splits = my_splits(self.total_splits, spec.actor_index, spec.parallelism)
        self.clock = _Clock()
        gens = [_column_gen(opts, c, t, i, self.clock)
                for i, (c, t) in enumerate(spec.columns)]
        # Values only of the columns read; a sequence's end still bounds the rows
        # whether or not its column is read.
        self.gens = [gens[i][0] for i in spec.output_columns]
        counts = [n for _, n in gens if n is not None]
        self.count: int | None = min(counts) if counts else None
        rate = float_option(opts, "datagen.rows.per.second", 10)
        self.default_rate = (rate * len(self.splits) / self.total_splits) if rate else None
        self.done = {s: 0 for s in self.splits}  # split -> rows produced
        self._next = 0

    @property
    def idle(self) -> bool:  # type: ignore[override]
        return not self.splits or self.finished

    @property
    def finished(self) -> bool:  # type: ignore[override]
        return all(self._exhausted(s) for s in self.splits)

    def _exhausted(self, split: int) -> bool:
        if self.count is None:
            return False
        return split + self.done[split] * self.total_splits >= self.count

    def backlog(self) -> int | None:
        """Rows of this reader's splits still to generate (with an `end`)."""
        if self.count is None:
            return None
        k = self.total_splits
        return sum(max(0, -(-(self.count - s - n * k) // k)) for s, n in self.done.items())

    def read(self, max_rows: int) -> list[tuple]:
        live = [s for s in self.splits if not self._exhausted(s)]
        if not live:
            return []
        split = live[self._next % len(live)]
        self._next += 1
        k = self.total_splits
        first = split + self.done[split] * k
        stop = first + max_rows * k
        if self.count is not None:
            stop = min(stop, self.count)
        gs = range(first, stop, k)
        self.done[split] += len(gs)
        self.clock.tick()
        cols = [[gen(g) for g in gs] for gen in self.gens]
        return list(zip(*cols)) if cols else [() for _ in gs]

    def position(self) -> Any:
        return {str(s): n for s, n in self.done.items()}

    def restore(self, position: Any) -> None:
        for s, n in position.items():
            if int(s) in self.done:
                self.done[int(s)] = int(n)


def _fixed(options: dict[str, str]) -> dict[str, str]:
    if "datagen.base.time.us" in options:
        return {}
    return {"datagen.base.time.us": str(int(time.time() * 1_000_000))}


register(Connector("datagen", _validate, DatagenReader, None, _fixed))
