"""UdfProject: a projection whose expressions call Python UDFs.

Per chunk: the arguments of every UDF call are computed (compiled, as in Project),
the calls are made, then the projection runs over the input row extended with the
call results. A blocking function runs in this operator's own worker thread, one
call per chunk, so it slows only this operator and never the event loop; an
`async def` function's calls run concurrently, within a chunk and across the
chunks that follow it, at most `concurrency` at a time for the operator, output
kept in input order. A call that raises gives NULL.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import time
from typing import Any, AsyncIterator, Callable, Sequence

from executor.message import Chunk, Message, Watermark
from executor.metrics import ActorMetrics
from planner import expressions as X
from planner.expressions.udf import UdfCall, load_function

log = logging.getLogger("sqlstream.udf")


def udf_calls(exprs: Sequence[X.BoundExpr]) -> list[UdfCall]:
    """The distinct UDF calls in the expressions, in first-seen order."""
    found: dict[UdfCall, None] = {}
    stack = list(reversed(exprs))
    while stack:
        e = stack.pop()
        if isinstance(e, UdfCall):
            found[e] = None
        else:
            stack.extend(reversed(e.children()))
    return list(found)


def _substitute(e: X.BoundExpr, refs: dict[UdfCall, X.InputRef]) -> X.BoundExpr:
    """`e` with each outermost UDF call replaced by the column holding its result."""
    if isinstance(e, UdfCall):
        return refs[e]
    kids = e.children()
    return e.with_children(tuple(_substitute(k, refs) for k in kids)) if kids else e


class UdfProject:
    def __init__(self, exprs: Sequence[X.BoundExpr], metrics: ActorMetrics | None = None,
                 concurrency: int = 16) -> None:
        self.calls = udf_calls(exprs)
        width = 1 + max([i for e in exprs for i in e.input_refs()] or [-1])
        self.width = width
        args = [a for c in self.calls for a in c.args]
        self.args = X.compile_projection(args) if args else None
        self.spans: list[tuple[int, int]] = []
        pos = 0
        for c in self.calls:
            self.spans.append((pos, pos + len(c.args)))
            pos += len(c.args)
        refs = {c: X.InputRef(width + k, c.type) for k, c in enumerate(self.calls)}
        self.project = X.compile_projection([_substitute(e, refs) for e in exprs])
        self.fns = [load_function(c.func) for c in self.calls]
        self.metrics = metrics
        self.concurrency = max(1, concurrency)
        self.pool: concurrent.futures.ThreadPoolExecutor | None = None
        self.slots = asyncio.Semaphore(self.concurrency)  # async calls in flight
        if metrics is not None:
            metrics.external_names = list(dict.fromkeys(c.func.name for c in self.calls))

    async def execute(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        if any(c.func.is_async for c in self.calls):
            stream = self._pipelined(input)
        else:
            stream = self._sequential(input)
        try:
            async for msg in stream:
                yield msg
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=False, cancel_futures=True)

    async def _sequential(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        """Blocking functions: one chunk at a time, its calls in the worker thread."""
        async for msg in input:
            match msg:
                case Chunk():
                    t0 = time.perf_counter_ns()
                    out = await self._apply(msg.rows)
                    if self.metrics is not None:
                        self.metrics.add_external(time.perf_counter_ns() - t0)
                    yield Chunk(msg.ops, out)
                case Watermark():
                    pass  # UDF outputs are opaque: no watermark survives them
                case _:
                    yield msg

    async def _pipelined(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        """Async functions: the calls of consecutive chunks overlap (at most
        `concurrency` calls in flight for the operator), output kept in input order.
        Reading ahead stops at `concurrency` pending chunks; a wait for results with
        no room to read more is time inside external calls."""
        self.slots = asyncio.Semaphore(self.concurrency)
        pending: collections.deque[Any] = collections.deque()  # Task (a chunk) or Message
        it = input.__aiter__()
        reading: asyncio.Future | None = None
        ended = False
        try:
            while True:
                while pending and (not isinstance(pending[0], asyncio.Task)
                                   or pending[0].done()):
                    head = pending.popleft()
                    yield head.result() if isinstance(head, asyncio.Task) else head
                if ended and not pending:
                    return
                if not ended and reading is None and len(pending) < self.concurrency:
                    reading = asyncio.ensure_future(it.__anext__())
                waits = [w for w in (reading, pending[0] if pending else None)
                         if w is not None]
                t0 = time.perf_counter_ns()
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                if reading is None and self.metrics is not None:
                    self.metrics.add_external(time.perf_counter_ns() - t0)
                if reading is not None and reading.done():
                    done, reading = reading, None
                    try:
                        msg = done.result()
                    except StopAsyncIteration:
                        ended = True
                        continue
                    match msg:
                        case Chunk():
                            pending.append(asyncio.ensure_future(self._chunk(msg)))
                        case Watermark():
                            pass  # UDF outputs are opaque: no watermark survives them
                        case _:
                            pending.append(msg)
        finally:
            for w in [reading, *pending]:
                if isinstance(w, asyncio.Future):
                    if not w.done():
                        w.cancel()
                    elif not w.cancelled():
                        w.exception()  # retrieved: the stream is ending anyway

    async def _chunk(self, msg: Chunk) -> Chunk:
        return Chunk(msg.ops, await self._apply(msg.rows))

    async def _apply(self, rows: list[tuple]) -> list[tuple]:
        if not rows:
            return []
        arg_rows = self.args(rows) if self.args is not None else [()] * len(rows)
        results: list[list[Any]] = []
        for call, fn, (lo, hi) in zip(self.calls, self.fns, self.spans):
            argv = [a[lo:hi] for a in arg_rows]
            if call.func.is_async:
                results.append(await self._call_async(fn, argv))
            else:
                if self.pool is None:
                    self.pool = concurrent.futures.ThreadPoolExecutor(
                        1, thread_name_prefix=f"udf-{call.func.name}")
                loop = asyncio.get_running_loop()
                results.append(await loop.run_in_executor(self.pool, _call_all, fn, argv))
        w = self.width
        return self.project([r[:w] + extra for r, extra in zip(rows, zip(*results))])

    async def _call_async(self, fn: Callable, argv: list[tuple]) -> list[Any]:
        out: list[Any] = [None] * len(argv)
        slots = self.slots

        async def call(i: int, a: tuple) -> None:
            async with slots:
                try:
                    out[i] = await fn(*a)
                except Exception as exc:  # a failing call gives NULL, the stream goes on
                    log.warning("UDF %s failed: %r", getattr(fn, "__name__", "?"), exc)
        await asyncio.gather(*(call(i, a) for i, a in enumerate(argv)))
        return out


def _call_all(fn: Callable, argv: list[tuple]) -> list[Any]:
    out: list[Any] = []
    for a in argv:
        try:
            out.append(fn(*a))
        except Exception as exc:  # a failing call gives NULL, the stream goes on
            log.warning("UDF %s failed: %r", getattr(fn, "__name__", "?"), exc)
            out.append(None)
    return out


__all__ = ["UdfProject", "udf_calls"]
