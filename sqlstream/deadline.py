"""Deadlines for `statement_timeout`: one daemon thread calls a function when its time
has come, unless the deadline was disarmed first. Arming costs a heap push, not a
thread per statement."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from typing import Callable


class Deadline:
    __slots__ = ("when", "fn", "armed")

    def __init__(self, when: float, fn: Callable[[], None]) -> None:
        self.when = when
        self.fn = fn
        self.armed = True

    def disarm(self) -> None:
        self.armed = False


class Watchdog:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, fn: Callable[[], None]) -> Deadline:
        d = Deadline(time.monotonic() + seconds, fn)
        with self._cond:
            heapq.heappush(self._heap, (d.when, next(self._seq), d))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="statement-timeout",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()
        return d

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and not self._heap[0][2].armed:
                    heapq.heappop(self._heap)  # disarmed: forget it
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                d = heapq.heappop(self._heap)[2]
            if d.armed:
                d.armed = False
                try:
                    d.fn()
                except Exception:  # noqa: BLE001 - one failing callback must not stop the others
                    pass


WATCHDOG = Watchdog()
