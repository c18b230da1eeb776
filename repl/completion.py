"""Context-aware completion: relations after FROM/JOIN, columns where an
expression goes (and after `alias.`), functions, keywords.

The statement is read with a small tokenizer, not a parser: completion runs
on every keystroke over half-typed SQL, which no parser accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from repl.backend import RelationMeta
from repl.sqlwords import FUNCTION_NAMES, KEYWORDS
from sqlstream.cli import split_statements

_TOKEN = re.compile(r"""
    (?P<str>'(?:[^']|'')*'?)
  | (?P<qid>"(?:[^"]|"")*"?)
  | (?P<word>[A-Za-z_][\w$]*)
  | (?P<num>\d+(?:\.\d*)?)
  | (?P<op>::|<>|!=|<=|>=|\|\||[-+*/%=<>(),.;])
  | (?P<space>\s+|--[^\n]*|/\*.*?\*/)
""", re.VERBOSE | re.DOTALL)

_KEYWORD_SET = {w for k in KEYWORDS for w in k.split()} | {"MATERIALIZED", "SYSTEM"}
_RELATION_KW = {"FROM", "JOIN", "UPDATE", "INTO", "TABLE", "DESCRIBE", "TRUNCATE"}
_VIEW_KW = {"VIEW"}
_SOURCE_KW = {"SOURCE"}
_EXPR_KW = {"SELECT", "WHERE", "ON", "AND", "OR", "NOT", "BY", "HAVING", "SET", "WHEN",
            "THEN", "ELSE", "CASE", "DISTINCT", "IN", "BETWEEN", "IS", "LIKE", "ILIKE", "AS"}
_EXPR_OPS = {"=", "<", ">", "<=", ">=", "<>", "!=", "+", "-", "*", "/", "%", "||", "("}
_TABLE_MAKERS = {"FROM", "JOIN", "UPDATE", "INTO"}
# The clauses that may follow a relation in FROM: offered there before a word is typed.
_AFTER_RELATION = ("WHERE", "JOIN", "LEFT", "INNER", "CROSS", "ON", "GROUP BY", "ORDER BY",
                   "LIMIT", "UNION", "EMIT ON WINDOW CLOSE")
_CLAUSE_ENDS = {"WHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "ON", "USING", "SET", "VALUES",
                "SELECT", "UNION", "EXCEPT", "INTERSECT", "WINDOW", "EMIT", "LEFT", "RIGHT",
                "FULL", "INNER", "CROSS", "JOIN", "OUTER", "NATURAL", "AS"}


@dataclass(slots=True)
class Token:
    kind: str
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper()

    @property
    def ident(self) -> str:
        """The identifier's name: quotes removed, unquoted names folded to lower case."""
        if self.kind == "qid":
            return self.text.strip('"').replace('""', '"')
        return self.text.lower()


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            tokens.append(Token("other", text[pos]))
            pos += 1
            continue
        if m.lastgroup != "space":
            tokens.append(Token(m.lastgroup or "other", m.group()))
        pos = m.end()
    return tokens


def _is_keyword(tok: Token) -> bool:
    return tok.kind == "word" and tok.upper in _KEYWORD_SET


def tables_in_statement(tokens: list[Token]) -> list[tuple[str, str | None]]:
    """(relation name, alias) pairs after FROM/JOIN/UPDATE/INTO, in order."""
    found: list[tuple[str, str | None]] = []
    i = 0
    while i < len(tokens):
        if tokens[i].kind == "word" and tokens[i].upper in _TABLE_MAKERS:
            i += 1
            while i < len(tokens) and tokens[i].kind in ("word", "qid") and not _is_keyword(
                    tokens[i]):
                name = tokens[i].ident
                i += 1
                while i + 1 < len(tokens) and tokens[i].text == "." and tokens[i + 1].kind in (
                        "word", "qid"):
                    name += "." + tokens[i + 1].ident
                    i += 2
                alias = None
                if i < len(tokens) and tokens[i].upper == "AS":
                    i += 1
                if i < len(tokens) and tokens[i].kind in ("word", "qid") and (
                        tokens[i].upper not in _CLAUSE_ENDS and not _is_keyword(tokens[i])):
                    alias = tokens[i].ident
                    i += 1
                found.append((name, alias))
                if i < len(tokens) and tokens[i].text == ",":
                    i += 1
                    continue
                break
        else:
            i += 1
    return found


class Catalog:
    """The relations the completer and `\\d` know, looked up like PostgreSQL's search path."""

    def __init__(self, relations: Iterable[RelationMeta] = ()) -> None:
        self.relations: list[RelationMeta] = list(relations)

    def find(self, name: str) -> RelationMeta | None:
        name = name.lower() if not any(c.isupper() for c in name.strip('"')) else name
        schema, _, bare = name.rpartition(".")
        for rel in self.relations:
            if rel.name.lower() == bare.lower() and (not schema or rel.schema == schema):
                if schema or rel.schema in ("public", "main"):
                    return rel
        for rel in self.relations:
            if rel.name.lower() == bare.lower() and (not schema or rel.schema == schema):
                return rel
        return None


def _quote(name: str) -> str:
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) and name.upper() not in _KEYWORD_SET:
        return name
    return '"' + name.replace('"', '""') + '"'


class SqlCompleter(Completer):
    """Completes the current word from the catalog, the built-in functions and keywords."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def get_completions(self, document: Document, complete_event: CompleteEvent
                        ) -> Iterable[Completion]:
        before = document.text_before_cursor
        if before.lstrip().startswith("\\"):
            return
        current = split_statements(before).rest
        after = document.text_after_cursor.split(";", 1)[0]
        m = re.search(r'((?:"[^"]*"|[\w$]+)\.)?("?[\w$]*)\Z', current)
        word = m.group(2) if m else ""
        qualifier = m.group(1)[:-1] if m and m.group(1) else None
        head = current[: len(current) - len(m.group(0))] if m else current
        tokens = tokenize(head)
        statement = tokenize(current + after)
        lower = word[:1].islower()
        found = self.candidates(tokens, statement, qualifier)
        if not word and qualifier is None and not complete_event.completion_requested:
            # Before a word is started (a blank line, a space after a complete word) the
            # menu opens by itself only where few things fit; Tab still lists everything.
            found = _unprompted(found, tokens)
        for text, meta in found:
            if _matches(text, word):
                if meta == "keyword" and lower:
                    text = text.lower()
                yield Completion(text, start_position=-len(word), display_meta=meta)

    def candidates(self, tokens: list[Token], statement: list[Token], qualifier: str | None
                   ) -> list[tuple[str, str]]:
        """What may stand at the cursor, as (text, kind) pairs in display order."""
        if qualifier is not None:
            return self._qualified(qualifier.strip('"'), statement)
        context = _context(tokens)
        if context == "relation":
            return self._relations(None)
        if context == "view":
            return self._relations(("materialized view", "view"))
        if context == "source":
            return self._relations(("source",))
        if context == "expression":
            return (self._columns(statement) + [(f, "function") for f in FUNCTION_NAMES]
                    + [(k, "keyword") for k in KEYWORDS])
        return [(k, "keyword") for k in KEYWORDS]

    def _relations(self, kinds: tuple[str, ...] | None) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        schemas: list[str] = []
        for rel in self.catalog.relations:
            if kinds is not None and rel.kind not in kinds:
                continue
            if rel.schema in ("public", "main"):
                out.append((_quote(rel.name), rel.kind))
            elif rel.schema not in schemas:
                schemas.append(rel.schema)
        for rel in self.catalog.relations:
            if rel.schema not in ("public", "main") and (kinds is None or rel.kind in kinds):
                out.append((f"{rel.schema}.{_quote(rel.name)}", rel.kind))
        return out + [(s, "schema") for s in schemas]

    def _qualified(self, qualifier: str, statement: list[Token]) -> list[tuple[str, str]]:
        """After `x.`: relations of schema x, or columns of the relation or alias x."""
        q = qualifier.lower()
        in_schema = [(_quote(r.name), r.kind) for r in self.catalog.relations if r.schema == q]
        if in_schema:
            return in_schema
        for name, alias in tables_in_statement(statement):
            if q in (alias, name, name.rpartition(".")[2]):
                rel = self.catalog.find(name)
                if rel is not None:
                    return [(_quote(c.name), "column") for c in rel.columns]
        rel = self.catalog.find(q)
        return [(_quote(c.name), "column") for c in rel.columns] if rel is not None else []

    def _columns(self, statement: list[Token]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for name, _alias in tables_in_statement(statement):
            rel = self.catalog.find(name)
            if rel is None:
                continue
            for col in rel.columns:
                item = (_quote(col.name), "column")
                if item not in out:
                    out.append(item)
        return out


def _context(tokens: list[Token]) -> str:
    """What the grammar expects next: relation, view, source, expression or keyword."""
    if not tokens:
        return "keyword"
    prev = tokens[-1]
    if prev.kind in ("word", "qid") and not _is_keyword(prev):
        return "keyword"
    if prev.kind in ("str", "num") or prev.text == ")":
        return "keyword"
    for tok in reversed(tokens):
        if tok.kind != "word" or not _is_keyword(tok):
            if tok.text in _EXPR_OPS and tok is prev:
                return "expression"
            continue
        kw = tok.upper
        if kw in ("IF", "NOT", "EXISTS") and _in_if_exists(tokens, tok):
            continue
        if kw in _RELATION_KW:
            return "relation"
        if kw in _VIEW_KW:
            return "view"
        if kw in _SOURCE_KW:
            return "source"
        if kw in _EXPR_KW:
            return "expression"
        return "keyword"
    return "keyword"


def _unprompted(found: list[tuple[str, str]], tokens: list[Token]) -> list[tuple[str, str]]:
    """What to offer with no word typed and no Tab: relations and columns where they go,
    the clauses that follow a relation in FROM; no menu of every keyword or function."""
    kinds = {meta for _text, meta in found}
    if "keyword" in kinds and kinds <= {"keyword"}:
        if _after_relation(tokens):
            return [(k, "keyword") for k in _AFTER_RELATION]
        return []
    return [(text, meta) for text, meta in found if meta not in ("keyword", "function")]


def _after_relation(tokens: list[Token]) -> bool:
    """Whether the last token names a relation (or its alias) in a FROM/JOIN list."""
    if not tokens or tokens[-1].kind not in ("word", "qid") or _is_keyword(tokens[-1]):
        return False
    for tok in reversed(tokens[:-1]):
        if tok.kind == "word" and _is_keyword(tok):
            return tok.upper in _TABLE_MAKERS or tok.upper == "AS"
        if tok.text not in (",", ".") and tok.kind not in ("word", "qid"):
            return False
    return False


def _in_if_exists(tokens: list[Token], tok: Token) -> bool:
    """Whether tok is part of an `IF [NOT] EXISTS` that follows the object's kind."""
    i = next(k for k, t in enumerate(tokens) if t is tok)
    words = [t.upper for t in tokens[max(0, i - 2): i + 1]]
    return words[-1] == "IF" or "IF" in words


def _matches(candidate: str, word: str) -> bool:
    if not word:
        return True
    return candidate.lower().lstrip('"').startswith(word.lower().lstrip('"'))
