"""HopWindow: rows per window, alignment, NULL times, derived watermarks."""

from __future__ import annotations

import datetime as dt

from executor.message import Chunk, Watermark
from executor.operators.hop_window import HopWindow
from tests.executor.harness import MockSource, run

T0 = dt.datetime(2024, 1, 1)
S = 1_000_000


def t(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_tumble_puts_each_row_in_one_window() -> None:
    src = MockSource().push_chunk(Chunk([0, 1], [(1, t(3)), (2, t(12))])).push_barrier()
    out = run(HopWindow(1, 10 * S, 10 * S, 0, 2).execute, src)
    assert out[0] == Chunk([0, 1], [(1, t(3), t(0), t(10)), (2, t(12), t(10), t(20))])


def test_hop_repeats_rows_and_skips_null_times() -> None:
    src = MockSource().push_chunk(Chunk([0, 0], [(1, t(5)), (2, None)])).push_barrier()
    out = run(HopWindow(1, 2 * S, 6 * S, 0, 2).execute, src)
    assert out[0].rows == [(1, t(5), t(0), t(6)), (1, t(5), t(2), t(8)), (1, t(5), t(4), t(10))]


def test_offset_shifts_the_windows() -> None:
    src = MockSource().push_chunk(Chunk([0], [(1, t(3))]))
    out = run(HopWindow(1, 10 * S, 10 * S, 5 * S, 2).execute, src)
    assert out[0].rows == [(1, t(3), t(-5), t(5))]


def test_watermark_on_time_column_closes_windows() -> None:
    src = MockSource().push_watermark(1, t(13)).push_watermark(0, 7)
    out = run(HopWindow(1, 2 * S, 6 * S, 0, 2).execute, src)
    # Windows starting before 8s end by 13s: no later row reaches them.
    assert out == [Watermark(1, t(13)), Watermark(2, t(8)), Watermark(3, t(14)),
                   Watermark(0, 7)]
