"""psql-style text output of results and errors, shared by the CLI and the shell.

The layout follows psql's default "aligned" format with border 1: a centred
header, a `---+---` rule, numbers right-aligned, text left-aligned, a
`(N rows)` footer and a blank line; `expanded` gives psql's `\\x` records.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Sequence

from planner.types import DataType, to_text
from sqlstream.result import Column, StatementResult

DISPLAY_SIZE = 60      # an error's LINE excerpt is cut to about this many columns
MIN_RIGHT_CUT = 10     # and keeps the caret at least this far from the cut end


@dataclass(slots=True)
class PrintOptions:
    """What psql keeps in `\\pset`: NULL display, expanded mode, title, footer."""

    null: str = ""
    expanded: bool | str = False          # True, False or "auto"
    width: int | None = None              # terminal width used by expanded "auto"
    footer: bool = True


def text_width(text: str) -> int:
    """Display width in terminal columns (wide East Asian characters count 2)."""
    if text.isascii():
        return len(text)
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def cell_text(value: Any, null: str = "") -> str:
    """One value as psql prints it (PostgreSQL text output; NULL as `null`)."""
    return null if value is None else to_text(value)


def _is_right_aligned(t: DataType | None) -> bool:
    return t is not None and t.is_numeric


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * max(0, width - text_width(text))
    return fill + text if right else text + fill


def _centre(text: str, width: int) -> str:
    extra = max(0, width - text_width(text))
    left = extra // 2
    return " " * left + text + " " * (extra - left)


def rows_footer(n: int) -> str:
    return "(1 row)" if n == 1 else f"({n} rows)"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
                 right: Sequence[bool] | None = None, title: str | None = None,
                 footer: str | None = None) -> str:
    """Cells already turned to text -> psql's aligned table (ends with a newline)."""
    ncols = len(headers)
    right = list(right) if right is not None else [False] * ncols
    split_rows = [[c.split("\n") for c in row] for row in rows]
    widths = [text_width(h) for h in headers]
    for row in split_rows:
        for j, lines in enumerate(row):
            for line in lines:
                widths[j] = max(widths[j], text_width(line))
    out: list[str] = []
    total = sum(widths) + 3 * ncols - 1 if ncols else 0
    if title is not None:
        out.append(" " * max(0, (total - text_width(title)) // 2) + title)
    out.append("|".join(" " + _centre(h, widths[j]) + " " for j, h in enumerate(headers)))
    out.append("+".join("-" * (w + 2) for w in widths))
    for row in split_rows:
        height = max((len(lines) for lines in row), default=1)
        for k in range(height):
            parts = []
            for j, lines in enumerate(row):
                text = lines[k] if k < len(lines) else ""
                more = k + 1 < len(lines)
                last = j == ncols - 1
                if last and not more and (not right[j] or k >= len(lines)):
                    parts.append(" " + text)
                else:
                    parts.append(" " + _pad(text, widths[j], right[j] and len(lines) == 1)
                                 + ("+" if more else ("" if last else " ")))
            out.append("|".join(parts))
    if footer is not None:
        out.append(footer)
    return "\n".join(out) + "\n"


def _record_line(record: int, hwidth: int, dwidth: int) -> str:
    """psql's `-[ RECORD n ]-+----` line, with the same arithmetic as psql."""
    label = f"-[ RECORD {record} ]"
    reclen = len(label)
    line = label + "-" * max(0, hwidth - reclen)
    reclen -= hwidth
    for ch in "-+-":
        if reclen <= 0:
            line += ch
        reclen -= 1
    reclen = max(reclen, 0)
    return line + "-" * max(0, dwidth - reclen)


def format_expanded(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """psql's expanded (`\\x`) layout: one block of `name | value` lines per row."""
    if not rows:
        return "(0 rows)\n"
    hwidth = max((text_width(h) for h in headers), default=0)
    dwidth = max((text_width(line) for row in rows for c in row for line in c.split("\n")),
                 default=0)
    rwidth = len(str(len(rows))) + 12
    dwidth = max(hwidth + 3 + dwidth, rwidth) - hwidth - 3
    out: list[str] = []
    for i, row in enumerate(rows, start=1):
        out.append(_record_line(i, hwidth, dwidth))
        for h, value in zip(headers, row):
            lines = value.split("\n")
            for k, line in enumerate(lines):
                name = _pad(h if k == 0 else "", hwidth, False)
                more = "+" if k + 1 < len(lines) else ""
                text = _pad(line, dwidth, False) + more if more else line
                out.append(f"{name} | {text}")
    return "\n".join(out) + "\n"


def result_cells(columns: Sequence[Column], rows: Sequence[tuple], null: str = ""
                 ) -> tuple[list[str], list[list[str]], list[bool]]:
    """Headers, text cells and right-alignment flags of a row result."""
    headers = [c.name for c in columns]
    cells = [[cell_text(v, null) for v in row] for row in rows]
    right = [_is_right_aligned(c.type) for c in columns]
    return headers, cells, right


def format_rows(columns: Sequence[Column], rows: Sequence[tuple],
                options: PrintOptions | None = None) -> str:
    """A row result as psql prints it, followed by the blank line psql leaves."""
    opts = options or PrintOptions()
    headers, cells, right = result_cells(columns, rows, opts.null)
    footer = rows_footer(len(rows)) if opts.footer else None
    table = format_table(headers, cells, right, footer=footer)
    expanded = opts.expanded
    if expanded == "auto":
        widest = max((text_width(line) for line in table.split("\n")), default=0)
        expanded = bool(opts.width) and widest > (opts.width or 0) and bool(rows)
    if expanded:
        return format_expanded(headers, cells) + "\n"
    return table + "\n"


def format_result(result: StatementResult, options: PrintOptions | None = None) -> str:
    """Any statement's output: its rows as a table, or its command tag."""
    notices = "".join(f"NOTICE:  {n}\n" for n in result.notices)
    if result.columns is None:
        return notices + result.tag + "\n"
    return notices + format_rows(result.columns, result.rows, options)


def _error_excerpt(sql: str, position: int) -> list[str]:
    """`LINE n: ...` and the caret line under character `position` (1-based)."""
    index = min(max(position - 1, 0), len(sql))
    line_start = sql.rfind("\n", 0, index) + 1
    line_end = sql.find("\n", index)
    if line_end < 0:
        line_end = len(sql)
    line_no = sql.count("\n", 0, line_start) + 1
    line = sql[line_start:line_end].replace("\t", " ").rstrip("\r")
    col = text_width(line[: index - line_start])
    prefix_cut = suffix_cut = False
    if text_width(line) > DISPLAY_SIZE:
        if col >= DISPLAY_SIZE - MIN_RIGHT_CUT:
            # Cut the beginning so the caret sits MIN_RIGHT_CUT before the new end.
            start = index - line_start - (DISPLAY_SIZE - MIN_RIGHT_CUT) + 3
            line = line[start:]
            col = text_width(line[: index - line_start - start])
            prefix_cut = True
        if text_width(line) > DISPLAY_SIZE:
            line = line[:DISPLAY_SIZE]
            suffix_cut = True
    head = f"LINE {line_no}: " + ("..." if prefix_cut else "")
    body = line + ("..." if suffix_cut else "")
    return [head + body, " " * (text_width(head) + col) + "^"]


def format_error(err: BaseException, sql: str | None = None, verbose: bool = False) -> str:
    """An error as psql shows it: `ERROR:  message`, then LINE/caret, DETAIL, HINT."""
    message = getattr(err, "message", None) or str(err) or type(err).__name__
    sqlstate = getattr(err, "sqlstate", None)
    head = f"{sqlstate}: {message}" if verbose and sqlstate else message
    lines = [f"ERROR:  {head}"]
    position = getattr(err, "position", None)
    if sql is not None and isinstance(position, int) and position > 0:
        lines.extend(_error_excerpt(sql, position))
    detail = getattr(err, "detail", None)
    if detail:
        lines.append(f"DETAIL:  {detail}")
    hint = getattr(err, "hint", None)
    if hint:
        lines.append(f"HINT:  {hint}")
    return "\n".join(lines) + "\n"
