"""SortedRows: a group's rows in sort order, in buckets so inserts stay cheap.

One flat sorted list moves half of itself on every insert; with a global top-N
over many rows that memmove dominates. Buckets of at most 2 * LOAD rows keep
each insert and delete to a bisect over bucket maxima plus a short list move.
"""

from __future__ import annotations

from bisect import bisect_left

LOAD = 512


class SortedRows:
    """Multiset of rows ordered by precomputed sort keys (keys kept alongside)."""

    __slots__ = ("_keys", "_rows", "_maxes", "_len")

    def __init__(self, keys: list[tuple] | None = None, rows: list[tuple] | None = None) -> None:
        """Build from keys and rows already in sort order."""
        keys, rows = keys or [], rows or []
        self._keys = [keys[i:i + LOAD] for i in range(0, len(keys), LOAD)]
        self._rows = [rows[i:i + LOAD] for i in range(0, len(rows), LOAD)]
        self._maxes = [b[-1] for b in self._keys]
        self._len = len(rows)

    def __len__(self) -> int:
        return self._len

    def insert(self, key: tuple, row: tuple) -> None:
        if not self._keys:
            self._keys.append([key])
            self._rows.append([row])
            self._maxes.append(key)
            self._len = 1
            return
        i = min(bisect_left(self._maxes, key), len(self._maxes) - 1)
        keys, rows = self._keys[i], self._rows[i]
        j = bisect_left(keys, key)
        keys.insert(j, key)
        rows.insert(j, row)
        self._maxes[i] = keys[-1]
        self._len += 1
        if len(keys) > 2 * LOAD:
            self._keys[i:i + 1] = [keys[:LOAD], keys[LOAD:]]
            self._rows[i:i + 1] = [rows[:LOAD], rows[LOAD:]]
            self._maxes[i:i + 1] = [keys[LOAD - 1], keys[-1]]

    def remove(self, key: tuple) -> None:
        """Remove one row with this key (the caller knows one is present)."""
        i = bisect_left(self._maxes, key)
        keys, rows = self._keys[i], self._rows[i]
        j = bisect_left(keys, key)
        del keys[j], rows[j]
        self._len -= 1
        if keys:
            self._maxes[i] = keys[-1]
        else:
            del self._keys[i], self._rows[i], self._maxes[i]

    def slice(self, start: int, stop: int | None) -> list[tuple]:
        """Rows at positions start .. stop-1 (stop None: to the end)."""
        stop = self._len if stop is None else min(stop, self._len)
        out: list[tuple] = []
        pos = 0
        for rows in self._rows:
            if pos >= stop:
                break
            end = pos + len(rows)
            if end > start:
                out.extend(rows[max(start - pos, 0):stop - pos])
            pos = end
        return out
