"""BoundedRows: one group's rows for a top-N with a limit, sorted only where it shows.

A group keeps its first `cap` rows in order (the cache: sort keys alongside) and the
others unsorted (the rest). Every rest row sorts at or after every cached row, so a
new row that sorts after the last cached one goes to the rest without touching the
cache: for most inserts that is one comparison and an append.
The cache holds at least `need` rows (offset + limit) while the rest is not empty;
when deletes take it below that, the best rows of the rest move in (a scan of the
rest, paid once per `cap - need` deletes, since `cap` grows with the rest).

Rows are held as state keys (group key values + the row), the same tuples that key
the StateTable, so a stored row costs one tuple. The rest list is not updated by
deletes: the StateTable's counts say how many copies of each row are present, and
the list is rebuilt from them when it is read (a refill) or when it has grown to
more than twice its live size.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from typing import Callable

# Slack added to `need` the first time a group refills its cache; it grows with the rest.
MIN_SLACK = 8


class BoundedRows:
    """Cache (keys, sks: sorted) + rest (unsorted, possibly stale) of one group."""

    __slots__ = ("keys", "sks", "rest", "rest_n", "cap")

    def __init__(self, cap: int) -> None:
        self.keys: list[tuple] = []  # order keys (ORDER BY part only) of the cached rows
        self.sks: list[tuple] = []  # the cached rows as state keys, in full order
        self.rest: list[tuple] = []  # state keys of rest rows; may hold deleted ones
        self.rest_n = 0  # how many rows the rest really holds
        self.cap = cap

    def __len__(self) -> int:
        return len(self.sks) + self.rest_n

    def goes_to_rest(self, sk: tuple, cmp: Callable[[tuple, tuple], int],
                     tie: Callable[[tuple], tuple]) -> bool:
        """Whether a new row sorts at or after the last cached row while the cache has
        no room for it (then it belongs to the rest). `cmp` compares by ORDER BY."""
        sks = self.sks
        if not sks or (len(sks) < self.cap and not self.rest_n):
            return False
        last = sks[-1]
        c = cmp(sk, last)
        return c > 0 or (c == 0 and tie(sk) >= tie(last))

    def add_to_rest(self, sk: tuple) -> None:
        self.rest.append(sk)
        self.rest_n += 1

    def insert(self, k: tuple, sk: tuple, tie: Callable[[tuple], tuple]) -> None:
        """Put a row that does not go to the rest into the cache; the last cached row
        moves to the rest when the cache overflows."""
        keys, sks = self.keys, self.sks
        i = bisect_left(keys, k)
        if i < len(keys) and keys[i] == k:  # equal order keys: place by the tie-break
            t = tie(sk)
            j = bisect_right(keys, k, i)
            while i < j and tie(sks[i]) < t:
                i += 1
        keys.insert(i, k)
        sks.insert(i, sk)
        if len(sks) > self.cap:
            del keys[-1]
            self.rest.append(sks.pop())
            self.rest_n += 1

    def cached_at(self, k: tuple, sk: tuple) -> tuple[int, int]:
        """(index of a cached copy of the row or -1, number of cached copies)."""
        keys, sks = self.keys, self.sks
        i = bisect_left(keys, k)
        j = bisect_right(keys, k, i)
        first, copies = -1, 0
        for p in range(i, j):
            if sks[p] == sk:
                copies += 1
                if first < 0:
                    first = p
        return first, copies

    def remove_cached(self, p: int, need: int, data: dict[tuple, int],
                      full: Callable[[tuple], tuple], key: Callable[[tuple], tuple]) -> None:
        """Drop the cached row at index p; refill the cache when it falls below `need`."""
        del self.keys[p], self.sks[p]
        if len(self.sks) < need and self.rest_n:
            self._refill(need, data, full, key)

    def remove_from_rest(self, data: dict[tuple, int]) -> None:
        """One rest row was deleted (its count already lowered in `data`)."""
        self.rest_n -= 1
        if not self.rest_n:
            self.rest = []
        elif len(self.rest) > 2 * self.rest_n + 16:
            self.rest = self._live_rest(data)

    def _live_rest(self, data: dict[tuple, int]) -> list[tuple]:
        """The rest as it is: each row as often as the StateTable counts it, less the
        copies in the cache."""
        cached: dict[tuple, int] = {}
        for sk in self.sks:
            cached[sk] = cached.get(sk, 0) + 1
        seen: set[tuple] = set()
        live: list[tuple] = []
        for sk in self.rest:
            if sk not in seen:
                seen.add(sk)
                n = data.get(sk, 0) - cached.get(sk, 0)
                if n > 0:
                    live.extend([sk] * n)
        return live

    def _refill(self, need: int, data: dict[tuple, int], full: Callable[[tuple], tuple],
                key: Callable[[tuple], tuple]) -> None:
        live = self._live_rest(data)
        self.cap = max(self.cap, need + max(need, MIN_SLACK, len(live) // 8))
        take = self.cap - len(self.sks)
        best, live = _split_best(live, take, full)
        # Every rest row sorts after every cached row, so the best ones go at the end.
        self.keys.extend(map(key, best))
        self.sks.extend(best)
        self.rest, self.rest_n = live, len(live)


def _split_best(sks: list[tuple], k: int,
                full: Callable[[tuple], tuple]) -> tuple[list[tuple], list[tuple]]:
    """The k first rows in order, and the others unordered (duplicates counted down)."""
    if k >= len(sks):
        return sorted(sks, key=full), []
    best = heapq.nsmallest(k, sks, key=full)
    chosen: dict[tuple, int] = {}
    for sk in best:
        chosen[sk] = chosen.get(sk, 0) + 1
    rest = []
    for sk in sks:
        n = chosen.get(sk, 0)
        if n:
            chosen[sk] = n - 1
        else:
            rest.append(sk)
    return best, rest


def build(sks: list[tuple], need: int, full: Callable[[tuple], tuple],
          key: Callable[[tuple], tuple]) -> BoundedRows:
    """A group from all its rows (state keys, duplicates repeated), at recovery."""
    group = BoundedRows(need)
    best, rest = _split_best(sks, need, full)
    group.keys = [key(sk) for sk in best]
    group.sks = best
    group.rest, group.rest_n = rest, len(rest)
    return group
