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
plain (see `_parse_block`, in posix_fs_csv.py); the rows are handed out a slice at
a time, each slice moving the position past exactly its lines. Anything the block path
cannot reproduce exactly (a bad value, a blank line, a quote spanning lines, a
lone carriage return, ...) sends that block to the line-by-line path.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import operator
import os
import stat
import time
import zlib
from typing import Any, Callable

from executor.connectors.base import (Connector, ConnectorReader, SourceSpec, bad_option,
                                      register)
from executor.connectors.posix_fs_csv import CsvParsing, _Ahead
from planner import types as T
from planner.errors import SYNTAX_ERROR, ProgrammingError

# 'true': read only regular files of the root itself, never through a symbolic link
# (set on every source a network client creates, see sqlstream/sources.py).
CONFINE = "posix_fs.confine_to_root"
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



class PosixFsReader(CsvParsing, ConnectorReader):
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
