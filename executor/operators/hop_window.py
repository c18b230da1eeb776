"""HopWindow: each row once per hopping window holding its time value, with
`window_start` and `window_end` appended (TUMBLE is a hop whose slide is its size).

Windows are aligned to `offset` modulo `slide`. A row whose time is NULL belongs
to no window. A watermark on the time column becomes, besides itself, a
watermark on window_start (the earliest start a later row can still have) and
on window_end, so windowed aggregations downstream can close windows.
"""

from __future__ import annotations

import datetime as dt
from typing import AsyncIterator

from executor.message import Chunk, Message, Watermark

_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_TZ = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_US = dt.timedelta(microseconds=1)


def _to_us(ts: dt.datetime) -> int:
    return (ts - (_EPOCH_TZ if ts.tzinfo is not None else _EPOCH)) // _US


class HopWindow:
    def __init__(self, time_col: int, slide_us: int, size_us: int, offset_us: int,
                 input_width: int) -> None:
        self.time_col = time_col
        self.slide = slide_us
        self.size = size_us
        self.offset = offset_us
        self.width = input_width
        self._bounds: dict[tuple[int, bool], tuple[dt.datetime, dt.datetime]] = {}

    def _window(self, start: int, tz: bool) -> tuple[dt.datetime, dt.datetime]:
        key = (start, tz)
        hit = self._bounds.get(key)
        if hit is None:
            base = _EPOCH_TZ if tz else _EPOCH
            hit = (base + dt.timedelta(microseconds=start),
                   base + dt.timedelta(microseconds=start + self.size))
            if len(self._bounds) > 4096:
                self._bounds.clear()
            self._bounds[key] = hit
        return hit

    def _last_start(self, us: int) -> int:
        """The latest window start (aligned) at or before `us`."""
        return us - (us - self.offset) % self.slide

    def first_open_start(self, us: int) -> int:
        """The earliest window start whose window still holds times >= us."""
        return self._last_start(us - self.size) + self.slide

    def apply(self, chunk: Chunk) -> Chunk:
        col, slide, size = self.time_col, self.slide, self.size
        window, last_start = self._window, self._last_start
        ops: list[int] = []
        rows: list[tuple] = []
        for op, row in zip(chunk.ops, chunk.rows):
            ts = row[col]
            if ts is None:
                continue
            tz = ts.tzinfo is not None
            us = _to_us(ts)
            start = last_start(us)
            first = start
            while first - slide > us - size:
                first -= slide
            s = first
            while s <= start:
                ops.append(op)
                rows.append(row + window(s, tz))
                s += slide
        return Chunk(ops, rows)

    async def execute(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        async for msg in input:
            match msg:
                case Chunk():
                    out = self.apply(msg)
                    if out.rows:
                        yield out
                case Watermark(column=c, value=v) if c == self.time_col and v is not None:
                    yield msg
                    ws, we = self._window(self.first_open_start(_to_us(v)), v.tzinfo is not None)
                    yield Watermark(self.width, ws)
                    yield Watermark(self.width + 1, we)
                case _:
                    yield msg
