"""Light lexical work on SQL text the server needs before the engine sees it: splitting a
simple-query string into statements, the leading keywords, and the highest `$n`.
Quotes, dollar quotes and comments are honoured; no parsing happens here."""

from __future__ import annotations

import re
from typing import Iterator

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")
_PARAM = re.compile(r"\$(\d+)")
_WORD = re.compile(r"[A-Za-z_]+")
# Where a quote, comment or dollar quote may begin; the rest is code.
_SPECIAL = re.compile(r"['\"$]|--|/\*")
# The rest of a quoted text after its opening quote, up to and including the closing
# one (or the end of the text when it is never closed). Possessive repeats keep the
# matching linear in the text and fast.
_REST = {
    "'": re.compile(r"[^']*+(?:''[^']*+)*+(?:'|\Z)"),
    '"': re.compile(r'[^"]*+(?:""[^"]*+)*+(?:"|\Z)'),
    "E'": re.compile(r"[^'\\]*+(?:(?:''|\\.)[^'\\]*+)*+(?:'|\\?\Z)", re.DOTALL),
}
_COMMENT_MARK = re.compile(r"/\*|\*/")


def _quote_end(sql: str, i: int) -> int:
    """The end of the quoted span that starts at sql[i] (a quote or a dollar sign),
    or -1 when sql[i] begins no quote."""
    c = sql[i]
    if c == "$":
        if i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_"):
            return -1
        m = _DOLLAR_TAG.match(sql, i)
        if m is None:
            return -1
        close = sql.find(m.group(0), m.end())
        return len(sql) if close < 0 else close + len(m.group(0))
    key = "E'" if c == "'" and i > 0 and sql[i - 1] in "eE" else c
    m = _REST[key].match(sql, i + 1)
    assert m is not None  # every pattern matches the empty rest at the end
    return m.end()


def _comment_end(sql: str, i: int) -> int:
    if sql.startswith("--", i):
        j = sql.find("\n", i)
        return len(sql) if j < 0 else j + 1
    depth = 0
    for m in _COMMENT_MARK.finditer(sql, i):
        depth += 1 if m.group(0) == "/*" else -1
        if depth == 0:
            return m.end()
    return len(sql)


def _scan(sql: str) -> Iterator[tuple[int, int, str]]:
    """Spans of the text, in order: (start, end, kind) with kind 'code', 'quote' or
    'comment'. Lazy, and linear in the length of the text."""
    n, start, i = len(sql), 0, 0
    while i < n:
        m = _SPECIAL.search(sql, i)
        if m is None:
            break
        i = m.start()
        if m.group(0) in ("--", "/*"):
            end, kind = _comment_end(sql, i), "comment"
        else:
            end, kind = _quote_end(sql, i), "quote"
            if end < 0:
                i += 1
                continue
        if start < i:
            yield start, i, "code"
        yield i, end, kind
        i = start = end
    if start < n:
        yield start, n, "code"


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
