"""SQL text -> statements -> sqlglot ASTs, with PostgreSQL-style errors.

Statements are split on top-level semicolons using sqlglot's tokenizer, so
semicolons inside strings and $$ bodies do not split. Each statement keeps its
offset in the original text, so error positions point into what the user sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from planner.errors import SYNTAX_ERROR, ProgrammingError

DIALECT = "risingwave"


@dataclass(frozen=True)
class Statement:
    text: str
    offset: int  # 0-based offset of `text` in the whole input


def split_statements(sql: str) -> list[Statement]:
    try:
        tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(sql)
    except TokenError as e:
        raise ProgrammingError(f"syntax error: {e}", SYNTAX_ERROR, None) from None
    out: list[Statement] = []
    start = None
    for tok in tokens:
        if tok.token_type == sqlglot.TokenType.SEMICOLON:
            if start is not None:
                out.append(Statement(sql[start:tok.start].strip(), start))
            start = None
            continue
        if start is None:
            start = tok.start
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
    try:
        tree = sqlglot.parse_one(text, read=DIALECT)
    except ParseError as e:
        err = e.errors[0] if e.errors else {}
        pos = None
        if err.get("line"):
            hl = err.get("highlight") or ""
            pos = line_col_to_offset(text, err["line"], err["col"]) - len(hl) + 2
            pos = max(pos, 1)
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
