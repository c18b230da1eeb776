"""SQL text -> statements -> sqlglot ASTs, with PostgreSQL-style errors.

Statements are split on top-level semicolons using sqlglot's tokenizer, so
semicolons inside strings and $$ bodies do not split. Each statement keeps its
offset in the original text, so error positions point into what the user sent.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Sequence

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from planner import dialect
from planner.errors import SYNTAX_ERROR, ProgrammingError

DIALECT = dialect.NAME


@dataclass(frozen=True)
class Statement:
    text: str
    offset: int  # 0-based offset of `text` in the whole input


_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")


class OffsetMap(Sequence[int]):
    """For each character of a text with spaces inserted, its offset in the original
    text (an inserted space maps to the character after it); held as the positions
    of the inserted spaces, so a long text costs no per-character list."""

    def __init__(self, length: int, inserted: list[int]) -> None:
        self._length = length  # of the spaced text, plus one for its end
        self._inserted = inserted  # ascending positions in the spaced text

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, k):  # type: ignore[no-untyped-def, override]
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(self._length))]
        if k < 0:
            k += self._length
        if not 0 <= k < self._length:
            raise IndexError(k)
        return k - bisect.bisect_left(self._inserted, k)


# The rest of a quoted text after its opening quote, through its closing quote or to
# the end (possessive: linear and fast on a long literal).
_QUOTE_REST = {"'": re.compile(r"[^']*+(?:''[^']*+)*+(?:'|\Z)"),
               '"': re.compile(r'[^"]*+(?:""[^"]*+)*+(?:"|\Z)')}
_NEXT_SPECIAL = re.compile(r"['\"/$-]")
_DIGITS = re.compile(r"\d*")


def space_placeholders(sql: str) -> tuple[str, Sequence[int]]:
    """The text with a space after every `$n` placeholder that touches the next token,
    and for each of its characters the offset in `sql`.

    sqlglot's tokenizer takes `$1,$2` for the start of a dollar-quoted string, so
    `VALUES ($1,$2)` would not even split. Strings, quoted names, comments and
    dollar-quoted strings are copied as they are.

    >>> space_placeholders("VALUES ($1,$2)")[0]
    'VALUES ($1 ,$2 )'
    >>> space_placeholders("SELECT '$1,$2', $$a$1,$$, $1")[0]
    "SELECT '$1,$2', $$a$1,$$, $1"
    """
    if "$" not in sql:
        return sql, range(len(sql) + 1)
    out: list[str] = []
    inserted: list[int] = []
    i, n, size = 0, len(sql), 0
    while i < n:
        c = sql[i]
        if c in "'\"":
            j = _QUOTE_REST[c].match(sql, i + 1).end()  # type: ignore[union-attr]
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif c == "$" and i + 1 < n and sql[i + 1].isdigit():
            j = _DIGITS.match(sql, i + 1).end()  # type: ignore[union-attr]
            if j < n and not sql[j].isspace():
                out.append(sql[i:j] + " ")
                size += j - i
                inserted.append(size)
                size += 1
                i = j
                continue
        elif c == "$" and (m := _DOLLAR_TAG.match(sql, i)):
            end = sql.find(m.group(0), m.end())
            j = n if end < 0 else end + len(m.group(0))
        else:
            found = _NEXT_SPECIAL.search(sql, i + 1)
            j = n if found is None else found.start()
        out.append(sql[i:j])
        size += j - i
        i = j
    return "".join(out), OffsetMap(size + 1, inserted)


def split_statements(sql: str) -> list[Statement]:
    spaced, orig = space_placeholders(sql)
    try:
        tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(spaced)
    except TokenError as e:
        raise ProgrammingError(f"syntax error: {e}", SYNTAX_ERROR, None) from None
    out: list[Statement] = []
    start = None
    for tok in tokens:
        if tok.token_type == sqlglot.TokenType.SEMICOLON:
            if start is not None:
                out.append(Statement(sql[start:orig[tok.start]].strip(), start))
            start = None
            continue
        if start is None:
            start = orig[tok.start]
    if start is not None:
        out.append(Statement(sql[start:].strip(), start))
    return [s for s in out if s.text]


def line_col_to_offset(text: str, line: int, col: int) -> int:
    """1-based line/col (sqlglot's) -> 0-based offset."""
    lines = text.split("\n")
    off = sum(len(ln) + 1 for ln in lines[:max(line - 1, 0)])
    return off + max(col - 1, 0)


# Words a statement can begin with (PostgreSQL's and this engine's own).
_STATEMENT_WORDS = frozenset("""
    ABORT ALTER ANALYZE BEGIN CALL CHECKPOINT CLOSE CLUSTER COMMENT COMMIT COPY CREATE
    DEALLOCATE DECLARE DELETE DESC DESCRIBE DISCARD DO DROP END EXECUTE EXPLAIN FETCH FLUSH
    GRANT IMPORT INSERT LISTEN LOAD LOCK MERGE MOVE NOTIFY PREPARE REASSIGN REFRESH REINDEX
    RELEASE RESET REVOKE ROLLBACK SAVEPOINT SECURITY SELECT SET SHOW START TABLE TRUNCATE
    UNLISTEN UPDATE VACUUM VALUES WITH""".split())
_FIRST_WORD = re.compile(r"\s*([A-Za-z_][A-Za-z_0-9]*)")


def parse(text: str) -> exp.Expression:
    """One statement -> AST; a syntax error carries the 1-based position."""
    first = _FIRST_WORD.match(text)
    if first and first.group(1).upper() not in _STATEMENT_WORDS:
        # As PostgreSQL: `SELEC 1` is an error at its first word, not somewhere after it.
        raise ProgrammingError(f'syntax error at or near "{first.group(1)}"', SYNTAX_ERROR,
                               first.start(1) + 1)
    spaced, orig = space_placeholders(text)
    try:
        tree = sqlglot.parse_one(spaced, read=DIALECT)
    except ParseError as e:
        err = e.errors[0] if e.errors else {}
        pos = None
        if err.get("line"):
            hl = err.get("highlight") or ""
            pos = line_col_to_offset(spaced, err["line"], err["col"]) - len(hl) + 2
            pos = orig[min(max(pos, 1), len(orig)) - 1] + 1
        near = err.get("highlight")
        msg = f'syntax error at or near "{near}"' if near else "syntax error at end of input"
        raise ProgrammingError(msg, SYNTAX_ERROR, pos) from None
    except TokenError as e:
        raise ProgrammingError(f"syntax error: {e}", SYNTAX_ERROR, None) from None
    if tree is None:
        raise ProgrammingError("syntax error at end of input", SYNTAX_ERROR, len(text) + 1)
    if isinstance(tree, exp.Command):
        word = str(tree.this).upper()
        raise ProgrammingError(f'syntax error at or near "{word}"', SYNTAX_ERROR, 1)
    if len(spaced) != len(text):  # node positions back into the user's text
        for node in tree.walk():
            meta = node._meta
            if meta:
                for k in ("start", "end"):
                    if isinstance(meta.get(k), int) and 0 <= meta[k] < len(orig):
                        meta[k] = orig[meta[k]]
    return tree


def bind_parameters(tree: exp.Expression, params: list | tuple | None) -> exp.Expression:
    """Replace $n placeholders with literals of the given Python values."""
    from planner.literals import to_literal

    if not params and not tree.find(exp.Parameter, exp.Placeholder):
        return tree
    params = list(params or [])
    counter = iter(range(len(params)))

    def repl(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Parameter):
            inner = node.this
            name = inner.name if isinstance(inner, (exp.Literal, exp.Var, exp.Identifier)) else str(inner)
            if str(name).isdigit():
                i = int(name) - 1
                if not 0 <= i < len(params):
                    raise ProgrammingError(f"there is no parameter ${i + 1}", "42P02")
                return to_literal(params[i])
        if isinstance(node, exp.Placeholder):
            i = next(counter, None)
            if i is None:
                raise ProgrammingError("not enough parameters", "42P02")
            return to_literal(params[i])
        return node

    return tree.transform(repl)
