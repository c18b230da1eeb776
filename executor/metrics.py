"""Per-actor time accounting over a sliding window: busy, idle (waiting for input)
and backpressured (waiting for room downstream), the way Flink reports
busy/idle/backPressuredTimeMsPerSecond.

An actor is always in exactly one mode; `switch` closes the interval spent in the
old mode and adds it to the current bucket. Buckets are about one second long
(2**30 ns) and kept in a small ring, so the hot path is a subtraction, a shift and
a few integer adds per transition, and transitions happen per chunk, never per row.
Reading adds the interval still open, so an actor stuck in one wait still shows it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable

BUSY, IDLE, BLOCKED = 0, 1, 2
_SHIFT = 30  # bucket length: 2**30 ns, about 1.07 s
BUCKET_S = (1 << _SHIFT) / 1e9


@dataclass
class WindowFigures:
    """An actor's figures over the window: ratios sum to 1 when time was observed."""

    busy_ratio: float
    idle_ratio: float
    backpressure_ratio: float
    external_ratio: float  # share of wall time inside blocking external calls (UDFs)
    rows_per_second: float
    seconds: float  # length of the window actually observed


class ActorMetrics:
    """The clock of one actor: mode, per-bucket time per mode, rows out per bucket."""

    __slots__ = ("actor_id", "relation_id", "fragment", "window", "mode", "since",
                 "_sec", "_ns", "_rows", "_ext", "waiting", "rows_in", "started",
                 "external_names", "op_rows")

    def __init__(self, actor_id: int, relation_id: int, fragment: int,
                 window_s: float = 10.0) -> None:
        self.actor_id = actor_id
        self.relation_id = relation_id
        self.fragment = fragment
        n = max(2, int(window_s / BUCKET_S + 0.999)) + 1
        self.window = n - 1  # whole buckets read, plus the current one
        self.mode = BUSY
        now = time.perf_counter_ns()
        self.since = now
        self.started = now
        self._sec = [-1] * n
        self._ns = [[0, 0, 0] for _ in range(n)]
        self._rows = [0] * n
        self._ext = [0] * n
        self.waiting = 0  # input reads currently suspended on an empty channel
        self.rows_in = 0
        self.external_names: list[str] = []  # blocking functions this actor calls
        self.op_rows: dict[int, list[int]] = {}  # operator index -> rows out per bucket

    def set_window(self, window_s: float) -> None:
        """Change the window length (SET metrics_window_s); buckets still inside the
        new window are kept."""
        n = max(2, int(window_s / BUCKET_S + 0.999)) + 1
        if n != len(self._sec):
            old = [(b, self._ns[i], self._rows[i], self._ext[i],
                    {op: per[i] for op, per in self.op_rows.items()})
                   for i, b in enumerate(self._sec) if b >= 0]
            self._sec = [-1] * n
            self._ns = [[0, 0, 0] for _ in range(n)]
            self._rows = [0] * n
            self._ext = [0] * n
            self.op_rows = {op: [0] * n for op in self.op_rows}
            for b, ns, rows, ext, ops in sorted(old)[-n:]:
                i = b % n
                self._sec[i], self._ns[i], self._rows[i], self._ext[i] = b, ns, rows, ext
                for op, v in ops.items():
                    self.op_rows[op][i] = v
        self.window = n - 1

    # ------------------------------------------------------------ hot path
    def _slot(self, now: int) -> int:
        b = now >> _SHIFT
        i = b % len(self._sec)
        if self._sec[i] != b:
            self._sec[i] = b
            self._ns[i] = [0, 0, 0]
            self._rows[i] = 0
            self._ext[i] = 0
            for per_op in self.op_rows.values():
                per_op[i] = 0
        return i

    def switch(self, mode: int) -> int:
        """Enter `mode`; returns the mode left (to restore it after a wait)."""
        now = time.perf_counter_ns()
        old = self.mode
        self._ns[self._slot(now)][old] += now - self.since
        self.since = now
        self.mode = mode
        return old

    def idle_enter(self) -> None:
        self.waiting += 1
        if self.mode != IDLE:
            self.switch(IDLE)

    def idle_exit(self) -> None:
        # Any input that delivers gives the actor work: it is busy from here on.
        self.waiting -= 1
        if self.mode == IDLE:
            self.switch(BUSY)

    def add_rows(self, n: int) -> None:
        self._rows[self._slot(time.perf_counter_ns())] += n

    def add_op_rows(self, op: int, n: int) -> None:
        per_op = self.op_rows.get(op)
        if per_op is None:
            per_op = self.op_rows[op] = [0] * len(self._sec)
        per_op[self._slot(time.perf_counter_ns())] += n

    def op_rate(self, op: int) -> float:
        """Rows per second operator `op` of this actor's chain emitted over the window."""
        per_op = self.op_rows.get(op)
        if per_op is None:
            return 0.0
        now = time.perf_counter_ns()
        cur = now >> _SHIFT
        first = cur - self.window
        rows = sum(per_op[i] for i, b in enumerate(self._sec) if first < b <= cur)
        span = min(now - self.started, now - ((first + 1) << _SHIFT))
        return rows / (max(span, 1) / 1e9)

    def add_external(self, ns: int) -> None:
        self._ext[self._slot(time.perf_counter_ns())] += ns

    # ------------------------------------------------------------ reading
    def figures(self) -> WindowFigures:
        now = time.perf_counter_ns()
        cur = now >> _SHIFT
        first = cur - self.window
        tot = [0, 0, 0]
        rows = ext = 0
        for i, b in enumerate(self._sec):
            if first < b <= cur:
                ns = self._ns[i]
                tot[0] += ns[0]
                tot[1] += ns[1]
                tot[2] += ns[2]
                rows += self._rows[i]
                ext += self._ext[i]
        # The open interval, clipped to the window.
        span_ns = min(now - self.started, now - ((first + 1) << _SHIFT))
        tot[self.mode] += min(now - self.since, max(span_ns, 0))
        total = sum(tot)
        seconds = max(span_ns, 1) / 1e9
        if total <= 0:
            return WindowFigures(0.0, 1.0, 0.0, 0.0, 0.0, seconds)
        return WindowFigures(tot[0] / total, tot[1] / total, tot[2] / total,
                             min(ext / total, 1.0), rows / seconds, seconds)


async def count_rows(stream: AsyncIterator[Any], metrics: ActorMetrics, op: int
                     ) -> AsyncIterator[Any]:
    """Pass `stream` through, counting the rows of its chunks as operator `op`'s output."""
    add = metrics.add_op_rows
    async for msg in stream:
        rows = getattr(msg, "rows", None)
        if rows is not None and type(rows) is list:
            add(op, len(rows))
        yield msg


def explain_analyze(plan: Any, actors: list[Any]) -> list[str]:
    """The view's plan tree, each operator with its rows per second over the window
    and its actors' busy and backpressure ratios (averaged over the fragment)."""
    lines: list[str] = []
    for frag in reversed(plan.fragments):
        mine = [a for a in actors if a.fragment == frag.index and a.metrics is not None]
        figs = [a.metrics.figures() for a in mine]
        busy = sum(f.busy_ratio for f in figs) / len(figs) if figs else 0.0
        bp = sum(f.backpressure_ratio for f in figs) / len(figs) if figs else 0.0
        lines.append(f"Fragment {frag.index} (parallelism {frag.parallelism}): "
                     f"busy {busy:.2f}, backpressure {bp:.2f}")
        stack: list[tuple[Any, str]] = [(frag.root, "")]
        while stack:
            node, prefix = stack.pop()
            if node.kind in ("exchange", "table_scan"):
                lines.append(f"{prefix}└─ {node.describe()}")
                continue
            rate = sum(a.metrics.op_rate(node.op_index) for a in mine)
            lines.append(f"{prefix}└─ {node.describe()}  [rows/s: {rate:.1f}, busy: {busy:.2f}"
                         f", backpressure: {bp:.2f}]")
            stack.extend((c, prefix + "   ") for c in reversed(node.inputs))
    return lines


def idle_while(metrics: ActorMetrics, wait: Callable[..., Awaitable[Any]]
               ) -> Callable[..., Awaitable[Any]]:
    """`wait` (a reader waiting for its next poll or its rate) counted as idle time."""
    async def wrapped(*args: Any) -> Any:
        metrics.idle_enter()
        try:
            return await wait(*args)
        finally:
            metrics.idle_exit()
    return wrapped


class ProcessCpu:
    """Samples of process CPU time against wall time, to tell a CPU-bound process."""

    def __init__(self, window_s: float = 10.0) -> None:
        self.window_s = window_s
        self.samples: list[tuple[float, float]] = []

    def sample(self) -> None:
        now = time.monotonic()
        self.samples.append((now, time.process_time()))
        while len(self.samples) > 2 and self.samples[1][0] < now - self.window_s:
            self.samples.pop(0)

    def utilization(self) -> float | None:
        """CPU seconds per wall second over the window (1.0 = one core busy)."""
        self.sample()
        (t0, c0), (t1, c1) = self.samples[0], self.samples[-1]
        if t1 - t0 < 0.5:
            return None
        return (c1 - c0) / (t1 - t0)


__all__ = ["ActorMetrics", "ProcessCpu", "idle_while", "count_rows", "explain_analyze", "WindowFigures", "BUSY", "IDLE", "BLOCKED"]
