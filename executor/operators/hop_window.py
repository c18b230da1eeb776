"""HopWindow: each row once per hopping window holding its time value, with
`window_start` and `window_end` appended (TUMBLE is a hop whose slide is its size).

Windows are aligned to `offset` modulo `slide`. A row whose time is NULL belongs
to no window. A watermark on the time column becomes, besides itself, a
watermark on window_start (the earliest start a later row can still have) and
on window_end, so windowed aggregations downstream can close windows.
"""

from __future__ import annotations

import datetime as dt
from typing import AsyncIterator, Callable

from executor.message import Chunk, Message, Watermark, without_pairs

_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_TZ = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_US = dt.timedelta(microseconds=1)


def _to_us(ts: dt.datetime) -> int:
    return (ts - (_EPOCH_TZ if ts.tzinfo is not None else _EPOCH)) // _US


def _expander(width: int, output: list[int] | None) -> Callable[[list[tuple], tuple], list[tuple]]:
    """(rows, windows) -> each row once per window, row by row, as output rows."""
    if output is None:
        return lambda run, wins: [r + w for r in run for w in wins]
    cols = "".join(f"r[{c}], " if c < width else f"w[{c - width}], " for c in output)
    return eval(f"lambda run, wins: [({cols}) for r in run for w in wins]")  # noqa: S307


class HopWindow:
    """`output`, if given, lists the columns to emit (positions in the input row
    followed by window_start and window_end), so that a projection which only picks
    columns can be folded in: no full-width row is built per window."""

    def __init__(self, time_col: int, slide_us: int, size_us: int, offset_us: int,
                 input_width: int, output: list[int] | None = None) -> None:
        self.time_col = time_col
        self.slide = slide_us
        self.size = size_us
        self.offset = offset_us
        self.width = input_width
        self.output = output
        self._bounds: dict[tuple[int, bool], tuple[dt.datetime, dt.datetime]] = {}
        self._expand = _expander(input_width, output)

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

    def _windows_of(self, ts: dt.datetime) -> tuple[dt.datetime, dt.datetime, tuple[tuple, ...]]:
        """`(lo, hi, windows)`: the (start, end) pairs of the windows holding `ts`, and
        the span [lo, hi) of times that lie in exactly those windows. The size is a
        multiple of the slide (the binder checks), so the span is one slide long and
        begins at the latest window start."""
        tz = ts.tzinfo is not None
        last = self._last_start(_to_us(ts))
        window, slide = self._window, self.slide
        windows = tuple(window(s, tz) for s in range(last - self.size + slide, last + 1, slide))
        return window(last, tz)[0], window(last + slide, tz)[0], windows

    def apply(self, chunk: Chunk) -> Chunk:
        """Each row once per window holding it, row by row, windows in order of start.

        Windows are looked up once per span of rows whose times share them, not per
        row: rows mostly come in time order, so a row usually falls in the span of
        the row before it, which costs two datetime comparisons."""
        col, windows_of, expand = self.time_col, self._windows_of, self._expand
        in_ops = chunk.ops
        one_op = in_ops.count(in_ops[0]) == len(in_ops) if in_ops else True
        ops: list[int] = []
        rows: list[tuple] = []
        run: list[tuple] = []  # rows of the current span
        run_ops: list[int] = []
        lo = hi = None
        wins: tuple = ()
        try:
            for op, row in zip(in_ops, chunk.rows):
                ts = row[col]
                if ts is None:
                    continue
                if lo is None or not (lo <= ts < hi):  # type: ignore[operator]
                    if run:
                        rows += expand(run, wins)
                        if not one_op:
                            ops += [o for o in run_ops for _ in wins]
                        run, run_ops = [], []
                    lo, hi, wins = windows_of(ts)
                run.append(row)
                if not one_op:
                    run_ops.append(op)
        except TypeError:  # naive and aware datetimes in one column: no spans
            return self._apply_per_row(chunk)
        if run:
            rows += expand(run, wins)
            if not one_op:
                ops += [o for o in run_ops for _ in wins]
        if one_op and rows:
            ops = [in_ops[0]] * len(rows)
        # A row's copies in several windows no longer pair up with its update's other
        # half: updates leave as plain deletes and inserts.
        return Chunk(without_pairs(ops), rows)

    def _apply_per_row(self, chunk: Chunk) -> Chunk:
        """`apply` without spans, for times that do not compare with each other."""
        ops: list[int] = []
        rows: list[tuple] = []
        for op, row in zip(chunk.ops, chunk.rows):
            ts = row[self.time_col]
            if ts is not None:
                wins = self._windows_of(ts)[2]
                ops += [op] * len(wins)
                rows += self._expand([row], wins)
        return Chunk(without_pairs(ops), rows)

    async def execute(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        async for msg in input:
            match msg:
                case Chunk():
                    out = self.apply(msg)
                    if out.rows:
                        yield out
                case Watermark(column=c, value=v) if c == self.time_col and v is not None:
                    ws, we = self._window(self.first_open_start(_to_us(v)), v.tzinfo is not None)
                    for wm in (msg, Watermark(self.width, ws), Watermark(self.width + 1, we)):
                        out_wm = self._output_watermark(wm)
                        if out_wm is not None:
                            yield out_wm
                case Watermark():
                    out_wm = self._output_watermark(msg)
                    if out_wm is not None:
                        yield out_wm
                case _:
                    yield msg

    def _output_watermark(self, wm: Watermark) -> Watermark | None:
        """A watermark on an output column (None if `output` leaves the column out)."""
        if self.output is None:
            return wm
        if wm.column not in self.output:
            return None
        return Watermark(self.output.index(wm.column), wm.value)
