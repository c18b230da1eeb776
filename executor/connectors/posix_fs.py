"""The `posix_fs` connector: CSV or JSON-lines files in a folder.

Files matching `match_pattern` under `posix_fs.root` are read in name order;
files added later are picked up at the next poll. Each file is owned by one
actor (by a stable hash of its name). The position is, per file, the byte offset
after the last whole line handed out and that line's number, so recovery
resumes after the last committed line. A line still being written (no newline
yet) is taken only once the file has stopped changing.

A malformed line or a value that does not fit its column is skipped and counted
in the reader's metrics with its file and line number. A source is one stream, so
every view over it must see the same rows: every field of a record is checked,
whether or not the view reads it. Only the columns the view reads
(`SourceSpec.output`) become Python values; the others are only checked (with
pyarrow's casts for numbers on the block path), and a varchar column not read
costs nothing, since any text fits it.

CSV is parsed a block of whole lines at a time by pyarrow when the block is
plain (see `_parse_block`); the rows are handed out a slice at a time, each
slice moving the position past exactly its lines. Anything the block path
cannot reproduce exactly (a bad value, a blank line, a quote spanning lines, a
lone carriage return, ...) sends that block to the line-by-line path.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import itertools
import json
import operator
import os
import stat
import time
import zlib
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from executor.connectors.base import (Connector, ConnectorReader, SourceSpec, bad_option,
                                      register)
from planner import types as T
from planner.errors import SYNTAX_ERROR, ProgrammingError
from planner.nan import canonical_float

# 'true': read only regular files of the root itself, never through a symbolic link
# (set on every source a network client creates, see sqlstream/sources.py).
CONFINE = "posix_fs.confine_to_root"
_READ_BYTES = 1 << 20
_SETTLE_SECONDS = 1.0
_BOM = b"\xef\xbb\xbf"
# Types whose text pyarrow turns into the values the line path gives (int() and float()
# of the text); real is read as double, as `T.coerce` does. Others go through Python.
_ARROW_TYPES = {"smallint": pa.int16(), "integer": pa.int32(), "bigint": pa.int64(),
                "real": pa.float64(), "double precision": pa.float64()}


def _encode(spec: SourceSpec) -> str:
    enc = (spec.encode or "").upper()
    if not enc:
        raise ProgrammingError("posix_fs needs FORMAT PLAIN ENCODE CSV (...) or ENCODE JSON",
                               SYNTAX_ERROR)
    if enc not in ("CSV", "JSON"):
        raise bad_option("ENCODE", f"expected CSV or JSON, got {enc}")
    return enc


def _validate(spec: SourceSpec) -> None:
    root = spec.options.get("posix_fs.root")
    if not root:
        raise bad_option("posix_fs.root", "required: the folder to read")
    if not os.path.isdir(root):
        raise bad_option("posix_fs.root", f"folder '{root}' does not exist")
    _encode(spec)
    if spec.options.get(CONFINE, "false").lower() not in ("true", "false"):
        raise bad_option(CONFINE, "expected 'true' or 'false'")
    header = spec.encode_options.get("without_header", "false").lower()
    if header not in ("true", "false"):
        raise bad_option("without_header", f"expected 'true' or 'false', got '{header}'")
    if len(spec.encode_options.get("delimiter", ",")) != 1:
        raise bad_option("delimiter", "must be a single character")
    if not spec.columns:
        raise ProgrammingError("posix_fs needs a column list", SYNTAX_ERROR)


def _converter(t: T.DataType) -> Callable[[str], Any]:
    """A fast text-to-value conversion for one column; anything unusual (spaces,
    time zones, out of range, bad input) goes through `T.coerce` and its messages."""
    name = t.name
    if name == "varchar":
        return lambda v: v
    if name in ("smallint", "integer", "bigint"):
        bits = {"smallint": 15, "integer": 31, "bigint": 63}[name]
        lo, hi = -(1 << bits), 1 << bits

        def to_int(v: str) -> Any:
            try:
                x = int(v)
            except ValueError:
                return T.coerce(v, t)
            return x if lo <= x < hi else T.coerce(v, t)
        return to_int
    if name == "timestamp":
        parse = dt.datetime.fromisoformat

        def to_timestamp(v: str) -> Any:
            try:
                x = parse(v)
            except ValueError:
                return T.coerce(v, t)
            return x if x.tzinfo is None else T.coerce(v, t)
        return to_timestamp
    return lambda v: T.coerce(v, t)


def _json_converter(t: T.DataType) -> Callable[[Any], Any]:
    """`T.coerce` for a JSON value, with fast paths for the usual Python types."""
    if t.name == "timestamp":
        from_text = _converter(t)
        return lambda v: from_text(v) if type(v) is str else T.coerce(v, t)
    return T.coercer(t)  # type: ignore[no-any-return]


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


class PosixFsReader(ConnectorReader):
    poll_interval = 0.5

    def __init__(self, spec: SourceSpec) -> None:
        self.root = spec.options["posix_fs.root"]
        self.pattern = spec.options.get("match_pattern", "*")
        self.confined = spec.options.get(CONFINE, "false").lower() == "true"
        self._refused: set[str] = set()  # symbolic links of a confined root, reported once
        self.encode = _encode(spec)
        self.with_header = spec.encode_options.get("without_header", "false").lower() != "true"
        self.delimiter = spec.encode_options.get("delimiter", ",")
        self.columns = spec.columns
        self.names = [c.lower() for c, _ in spec.columns]  # declared: CSV fields by position
        self.types = [t for _, t in spec.columns]
        self.output = spec.output_columns  # the declared columns each row holds
        self.metrics = spec.metrics
        self.actor_index = spec.actor_index
        self.parallelism = spec.parallelism
        self._out_types = [self.types[i] for i in self.output]
        # Columns not read whose text may not fit: checked, never kept.
        self._check = [i for i, t in enumerate(self.types)
                       if i not in self.output and t.name != "varchar"]
        self._check_converters = [_converter(self.types[i]) for i in self._check]
        self._json_check = [_json_converter(self.types[i]) for i in self._check]
        self._converters = [_converter(t) for t in self._out_types]
        self._json_converters = [_json_converter(t) for t in self._out_types]
        self._json_layouts: dict[tuple[str, ...], list[str | None]] = {}
        self.files: dict[str, list[int]] = {}  # name -> [byte offset, lines read]
        self.headers: dict[str, list[int | None]] = {}  # name -> column of each CSV field
        self._last_scan = 0.0
        self._ahead: dict[str, _Ahead] = {}  # name -> rows parsed but not handed out
        self._lines_until: dict[str, int] = {}  # name -> offset to read line by line up to
        delim = self.delimiter
        self._blocks = self.encode == "CSV" and delim.isascii() and delim not in '"\r\n'

    def _scan(self) -> None:
        try:
            names = sorted(os.listdir(self.root))
        except OSError:
            return
        for name in names:
            if name in self.files or not fnmatch.fnmatch(name, self.pattern):
                continue
            if zlib.crc32(name.encode()) % self.parallelism != self.actor_index:
                continue
            if self._is_file(name):
                self.files[name] = [0, 0]

    def _is_file(self, name: str) -> bool:
        path = os.path.join(self.root, name)
        if not self.confined:
            return os.path.isfile(path)
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return False
        if stat.S_ISLNK(mode) and name not in self._refused:
            self._refused.add(name)
            self.metrics.bad_record(f"{name}: a symbolic link, not read (this source reads "
                                    "only files in its root)")
        return stat.S_ISREG(mode)

    def _open(self, path: str) -> Any:
        """The file for reading; when confined, never through a symbolic link."""
        if not self.confined:
            return open(path, "rb")
        return os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb")

    def read(self, max_rows: int) -> list[tuple]:
        now = time.monotonic()
        if now - self._last_scan >= self.poll_interval:
            self._scan()
            self._last_scan = now
        for name, pos in self.files.items():
            rows = self._read_file(name, pos, max_rows)
            if rows is not None:
                return rows
        return []

    def _read_file(self, name: str, pos: list[int], max_rows: int) -> list[tuple] | None:
        """Rows from the next whole lines of a file; None when it has nothing new."""
        ahead = self._ahead.pop(name, None)
        if ahead is not None:
            rows = ahead.take(pos, max_rows)
            if rows is not None:
                self._ahead[name] = ahead
                return rows
        path = os.path.join(self.root, name)
        try:
            st = os.lstat(path) if self.confined else os.stat(path)
            if st.st_size <= pos[0]:
                return None
            with self._open(path) as f:
                f.seek(pos[0])
                data = f.read(_READ_BYTES)
        except OSError:
            return None
        if self._blocks and pos[0] >= self._lines_until.get(name, 0) \
                and (pos[1] > 0 or not self.with_header):
            ahead = self._parse_block(name, pos, data)
            if ahead is not None:
                self._ahead[name] = ahead
                return ahead.take(pos, max_rows)
        # Split off only the lines this call hands out: the rest of the block is read again.
        lines = data.split(b"\n", max_rows)
        last_unterminated = False
        if len(lines) > max_rows:
            lines.pop()  # the unsplit rest
        else:
            tail = lines.pop()  # after the last newline: a partial line, or b""
            if tail and len(data) < _READ_BYTES \
                    and time.time() - st.st_mtime >= _SETTLE_SECONDS:
                lines.append(tail)  # the file's last line has no newline and is complete
                last_unterminated = True
        if not lines:
            return None
        texts: list[tuple[int, str]] = []  # (line number, text) of the data lines
        line_no = pos[1]
        for j, raw in enumerate(lines):
            line_no += 1
            unterminated = last_unterminated and j == len(lines) - 1
            pos[0] += len(raw) + (0 if unterminated else 1)
            text = raw.decode("utf-8", "replace").rstrip("\r")
            if not text.strip():
                continue
            if self.encode == "CSV" and self.with_header and line_no == 1:
                self._header(name, text)
                continue
            texts.append((line_no, text))
        pos[1] = line_no
        if self.encode == "CSV":
            return self._parse_csv(name, texts)
        return self._parse_json(name, texts)

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

    def _parse_json(self, name: str, texts: list[tuple[int, str]]) -> list[tuple]:
        """JSON-lines objects as rows: keys match columns whatever their case (of keys
        equal but for case, the last one counts); the column list of each key order
        seen is kept, so a line costs a parse, a lookup and a converter per value."""
        rows: list[tuple] = []
        layouts = self._json_layouts
        convs = self._json_converters
        call = operator.call
        for n, text in texts:
            try:
                obj = json.loads(text)
                if not isinstance(obj, dict):
                    raise ValueError("a JSON line must be an object")
                keys = tuple(obj)
                pick = layouts.get(keys)
                if pick is None:
                    if len(layouts) >= 256:
                        layouts.clear()
                    pick = layouts[keys] = self._json_layout(keys)
                row = tuple(map(call, convs, map(obj.get, pick[:len(convs)])))
                for check, key in zip(self._json_check, pick[len(convs):]):
                    check(obj.get(key))  # a column not read, but it must fit
                rows.append(row)
            except (ValueError, OverflowError, TypeError) as e:
                self.metrics.bad_record(f"{name}:{n}: {e}")
        return rows

    def _json_layout(self, keys: tuple[str, ...]) -> list[str | None]:
        """The key of each column read, then of each column checked, among an object's
        keys (None: not there)."""
        lowered = {k.lower(): k for k in keys}
        return [lowered.get(self.names[i]) for i in [*self.output, *self._check]]

    def position(self) -> Any:
        return {"files": self.files, "headers": self.headers}

    def restore(self, position: Any) -> None:
        self.files = {k: list(v) for k, v in position.get("files", {}).items()}
        self.headers = {k: list(v) for k, v in position.get("headers", {}).items()}
        self._ahead.clear()
        self._lines_until.clear()


def _warnings(spec: SourceSpec) -> list[str]:
    """A pattern that matches no file yet is valid (files may come later) but is more
    often a typo: say so at CREATE."""
    root = spec.options["posix_fs.root"]
    pattern = spec.options.get("match_pattern", "*")
    try:
        names = os.listdir(root)
    except OSError:
        return []
    if any(fnmatch.fnmatch(n, pattern) and os.path.isfile(os.path.join(root, n))
           for n in names):
        return []
    return [f"no file in '{root}' matches match_pattern '{pattern}' yet: the source has "
            f"no rows until one appears (sys.sources.matched_files counts the files read)"]


register(Connector("posix_fs", _validate, PosixFsReader, folder_option="posix_fs.root",
                   confine_option=CONFINE, warnings=_warnings))
