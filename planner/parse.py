"""SQL text -> statements -> sqlglot ASTs, with PostgreSQL-style errors.

Statements are split on top-level semicolons using sqlglot's tokenizer, so
semicolons inside strings and $$ bodies do not split. Each statement keeps its
offset in the original text, so error positions point into what the user sent.
"""

from __future__ import annotations

import bisect
import re
import sys
from dataclasses import dataclass
from typing import Any, Sequence

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from planner import dialect
from planner.errors import (INVALID_NAME, PROGRAM_LIMIT, STACK_DEPTH, SYNTAX_ERROR, ProgrammingError,
                            ProgramLimitError)

DIALECT = dialect.NAME

# Deepest nesting of parentheses, brackets and CASE a statement may have, as
# PostgreSQL's max_stack_depth bounds its recursive parser: checked on the tokens,
# before the recursive parser and binder run (each level costs them tens of frames).
MAX_NESTING = 100
MAX_ARRAY_DIMS = 6  # PostgreSQL's MAXDIM
_RECURSION_LIMIT = 6000

_OPEN = frozenset({TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.CASE})
_PREFIX = frozenset({TokenType.NOT, TokenType.DASH, TokenType.PLUS, TokenType.TILDE})
_CLOSE = frozenset({TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.END})
# Tokens after which no statement can end: a statement ending in one was cut short.
_CANNOT_END = frozenset({
    TokenType.COMMA, TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.DOT, TokenType.ON,
    TokenType.SET, TokenType.WHERE, TokenType.USING, TokenType.FROM, TokenType.JOIN,
    TokenType.AND, TokenType.OR, TokenType.NOT, TokenType.EQ, TokenType.NEQ, TokenType.LT,
    TokenType.LTE, TokenType.GT, TokenType.GTE, TokenType.PLUS, TokenType.DASH,
    TokenType.SLASH, TokenType.MOD, TokenType.DPIPE, TokenType.DCOLON, TokenType.SELECT,
    TokenType.INTO, TokenType.VALUES, TokenType.ALIAS, TokenType.IN, TokenType.IS,
    TokenType.BETWEEN, TokenType.LIKE, TokenType.ILIKE, TokenType.CASE, TokenType.WHEN,
    TokenType.THEN, TokenType.ELSE, TokenType.DISTINCT, TokenType.UNION, TokenType.EXCEPT,
    TokenType.INTERSECT, TokenType.LIMIT, TokenType.OFFSET, TokenType.HAVING,
    TokenType.GROUP_BY, TokenType.ORDER_BY, TokenType.WITH, TokenType.PARTITION_BY,
    TokenType.OVER})


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


def lexical_error(sql: str, error: Exception | None = None) -> ProgrammingError | None:
    """The error PostgreSQL's lexer gives for an unterminated string, name, comment or
    dollar-quoted string, at its start (None when there is none and no `error`)."""
    i, n = 0, len(sql)
    while True:
        m = _LEX_START.search(sql, i)
        if m is None:
            break
        i, c = m.start(), m.group(0)
        if c in ("'", '"'):
            escapes = c == "'" and i > 0 and sql[i - 1] in "eE"
            j = i + 1
            while True:
                j = sql.find(c, j)
                if j < 0:
                    what = "quoted string" if c == "'" else "quoted identifier"
                    return ProgrammingError(
                        f'unterminated {what} at or near "{sql[i:i + 40]}"', SYNTAX_ERROR, i + 1)
                if escapes and _odd_backslashes(sql, i + 1, j):
                    j += 1
                elif j + 1 < n and sql[j + 1] == c:
                    j += 2
                else:
                    break
            i = j + 1
        elif c == "--":
            j = sql.find("\n", i)
            i = n if j < 0 else j
        elif c == "/*":
            j = sql.find("*/", i + 2)
            if j < 0:
                return ProgrammingError("unterminated /* comment", SYNTAX_ERROR, i + 1)
            i = j + 2
        elif i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_"):
            i += 1  # `a$b$`: part of a name, not a dollar quote
        else:
            j = sql.find(c, i + len(c))
            if j < 0:
                return ProgrammingError("unterminated dollar-quoted string", SYNTAX_ERROR,
                                        i + 1)
            i = j + len(c)
    return None if error is None else ProgrammingError(f"syntax error: {error}", SYNTAX_ERROR, 1)


_LEX_START = re.compile(r"""['"]|--|/\*|\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$""")


def _odd_backslashes(sql: str, start: int, j: int) -> bool:
    """Whether the quote at `j` is escaped by the backslashes before it."""
    k = j
    while k > start and sql[k - 1] == "\\":
        k -= 1
    return (j - k) % 2 == 1


# Above this size a statement is checked for unterminated strings before sqlglot's
# tokenizer, which takes seconds per 10 MB to find one.
_PRESCAN_CHARS = 100_000


# Statements of at most this many characters keep their split and their tree in a
# small cache: clients send the same text again and again (with other parameters),
# and tokenizing and parsing are most of a short DML statement's time.
_CACHED_CHARS = 4096
_CACHE_SIZE = 512
_split_cache: dict[str, list[Statement]] = {}
_tree_cache: dict[str, exp.Expression] = {}


def _remember(cache: dict[str, Any], key: str, value: Any) -> None:
    """Add an entry, dropping the oldest beyond _CACHE_SIZE. Sessions run on several
    threads: another may drop the same entry at the same time, which is harmless."""
    if len(cache) >= _CACHE_SIZE:
        try:
            cache.pop(next(iter(cache)), None)
        except (RuntimeError, StopIteration):  # changed by another thread meanwhile
            pass
    cache[key] = value


def split_statements(sql: str) -> list[Statement]:
    if len(sql) <= _CACHED_CHARS:
        hit = _split_cache.get(sql)
        if hit is None:
            hit = _split_statements(sql)
            _remember(_split_cache, sql, hit)
        return list(hit)
    return _split_statements(sql)


def _split_statements(sql: str) -> list[Statement]:
    """The statements of `sql`. As PostgreSQL parses the whole text before running any
    of it, a lexical error, a too deep nesting or a statement cut short anywhere
    fails the whole text, with the position in it."""
    _ensure_recursion_limit()
    if "\x00" in sql:
        raise ProgrammingError("invalid byte sequence for encoding \"UTF8\": 0x00", "22021",
                               sql.index("\x00") + 1)
    if len(sql) > _PRESCAN_CHARS and (err := lexical_error(sql)) is not None:
        raise err
    spaced, orig = space_placeholders(sql)
    try:
        tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(spaced)
    except TokenError as e:
        raise lexical_error(sql, e) from None  # type: ignore[misc]
    out: list[Statement] = []
    start = None
    first = 0
    for i, tok in enumerate(tokens):
        if tok.token_type == TokenType.SEMICOLON:
            if start is not None:
                check_tokens(tokens[first:i], orig, orig[tok.start], ";")
                out.append(Statement(sql[start:orig[tok.start]].strip(), start))
            start = None
            continue
        if start is None:
            start, first = orig[tok.start], i
    if start is not None:
        check_tokens(tokens[first:], orig, len(sql.rstrip()))
        out.append(Statement(sql[start:].strip(), start))
    return [s for s in out if s.text]


def check_tokens(tokens: list[Token], orig: Sequence[int], end: int, ender: str = "") -> None:
    """Refuse, from one statement's tokens: a zero-length quoted name (42602, as
    PostgreSQL's lexer does), nesting deeper than MAX_NESTING (54001) and a last token
    no statement can end with (42601 at end of input; `end` is the 0-based offset just
    after the statement, `ender` what follows it: a semicolon or nothing)."""
    depth = brackets = unary = 0
    for tok in tokens:
        kind = tok.token_type
        # A run of prefix operators (`NOT NOT ...`, `- - ...`) nests as deep as parentheses.
        unary = unary + 1 if kind in _PREFIX else 0
        if kind in _OPEN:
            depth += 1
            if kind == TokenType.L_BRACKET:
                brackets += 1
                if brackets > MAX_ARRAY_DIMS:  # sqlglot's time grows ~5x per level
                    raise ProgramLimitError(
                        f"number of array dimensions ({brackets}) exceeds the maximum "
                        f"allowed ({MAX_ARRAY_DIMS})", PROGRAM_LIMIT, orig[tok.start] + 1)
        if depth > MAX_NESTING or unary > MAX_NESTING:
            raise ProgramLimitError(
                "stack depth limit exceeded", STACK_DEPTH, orig[tok.start] + 1,
                hint=f"Expressions may nest at most {MAX_NESTING} levels deep.")
        if kind in _OPEN:
            continue
        if kind in _CLOSE:
            depth -= 1
            brackets -= kind == TokenType.R_BRACKET
        elif kind == TokenType.IDENTIFIER and tok.text == "":
            raise ProgrammingError("zero-length delimited identifier", INVALID_NAME,
                                   orig[tok.start] + 1)
    if len(tokens) > 1 and tokens[-1].token_type in _CANNOT_END and not _is_complete(tokens):
        near = f'at or near "{ender}"' if ender else "at end of input"
        raise ProgrammingError(f"syntax error {near}", SYNTAX_ERROR, end + 1)


def _is_complete(tokens: list[Token]) -> bool:
    """Endings that look cut short but are whole: `SET name = on` / `SET name TO on`
    (`on` is the value, not a join's ON) and `INSERT INTO t DEFAULT VALUES`."""
    last, before = tokens[-1].token_type, tokens[-2]
    if last == TokenType.ON:
        return before.token_type == TokenType.EQ or before.text.upper() == "TO"
    return last == TokenType.VALUES and before.token_type == TokenType.DEFAULT


def _ensure_recursion_limit() -> None:
    """Enough Python frames for MAX_NESTING levels in sqlglot's recursive parser and
    generator and in the binder (Python's default of 1000 is used up by ~60)."""
    if sys.getrecursionlimit() < _RECURSION_LIMIT:
        sys.setrecursionlimit(_RECURSION_LIMIT)


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
    """One statement -> AST (the caller's own copy); a syntax error carries the
    1-based position."""
    if len(text) > _CACHED_CHARS:
        return _parse(text)
    hit = _tree_cache.get(text)
    if hit is None:
        hit = _parse(text)
        _remember(_tree_cache, text, hit)
    return hit.copy()


def shared_tree(text: str) -> exp.Expression:
    """The parsed tree of a statement, the one kept in the cache when the text is
    short enough: shared by every caller, so never to be changed."""
    if len(text) > _CACHED_CHARS:
        return _parse(text)
    hit = _tree_cache.get(text)
    if hit is None:
        hit = _parse(text)
        _remember(_tree_cache, text, hit)
    return hit


def own_tree(text: str, shared: exp.Expression) -> exp.Expression:
    """The caller's own copy of `shared_tree(text)` (a text too long for the cache
    already has a tree of its own), as parse() would return it."""
    return shared.copy() if len(text) <= _CACHED_CHARS else shared


def _parse(text: str) -> exp.Expression:
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
        if pos is None:
            pos = text.find(near) + 1 if near and near in text else len(text.rstrip()) + 1
        raise ProgrammingError(msg, SYNTAX_ERROR, pos) from None
    except TokenError as e:
        raise lexical_error(text, e) from None  # type: ignore[misc]
    except UnicodeError:  # a U&'...' escape naming half a surrogate pair
        at = text.upper().find("U&")
        raise ProgrammingError("invalid Unicode surrogate pair", SYNTAX_ERROR,
                               at + 1 if at >= 0 else None) from None
    if tree is None:
        raise ProgrammingError("syntax error at end of input", SYNTAX_ERROR, len(text) + 1)
    if isinstance(tree, exp.Command):
        word = str(tree.this).upper()
        raise ProgrammingError(f'syntax error at or near "{word}"', SYNTAX_ERROR, 1)
    _check_complete(tree, text)
    if len(spaced) != len(text):  # node positions back into the user's text
        for node in tree.walk():
            meta = node._meta
            if meta:
                for k in ("start", "end"):
                    if isinstance(meta.get(k), int) and 0 <= meta[k] < len(orig):
                        meta[k] = orig[meta[k]]
    return tree


def _check_complete(tree: exp.Expression, text: str) -> None:
    """Refuse what sqlglot's lenient parser accepts although the statement is cut
    short or not PostgreSQL's: `INSERT INTO t`, `UPDATE t SET c`, `DELETE t`,
    `CREATE MATERIALIZED VIEW v`."""
    end = len(text.rstrip().rstrip(";").rstrip()) + 1
    if isinstance(tree, exp.Insert) and tree.expression is None and not tree.args.get("default"):
        raise ProgrammingError("syntax error at end of input", SYNTAX_ERROR, end)
    if isinstance(tree, exp.Update) and not all(isinstance(e, exp.EQ) for e in tree.expressions):
        raise ProgrammingError("syntax error at end of input", SYNTAX_ERROR, end)
    if isinstance(tree, exp.Update) and not tree.expressions:
        raise ProgrammingError("syntax error at end of input", SYNTAX_ERROR, end)
    if isinstance(tree, exp.Delete) and (tree.args.get("tables")
                                         or not isinstance(tree.this, exp.Table)):
        word = re.compile(r'\s*("(?:[^"]|"")*"|[^\s;]+)').match(
            text, len(_FIRST_WORD.match(text).group(0)))  # type: ignore[union-attr]
        near = word.group(1) if word else ""
        raise ProgrammingError(f'syntax error at or near "{near}"' if near else
                               "syntax error at end of input", SYNTAX_ERROR,
                               word.start(1) + 1 if word else end)
    if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "VIEW" \
            and tree.expression is None:
        raise ProgrammingError("syntax error at end of input", SYNTAX_ERROR, end)
    for join in tree.find_all(exp.Join):
        # An explicit JOIN (sqlglot records `pivots` for those, not for a comma) needs
        # ON or USING unless CROSS or NATURAL; sqlglot would make it a cross join.
        if "pivots" in join.args and not (join.args.get("on") or join.args.get("using")) \
                and join.args.get("kind") != "CROSS" and join.args.get("method") != "NATURAL":
            ends = [n.meta["end"] for n in join.this.walk() if isinstance(n.meta.get("end"), int)]
            after = max(ends) + 1 if ends else end - 1
            word = re.compile(r"\s*([^\s;]+)").match(text, after)
            raise ProgrammingError(f'syntax error at or near "{word.group(1)}"' if word else
                                   "syntax error at end of input", SYNTAX_ERROR,
                                   word.start(1) + 1 if word else end)
    for node in tree.find_all(exp.UnicodeString):
        try:  # escapes are decoded when the string is written out: half a pair fails there
            node.sql(dialect="duckdb")
        except UnicodeError:
            raise ProgrammingError("invalid Unicode surrogate pair", SYNTAX_ERROR,
                                   (node.meta.get("start") or 0) + 1) from None


def bind_parameters(tree: exp.Expression, params: list | tuple | None) -> exp.Expression:
    """Replace $n placeholders with literals of the given Python values, in place (the
    tree is the caller's own, as parse() returns it)."""
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

    return tree.transform(repl, copy=False)
