"""Which plan shapes a view is planned with.

Views are planned again from their SQL at every start, and their state tables and
source offsets are named by operator position (`r<view>/f<fragment>/o<operator>`).
A rule that changes the shape of a plan (adds or removes an operator) would rename
them for a view created before the rule existed: its sources would be read again
from the start into a view that already holds their rows. So each view records the
shape version it was created with (`plan_shape` in its options), and rules newer
than that version are off while it is planned.

Version 2 added: equi-join keys computed from expressions (`planner/join_keys.py`),
folding a column-picking projection into a hop window, and source column pruning.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

CURRENT = 2
_shape: ContextVar[int] = ContextVar("plan_shape", default=CURRENT)


def shape() -> int:
    """The shape version being planned."""
    return _shape.get()


@contextmanager
def planning_shape(version: int) -> Iterator[None]:
    token = _shape.set(version)
    try:
        yield
    finally:
        _shape.reset(token)
