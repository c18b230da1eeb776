"""Light lexical work on SQL text the server needs before the engine sees it: splitting a
simple-query string into statements, the leading keywords, and the highest `$n`.
Quotes, dollar quotes and comments are honoured; no parsing happens here."""

from __future__ import annotations

import re

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")
_PARAM = re.compile(r"\$(\d+)")
_WORD = re.compile(r"[A-Za-z_]+")


def _scan(sql: str) -> list[tuple[int, int, str]]:
    """Spans of the text: (start, end, kind) with kind 'code', 'quote' or 'comment'."""
    spans: list[tuple[int, int, str]] = []
    i, n, start = 0, len(sql), 0
    while i < n:
        c = sql[i]
        end = -1
        kind = ""
        if c in "'\"":
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                if c == "'" and sql[j] == "\\" and i > 0 and sql[i - 1] in "eE":
                    j += 2
                    continue
                j += 1
            end, kind = min(j + 1, n), "quote"
        elif c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            end, kind = (n if j < 0 else j + 1), "comment"
        elif c == "/" and sql.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if sql.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif sql.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            end, kind = j, "comment"
        elif c == "$" and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_")):
            m = _DOLLAR_TAG.match(sql, i)
            if m:
                close = sql.find(m.group(0), m.end())
                end, kind = (n if close < 0 else close + len(m.group(0))), "quote"
        if kind:
            if start < i:
                spans.append((start, i, "code"))
            spans.append((i, end, kind))
            i = start = end
        else:
            i += 1
    if start < n:
        spans.append((start, n, "code"))
    return spans


def split_statements(sql: str) -> list[tuple[int, str]]:
    """(offset, text) of each non-empty statement; offsets are 0-based into sql."""
    out: list[tuple[int, str]] = []
    begin = 0
    cuts: list[int] = []
    for s, e, kind in _scan(sql):
        if kind == "code":
            pos = sql.find(";", s, e)
            while pos >= 0:
                cuts.append(pos)
                pos = sql.find(";", pos + 1, e)
    for cut in cuts + [len(sql)]:
        piece = sql[begin:cut]
        if not is_empty(piece):
            out.append((begin, piece))
        begin = cut + 1
    return out


def is_empty(sql: str) -> bool:
    """True when sql holds only whitespace, semicolons and comments."""
    return all(kind == "comment" or not sql[s:e].strip(" \t\r\n;")
               for s, e, kind in _scan(sql))


def leading_words(sql: str, count: int = 2) -> list[str]:
    """The first keywords of a statement, upper-cased, skipping comments."""
    words: list[str] = []
    for s, e, kind in _scan(sql):
        if kind == "comment":
            continue
        if kind == "quote":
            break
        for m in _WORD.finditer(sql, s, e):
            words.append(m.group(0).upper())
            if len(words) >= count:
                return words
        if sql[s:e].strip() and not _WORD.search(sql, s, e):
            break
    return words


def max_param(sql: str) -> int:
    """The highest `$n` placeholder outside quotes and comments (0 when none)."""
    best = 0
    for s, e, kind in _scan(sql):
        if kind == "code":
            for m in _PARAM.finditer(sql, s, e):
                best = max(best, int(m.group(1)))
    return best


def has_word(sql: str, word: str) -> bool:
    """Whether a keyword occurs in the code part of sql (outside quotes)."""
    pat = re.compile(rf"\b{word}\b", re.IGNORECASE)
    return any(kind == "code" and pat.search(sql, s, e) for s, e, kind in _scan(sql))


_NO_ROWS = ("INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "SET", "RESET", "BEGIN",
            "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "FLUSH",
            "DISCARD", "COMMENT", "GRANT", "REVOKE", "TRUNCATE", "DEALLOCATE", "LISTEN",
            "UNLISTEN", "PREPARE", "CLOSE", "CHECKPOINT", "VACUUM", "ANALYZE", "RECOVER")


def returns_rows(sql: str) -> bool:
    """Whether a statement may produce a row set (SELECT, SHOW, DML ... RETURNING)."""
    words = leading_words(sql, 1)
    if not words:
        return False
    if words[0] in ("INSERT", "UPDATE", "DELETE"):
        return has_word(sql, "RETURNING")
    return words[0] not in _NO_ROWS
