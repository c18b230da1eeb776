"""The `posix_fs` connector: CSV or JSON-lines files in a folder.

Files matching `match_pattern` under `posix_fs.root` are read in name order;
files added later are picked up at the next poll. Each file is owned by one
actor (by a stable hash of its name). The position is, per file, the byte offset
after the last whole line handed out and that line's number, so recovery
resumes after the last committed line. A line still being written (no newline
yet) is taken only once the file has stopped changing.

A malformed line or a value that does not fit its column is skipped and counted
in the reader's metrics with its file and line number.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import itertools
import json
import operator
import os
import time
import zlib
from typing import Any, Callable

from executor.connectors.base import (Connector, ConnectorReader, SourceSpec, bad_option,
                                      register)
from planner import types as T
from planner.errors import SYNTAX_ERROR, ProgrammingError

_READ_BYTES = 1 << 20
_SETTLE_SECONDS = 1.0


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


class PosixFsReader(ConnectorReader):
    poll_interval = 0.5

    def __init__(self, spec: SourceSpec) -> None:
        self.root = spec.options["posix_fs.root"]
        self.pattern = spec.options.get("match_pattern", "*")
        self.encode = _encode(spec)
        self.with_header = spec.encode_options.get("without_header", "false").lower() != "true"
        self.delimiter = spec.encode_options.get("delimiter", ",")
        self.columns = spec.columns
        self.names = [c.lower() for c, _ in spec.columns]
        self.types = [t for _, t in spec.columns]
        self.metrics = spec.metrics
        self.actor_index = spec.actor_index
        self.parallelism = spec.parallelism
        self._converters = [_converter(t) for t in self.types]
        self.files: dict[str, list[int]] = {}  # name -> [byte offset, lines read]
        self.headers: dict[str, list[int | None]] = {}  # name -> column of each CSV field
        self._last_scan = 0.0

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
            if os.path.isfile(os.path.join(self.root, name)):
                self.files[name] = [0, 0]

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
        path = os.path.join(self.root, name)
        try:
            st = os.stat(path)
            if st.st_size <= pos[0]:
                return None
            with open(path, "rb") as f:
                f.seek(pos[0])
                data = f.read(_READ_BYTES)
        except OSError:
            return None
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
        rows: list[tuple] = []
        for n, text in texts:
            try:
                rows.append(self._parse(name, text))
            except (ValueError, OverflowError, TypeError, csv.Error) as e:
                self.metrics.bad_record(f"{name}:{n}: {e}")
        return rows

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
                rows.append(tuple(None if v is None or v == "" else c(v)
                                  for v, c in zip(fields, convs)))
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
        columns: list[Any] = []
        try:
            for col, t, conv in zip(by_column, self.types, self._converters):
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

    def _parse(self, name: str, text: str) -> tuple:
        values: list[Any] = [None] * len(self.names)
        if self.encode == "JSON":
            obj = json.loads(text)
            if not isinstance(obj, dict):
                raise ValueError("a JSON line must be an object")
            lowered = {str(k).lower(): v for k, v in obj.items()}
            for i, n in enumerate(self.names):
                values[i] = lowered.get(n)
        else:
            fields = next(csv.reader([text], delimiter=self.delimiter))
            mapping = self.headers.get(name)
            if mapping is None:
                if len(fields) != len(self.names):
                    raise ValueError(f"expected {len(self.names)} fields, got {len(fields)}")
                values = [None if f == "" else f for f in fields]
            else:
                if len(fields) != len(mapping):
                    raise ValueError(f"expected {len(mapping)} fields, got {len(fields)}")
                for f, i in zip(fields, mapping):
                    if i is not None:
                        values[i] = None if f == "" else f
        return tuple(T.coerce(v, t) if v is not None else None
                     for v, t in zip(values, self.types))

    def position(self) -> Any:
        return {"files": self.files, "headers": self.headers}

    def restore(self, position: Any) -> None:
        self.files = {k: list(v) for k, v in position.get("files", {}).items()}
        self.headers = {k: list(v) for k, v in position.get("headers", {}).items()}


register(Connector("posix_fs", _validate, PosixFsReader))
