"""CSV for the `posix_fs` connector: a block of whole lines parsed by pyarrow (the
columnar fast path, and the checks that send a block to the line-by-line path), and
the line-by-line csv path with its per-column and per-record conversion and checks.
`PosixFsReader` (in posix_fs.py) takes these methods from `CsvParsing`; see that
module's docstring for the rules.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import operator
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from executor.connectors.base import SourceMetrics
from planner import types as T
from planner.nan import canonical_float

_BOM = b"\xef\xbb\xbf"
# Types whose text pyarrow turns into the values the line path gives (int() and float()
# of the text); real is read as double, as `T.coerce` does. Others go through Python.
_ARROW_TYPES = {"smallint": pa.int16(), "integer": pa.int32(), "bigint": pa.int64(),
                "real": pa.float64(), "double precision": pa.float64()}


_INT_BITS = {"smallint": 15, "integer": 31, "bigint": 63}


def _convert_column(col: tuple, t: T.DataType, conv: Callable[[str], Any]) -> Any:
    """One column's text values as values ("" is NULL), or an exception when one of
    them does not fit; the common types go through C-level maps."""
    name = t.name
    if "" not in col:
        if name == "varchar":
            return col
        if name in _INT_BITS:
            out = list(map(int, col))
            bits = _INT_BITS[name]
            if min(out) < -(1 << bits) or max(out) >= 1 << bits:
                raise OverflowError("out of range")
            return out
        if name == "timestamp":
            out = list(map(dt.datetime.fromisoformat, col))
            if any(map(_TZINFO, out)):
                raise ValueError("time zone in a timestamp without time zone")
            return out
    return [None if v == "" else conv(v) for v in col]


_TZINFO = operator.attrgetter("tzinfo")


def _cast_numbers(text: Any, arrow: pa.DataType) -> Any:
    """A column of CSV text as numbers ("" is NULL), or None when a value has an "x" (a
    hex number: pyarrow takes it, int() and float() do not). Raises on a value that is
    no number or out of range; pyarrow's numbers otherwise are int() and float()'s."""
    if pc.any(pc.match_substring(text, "x")).as_py() \
            or pc.any(pc.match_substring(text, "X")).as_py():
        return None
    if pc.min(pc.binary_length(text)).as_py() == 0:
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    return text.cast(arrow)


class _Ahead:
    """Rows parsed from a block of whole lines of a file, one row per line, not yet
    handed out; `ends[k]` is the byte offset after row k's line."""

    __slots__ = ("rows", "ends", "next", "offset", "line")

    def __init__(self, rows: list[tuple], ends: Any, offset: int, line: int) -> None:
        self.rows = rows
        self.ends = ends
        self.next = 0
        self.offset = offset  # the file position before row `next`
        self.line = line

    def take(self, pos: list[int], max_rows: int) -> list[tuple] | None:
        """The next rows, moving `pos` past their lines; None when none are left or
        `pos` is no longer where these rows start (restored, or read otherwise)."""
        if self.next >= len(self.rows) or pos[0] != self.offset or pos[1] != self.line:
            return None
        k = min(max_rows, len(self.rows) - self.next)
        rows = self.rows[self.next:self.next + k]
        self.next += k
        self.offset = pos[0] = int(self.ends[self.next - 1])
        self.line = pos[1] = pos[1] + k
        return rows


class CsvParsing:
    """The CSV methods of `PosixFsReader`, which sets these attributes."""

    names: list[str]
    types: list[T.DataType]
    output: list[int]
    delimiter: str
    metrics: SourceMetrics
    headers: dict[str, list[int | None]]
    _out_types: list[T.DataType]
    _check: list[int]
    _check_converters: list[Callable[[str], Any]]
    _converters: list[Callable[[str], Any]]
    _lines_until: dict[str, int]

    def _parse_block(self, name: str, pos: list[int], data: bytes) -> _Ahead | None:
        """The rows of the whole lines of `data` (read at `pos`) parsed by pyarrow, when
        they are exactly what the line path gives; else None, and the line path reads
        up to the end of these lines."""
        end = data.rfind(b"\n") + 1
        if end == 0:
            return None
        ahead = self._block_rows(self.headers.get(name), pos, data, end)
        if ahead is None:
            self._lines_until[name] = pos[0] + end
        return ahead

    def _block_rows(self, mapping: list[int | None] | None, pos: list[int], data: bytes,
                    end: int) -> _Ahead | None:
        width = len(mapping) if mapping is not None else len(self.names)
        # The line path strips "\r" only before "\n" and keeps a BOM; pyarrow would end a
        # line at a lone "\r" and drop a BOM. csv rejects fields over its size limit.
        if width < 2 or data.startswith(_BOM) or (
                data.find(b"\r", 0, end) >= 0
                and data.count(b"\r", 0, end) != data.count(b"\r\n", 0, end)):
            return None
        newlines = np.flatnonzero(np.frombuffer(data, np.uint8, end) == 10)
        n = len(newlines)
        if int(np.diff(newlines, prepend=-1).max()) > csv.field_size_limit():
            return None
        # The CSV field of each declared column (None: not in the file).
        source: list[int | None] = list(range(width))
        if mapping is not None:
            source = [None] * len(self.names)
            for j, i in enumerate(mapping):
                if i is not None:
                    source[i] = j  # a repeated header name: the last field wins, as below
        checked = [source[i] for i in self._check]  # not read, but must fit
        source = [source[i] for i in self.output]  # only these become values
        used = sorted({j for j in source + checked if j is not None}) or [0]  # [] is all
        # A line after the block's last one: a quote left open on the last line would
        # take it in, so the row count shows that as it shows a quote spanning lines.
        sentinel = (self.delimiter * (width - 1) + "\n").encode()
        try:
            table = pa_csv.read_csv(
                pa.py_buffer(data[:end] + sentinel),
                pa_csv.ReadOptions(column_names=[f"f{j}" for j in range(width)],
                                   use_threads=False, block_size=end + len(sentinel)),
                pa_csv.ParseOptions(delimiter=self.delimiter),  # empty lines: skipped
                pa_csv.ConvertOptions(column_types={f"f{j}": pa.string() for j in used},
                                      include_columns=[f"f{j}" for j in used],
                                      strings_can_be_null=False))
            if table.num_rows != n + 1:
                return None
            columns: list[Any] = []
            for j, t, conv in zip(source, self._out_types, self._converters):
                if j is None:
                    columns.append(itertools.repeat(None, n))
                    continue
                text = table.column(f"f{j}").slice(0, n)
                arrow = _ARROW_TYPES.get(t.name)
                if arrow is None:
                    columns.append(_convert_column(text.to_pylist(), t, conv))
                    continue
                values = _cast_numbers(text, arrow)
                if values is None:
                    return None
                out = values.to_pylist() if values.null_count else values.to_numpy().tolist()
                if pa.types.is_floating(arrow) and pc.any(pc.is_nan(values)).as_py():
                    out = list(map(canonical_float, out))  # SQL's NaN, as `T.coerce` gives
                columns.append(out)
            for j, i, conv in zip(checked, self._check, self._check_converters):
                if j is not None and not self._fits(table.column(f"f{j}").slice(0, n),
                                                    self.types[i], conv):
                    return None
        except (pa.ArrowException, ValueError, OverflowError, TypeError):
            return None
        return _Ahead(list(zip(*columns)), newlines + (pos[0] + 1), pos[0], pos[1])

    @staticmethod
    def _fits(text: Any, t: T.DataType, conv: Callable[[str], Any]) -> bool:
        """Whether every value of a column of CSV text fits its type (raises when one
        does not); numbers are checked by pyarrow's cast, others converted and dropped."""
        arrow = _ARROW_TYPES.get(t.name)
        if arrow is None:
            _convert_column(text.to_pylist(), t, conv)
            return True
        return _cast_numbers(text, arrow) is not None

    def _parse_csv(self, name: str, texts: list[tuple[int, str]]) -> list[tuple]:
        """All lines of a read through one csv reader and per-column converters
        (a reader per line and the generic coerce per value cost most of a read)."""
        try:
            split = list(csv.reader([t for _, t in texts], delimiter=self.delimiter))
        except csv.Error:
            split = []
        if len(split) != len(texts):  # a line the csv module rejects: split one by one
            split = []
            for n, text in texts:
                try:
                    split.append(next(csv.reader([text], delimiter=self.delimiter)))
                except csv.Error as e:
                    self.metrics.bad_record(f"{name}:{n}: {e}")
                    split.append([])  # a wrong field count: skipped below, not counted again
        mapping = self.headers.get(name)
        width = len(mapping) if mapping is not None else len(self.names)
        rows = self._convert_columns(split, mapping, width)
        if rows is not None:
            return rows
        convs = self._converters
        out = self.output
        rows: list[tuple] = []
        for (n, _), fields in zip(texts, split):
            if not fields and width:
                continue
            try:
                if len(fields) != width:
                    raise ValueError(f"expected {width} fields, got {len(fields)}")
                if mapping is not None:
                    values: list[Any] = [None] * len(self.names)
                    for f, i in zip(fields, mapping):
                        if i is not None:
                            values[i] = f
                    fields = values
                for i, c in zip(self._check, self._check_converters):
                    if fields[i] is not None and fields[i] != "":
                        c(fields[i])  # not read, but must fit its column
                rows.append(tuple(None if v is None or v == "" else c(v)
                                  for v, c in zip([fields[i] for i in out], convs)))
            except (ValueError, OverflowError, TypeError) as e:
                self.metrics.bad_record(f"{name}:{n}: {e}")
        return rows

    def _convert_columns(self, split: list[list[str]], mapping: list[int | None] | None,
                         width: int) -> list[tuple] | None:
        """The usual read (every line whole, every value fits) converted a column at a
        time with C-level maps; None when any line or value needs the row-by-row path
        (which reports bad records with their line numbers)."""
        if not split or not width or any(len(f) != width for f in split):
            return None
        fields = list(zip(*split))
        n = len(split)
        if mapping is None:
            by_column: list[tuple | None] = list(fields)
        else:
            by_column = [None] * len(self.names)
            for j, i in enumerate(mapping):
                if i is not None:
                    by_column[i] = fields[j]
        checked = [by_column[i] for i in self._check]
        by_column = [by_column[i] for i in self.output]
        columns: list[Any] = []
        try:
            for col, i, conv in zip(checked, self._check, self._check_converters):
                if col is not None:
                    _convert_column(col, self.types[i], conv)
            for col, t, conv in zip(by_column, self._out_types, self._converters):
                if col is None:
                    columns.append(itertools.repeat(None, n))
                    continue
                columns.append(_convert_column(col, t, conv))
        except (ValueError, OverflowError, TypeError):
            return None
        return list(zip(*columns))

    def _header(self, name: str, text: str) -> None:
        fields = next(csv.reader([text], delimiter=self.delimiter))
        self.headers[name] = [self.names.index(f.strip().lower())
                              if f.strip().lower() in self.names else None for f in fields]
