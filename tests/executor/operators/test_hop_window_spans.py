"""HopWindow looks windows up once per span of rows: same rows, ops and order as
placing every row on its own, for any times, ops and chunk layout."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from executor.message import DELETE, INSERT, UPDATE_DELETE, UPDATE_INSERT, Chunk, Watermark
from executor.operators.hop_window import HopWindow
from tests.executor.harness import MockSource, run

T0 = dt.datetime(2024, 1, 1)
UTC = dt.timezone.utc
S = 1_000_000


def t(seconds: float, tz: dt.tzinfo | None = None) -> dt.datetime:
    return (T0 if tz is None else T0.replace(tzinfo=tz)) + dt.timedelta(seconds=seconds)


def windows_per_row(chunk: Chunk, slide: int, size: int, offset: int) -> Chunk:
    """The definition: every aligned window [s, s + size) with s <= time < s + size;
    an update's halves, repeated per window, no longer pair up: plain Delete/Insert."""
    ops: list[int] = []
    rows: list[tuple] = []
    for op, row in zip(chunk.ops, chunk.rows):
        ts = row[1]
        if ts is None:
            continue
        base = dt.datetime(1970, 1, 1, tzinfo=ts.tzinfo)
        us = (ts - base) // dt.timedelta(microseconds=1)
        s = us - (us - offset) % slide - size + slide
        while s <= us:
            if s + size > us:
                ops.append({UPDATE_DELETE: DELETE, UPDATE_INSERT: INSERT}.get(op, op))
                rows.append(row + (base + dt.timedelta(microseconds=s),
                                   base + dt.timedelta(microseconds=s + size)))
            s += slide
    return Chunk(ops, rows)


def test_row_on_a_slide_boundary_starts_a_new_span() -> None:
    op = HopWindow(1, 2 * S, 4 * S, 0, 2)
    out = op.apply(Chunk([0, 0, 0], [(1, t(3.999999)), (2, t(4)), (3, t(3))]))
    assert out.rows == [(1, t(3.999999), t(0), t(4)), (1, t(3.999999), t(2), t(6)),
                        (2, t(4), t(2), t(6)), (2, t(4), t(4), t(8)),
                        (3, t(3), t(0), t(4)), (3, t(3), t(2), t(6))]


def test_mixed_ops_repeat_per_window_in_row_order() -> None:
    op = HopWindow(1, 2 * S, 4 * S, 0, 2)
    chunk = Chunk([UPDATE_DELETE, UPDATE_INSERT, DELETE], [(1, t(1)), (1, t(5)), (2, t(1.5))])
    out = op.apply(chunk)
    assert out.ops == [DELETE, DELETE, INSERT, INSERT, DELETE, DELETE]
    assert out == windows_per_row(chunk, 2 * S, 4 * S, 0)


def test_naive_and_aware_times_in_one_chunk() -> None:
    op = HopWindow(1, 2 * S, 4 * S, 0, 2)
    chunk = Chunk([0, 0, 0], [(1, t(1)), (2, t(1, UTC)), (3, t(2))])
    assert op.apply(chunk) == windows_per_row(chunk, 2 * S, 4 * S, 0)


OPS = st.sampled_from([INSERT, DELETE, UPDATE_DELETE, UPDATE_INSERT])
TIMES = st.one_of(st.none(), st.integers(-20_000, 60_000).map(lambda ms: ms * 1000))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(OPS, TIMES), max_size=40), st.sampled_from([1, 2, 3, 5]),
       st.integers(1, 4), st.integers(-3000, 3000), st.booleans(), st.booleans())
def test_same_as_placing_each_row_alone(rows: list[tuple[int, int | None]], slides: int,
                                        slide_s: int, offset_ms: int, aware: bool,
                                        ordered: bool) -> None:
    if ordered:
        rows = sorted(rows, key=lambda r: -1 << 60 if r[1] is None else r[1])
    slide, offset = slide_s * S, offset_ms * 1000
    tz = UTC if aware else None
    chunk = Chunk([op for op, _ in rows],
                  [(i, None if us is None else t(us / S, tz)) for i, (_, us) in enumerate(rows)])
    op = HopWindow(1, slide, slide * slides, offset, 2)
    assert op.apply(chunk) == windows_per_row(chunk, slide, slide * slides, offset)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(OPS, TIMES), max_size=20),
       st.lists(st.integers(0, 3), min_size=1, max_size=5))
def test_output_columns_are_the_full_rows_projected(rows: list[tuple[int, int | None]],
                                                     output: list[int]) -> None:
    chunk = Chunk([op for op, _ in rows],
                  [(i, None if us is None else t(us / S)) for i, (_, us) in enumerate(rows)])
    full = windows_per_row(chunk, 2 * S, 6 * S, 0)
    got = HopWindow(1, 2 * S, 6 * S, 0, 2, output).apply(chunk)
    assert got == Chunk(full.ops, [tuple(r[c] for c in output) for r in full.rows])


def test_watermarks_follow_the_output_columns() -> None:
    src = MockSource().push_watermark(1, t(13)).push_watermark(0, 7)
    src.push_chunk(Chunk([0], [(5, t(13))]))
    out = run(HopWindow(1, 2 * S, 6 * S, 0, 2, [2, 0]).execute, src)
    # The time column is left out; window_start is output column 0, the id column 1.
    assert out[:2] == [Watermark(0, t(8)), Watermark(1, 7)]
    assert out[2].rows == [(t(8), 5), (t(10), 5), (t(12), 5)]
