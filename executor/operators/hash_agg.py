"""HashAgg: grouped and simple (no GROUP BY) aggregation, fully retractable.

State: one StateTable entry per group, key = the group key values (so the key
starts with the distribution key), value = one flat list
`[row_count, None, 0, call slots...]` (few objects per group:
each surviving object costs the garbage collector and the checkpoint's pickling).
Every aggregate keeps enough to undo a row exactly: counts, running sums,
value -> count maps for min/max, item -> count maps for string_agg, and for
DISTINCT calls a value -> count map that forwards only 0<->1 transitions.
When every call is count(*) without FILTER, each call's count is the row count,
so a group is just `[row_count, None, None, None]`. (Older checkpoints hold the
last emitted row in slot 1, and nested call states: both are read.)

A chunk of inserts only is grouped by key first and each call applied to a group's
values at once; a chunk with retractions goes row by row.

Output is emitted at barriers: the net change of each group touched in the
epoch (INSERT for a new group, DELETE for a vanished one, an adjacent U-/U+
pair for a changed one). The row a group last emitted is kept in memory beside
the state: a checkpoint is committed right after its barrier's output, so after a
restart each group's last row is the output of its committed state, and nothing
is emitted twice; a simple aggregation's single row is inserted at the first
barrier and recorded the same way.
"""

from __future__ import annotations

from collections import Counter
from operator import itemgetter
from typing import Any, AsyncIterator, Callable

from executor.message import (DELETE, INSERT, SIGN, UPDATE_DELETE, UPDATE_INSERT,
                              Chunk, Message, Watermark, cut)
from executor.operators.hash_agg_accumulators import (_LIST_MAX, _accumulator,
                                                      _apply_numeric_sum, _count_result)
from executor.operators.hash_agg_codegen import _SKIP, _bulk_code, _extractor, _first_copies
from executor.operators.per_epoch import run_per_epoch
from planner.aggregates import AggCall
from storage.state_table import StateTable

__all__ = ["_LIST_MAX", "HashAgg"]  # _LIST_MAX: re-exported (tests import it from here)

# A group's state: one flat list [row_count, last_emitted_row_or_None, _FLAT, slots...],
# each call owning consecutive slots from its offset `o` (a DISTINCT call first a
# value -> count dict, then its accumulator's). Groups checkpointed in the older
# layout [row_count, last_row, [call states], [distinct dicts]] are flattened when
# first touched (`_upgrade`); a count(*)-only operator keeps [row_count, last_row,
# None, None].
_ROWS, _OUT, _LAYOUT = 0, 1, 2  # _OUT: None (the last emitted row before the flat layout)
_FLAT = 0  # in slot _LAYOUT: the flat layout (the older one holds a list there)
_FIRST = 3  # the first call's offset


def _same(row: tuple) -> tuple:
    return row


class HashAgg:
    """Aggregates per group; output row = group key values + one value per call.

    State table: key = group key values, dist_len = len(group_key)."""

    def __init__(self, group_key: list[int], calls: list[AggCall], state: StateTable,
                 chunk_size: int = 1024) -> None:
        self.group_key = list(group_key)
        self.calls = list(calls)
        self.state = state
        self.chunk_size = chunk_size
        self._accs = [_accumulator(call) for call in self.calls]
        self._offsets: list[int] = []
        self._distinct_at: list[int | None] = []
        o = _FIRST
        for call, acc in zip(self.calls, self._accs):
            self._distinct_at.append(o if call.distinct else None)
            o += call.distinct
            self._offsets.append(o)
            o += acc.slots.count(",") + 1
        # (extract, apply, offset, offset of the DISTINCT dict or -1) per call
        self._plan = [(_extractor(c), a.apply, o, -1 if d is None else d)
                      for c, a, o, d in zip(self.calls, self._accs, self._offsets,
                                            self._distinct_at)]
        gk = self.group_key
        self._group_of: Callable[[tuple], tuple] = (
            itemgetter(*gk) if len(gk) > 1  # a tuple, built in C
            else eval(f"lambda r: ({''.join(f'r[{c}], ' for c in gk)})"))  # noqa: S307
        # Only count(*) without FILTER: a group's change is its net row count, so a
        # chunk is first counted per group and each group's state touched once.
        self._whole_row_key = self.group_key == list(range(len(self.group_key)))
        self._counts_only = bool(calls) and all(
            c.kind == "count_star" and c.filter_col is None and not c.distinct
            for c in self.calls)
        self._compile()
        self._pending: dict[tuple, Any] = {}  # groups touched this epoch, in order
        # key -> the row the group last emitted. Kept out of the state, whose
        # checkpoints then pickle no output rows (numeric averages cost the most).
        self._emitted: dict[tuple, tuple] = {}
        self._cleaned: dict[int, Any] = {}  # key position -> last watermark cleaned to

    def _compile(self) -> None:
        """Generated code: a new group's list, key + group -> output row, and the
        insert-only chunk path (rows grouped by key, each call applied to a group's
        items at once: counts as list counts, sums as one sum(), min/max as one
        min()/max() and one C-level count of the values)."""
        ns: dict[str, Any] = {"_SKIP": _SKIP, "_first_copies": _first_copies}
        slots, args = [], []
        body = []
        for i, (call, acc, o, d) in enumerate(zip(self.calls, self._accs, self._offsets,
                                                  self._distinct_at)):
            ns.update({f"_r{i}": acc.result, f"_b{i}": acc.bulk, f"_x{i}": self._plan[i][0]})
            slots.append(("{}, " if d is not None else "") + acc.slots)
            args.append("g[0]" if self._counts_only else f"g[{o}]" if acc.result is _count_result
                        else f"_r{i}(g, {o})")
            body += _bulk_code(call, i, o, d)
        self._fresh: Callable[[], list] = eval(  # noqa: S307
            f"lambda: [0, None, {_FLAT}, {', '.join(slots)}]")
        self._row_of: Callable[[tuple, list], tuple] = eval(  # noqa: S307
            f"lambda k, g: k + ({''.join(a + ', ' for a in args)})", ns)
        key = "(" + "".join(f"r[{c}], " for c in self.group_key) + ")"
        src = "\n".join([
            "def _bulk(rows, data, pending, fresh, upgrade):",
            "    groups = {}",
            "    get = groups.get",
            "    for r in rows:",
            f"        k = {key}",
            "        rs = get(k)",
            "        if rs is None:",
            "            groups[k] = [r]",
            "        else:",
            "            rs.append(r)",
            "    dget = data.get",
            "    for k, rs in groups.items():",
            "        g = dget(k)",
            "        if g is None:",
            "            g = data[k] = fresh()",
            f"        elif g[{_LAYOUT}].__class__ is not int:",
            "            g = upgrade(k, g)",
            "        pending[k] = None",
            "        n = len(rs)",
            "        g[0] += n",
            *("        " + line for line in body), ""])
        exec(compile(src, "<hash_agg>", "exec"), ns)  # noqa: S102
        self._bulk = ns["_bulk"]
        self._bulk.__doc__ = src

    def _new_group(self) -> list:
        if self._counts_only:
            return [0, None, None, None]
        return self._fresh()

    def _upgrade(self, key: tuple, group: list) -> list:
        """A group checkpointed in the older layout, flattened and stored back."""
        flat = [group[_ROWS], None, _FLAT]
        states, distincts = group[2], group[3]
        for i, (call, acc) in enumerate(zip(self.calls, self._accs)):
            if call.distinct:
                flat.append(distincts[i])
            flat += states[i]
            if acc.apply is _apply_numeric_sum and len(states[i]) == 2:
                flat.append(0)  # checkpointed before NaNs were counted apart
        self.state.data[key] = flat
        return flat

    def _apply(self, chunk: Chunk) -> None:
        if self._counts_only:
            self._apply_counts(chunk)
        elif DELETE in chunk.ops or UPDATE_DELETE in chunk.ops:
            self._apply_rows(chunk)
        else:
            # New groups are written into the state dict directly: _flush marks every
            # pending group dirty (or deletes it), so no write goes unrecorded.
            self._bulk(chunk.rows, self.state.data, self._pending, self._fresh, self._upgrade)

    def _apply_rows(self, chunk: Chunk) -> None:
        """Row by row, for chunks with retractions."""
        data, pending, fresh = self.state.data, self._pending, self._fresh
        group_of, plan = self._group_of, self._plan
        for op, row in zip(chunk.ops, chunk.rows):
            sign = SIGN[op]
            key = group_of(row)
            g = data.get(key)
            if g is None:
                g = data[key] = fresh()
            elif type(g[_LAYOUT]) is not int:
                g = self._upgrade(key, g)
            pending[key] = None
            g[_ROWS] += sign
            for extract, apply, o, d in plan:
                item = extract(row)
                if item is _SKIP:
                    continue
                if d >= 0:
                    seen = g[d]
                    c = seen.get(item, 0) + sign
                    if c == 0:
                        del seen[item]
                    else:
                        seen[item] = c
                    # Only the first copy in and the last copy out change the result.
                    if not ((sign > 0 and c == 1) or (sign < 0 and c == 0)):
                        continue
                apply(g, o, item, sign)

    def _apply_counts(self, chunk: Chunk) -> None:
        """`_apply` for count(*) calls only: net rows per group, then one state touch
        per group."""
        ops, rows, group_of = chunk.ops, chunk.rows, self._group_of
        if rows and self._whole_row_key and len(rows[0]) == len(self.group_key):
            group_of = _same  # the rows are their group keys: no key tuple per row
        if ops.count(INSERT) == len(ops):
            deltas: dict[tuple, int] = Counter(map(group_of, rows) if group_of is not _same
                                               else rows)
        else:
            deltas = {}
            get = deltas.get
            for op, row in zip(ops, rows):
                key = group_of(row)
                deltas[key] = get(key, 0) + SIGN[op]
        # Groups are written into the state dict directly: _flush marks every
        # pending group dirty (or deletes it), so no write here goes unrecorded.
        # (A group checkpointed with call states, by an older version, keeps them
        # unused: the output reads the row count.)
        data = self.state.data
        for key, d in deltas.items():
            group = data.get(key)
            if group is None:
                data[key] = [d, None, None, None]
            else:
                group[_ROWS] += d
        self._pending.update(deltas)  # (only the keys matter)

    def _output_row(self, key: tuple, group: list) -> tuple | None:
        if self.group_key and group[_ROWS] <= 0:
            return None
        if not self._counts_only and type(group[_LAYOUT]) is not int:
            group = self._upgrade(key, group)  # (closed windows, untouched since a restart)
        return self._row_of(key, group)

    def _flush(self) -> list[Chunk]:
        """Net change of every touched group, as chunks that never split a U-/U+ pair."""
        state = self.state
        if not self.group_key and () not in state:
            state.put((), self._new_group())
            self._pending[()] = None
        pending, self._pending = self._pending, {}
        data, output_row, emitted = state.data, self._output_row, self._emitted
        ops: list[int] = []
        rows: list[tuple] = []
        kept: list[tuple] = []
        gone: list[tuple] = []
        for key in pending:
            group = data.get(key)
            if group is None:
                continue
            old, new = emitted.get(key), output_row(key, group)
            if old != new:
                if old is None:
                    ops.append(INSERT)
                    rows.append(new)  # type: ignore[arg-type]
                elif new is None:
                    ops.append(DELETE)
                    rows.append(old)
                else:
                    ops += (UPDATE_DELETE, UPDATE_INSERT)
                    rows += (old, new)
            if new is None:
                emitted.pop(key, None)
                if group[_ROWS] == 0:
                    gone.append(key)
                    continue
            else:
                emitted[key] = new
            kept.append(key)
        state.mark_dirty_all(kept)
        for key in gone:
            state.delete(key)
        return cut(ops, rows, self.chunk_size)

    def _forget_below(self, key_pos: int, value: Any) -> None:
        """Drop the state of groups whose key column `key_pos` is below a watermark:
        no row can reach them any more (a window that has closed), and their output
        rows stay where they are downstream. Bounded state for windowed aggregates."""
        if self._cleaned.get(key_pos) == value:
            return
        self._cleaned[key_pos] = value
        state = self.state
        done = [key for key in state.data
                if key[key_pos] is not None and key[key_pos] < value]
        for key in done:
            state.delete(key)
            self._emitted.pop(key, None)

    def _watermark_out(self, wm: Watermark) -> Watermark | None:
        # Only group columns survive; output column = position in the key.
        if wm.column not in self.group_key:
            return None
        out_col = self.group_key.index(wm.column)
        return Watermark(out_col, wm.value)

    def _on_watermark(self, wm: Watermark) -> None:
        self._forget_below(wm.column, wm.value)

    def _recall_emitted(self) -> None:
        """The rows groups last emitted, after a restart: a checkpoint is committed
        right after the barrier's output, so each group's row then is the output of
        its committed state (older checkpoints also hold the row itself)."""
        for key, group in list(self.state.data.items()):
            row = group[_OUT]
            if row is None:
                row = self._output_row(key, group)
            else:
                group[_OUT] = None
            if row is not None:
                self._emitted[key] = row

    def execute(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        self._recall_emitted()
        return run_per_epoch(self, input)
