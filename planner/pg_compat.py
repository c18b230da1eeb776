"""PostgreSQL client compatibility: rewrites that let psql's and drivers' catalog queries
run on the serving store (DuckDB), plus the analysis the wire server needs before a
statement runs (parameter types, a LIMIT 0 probe).

The catalog itself is data built elsewhere (schema `_pg`); this module only knows its
table and function names. Everything here is a pure function of SQL text or AST.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

import sqlglot
from sqlglot import exp

from planner import types as T

CATALOG_SCHEMA = "_pg"

# pg_catalog relations we provide, all as tables in CATALOG_SCHEMA.
CATALOG_TABLES = (
    "pg_class", "pg_namespace", "pg_attribute", "pg_type", "pg_am", "pg_index",
    "pg_constraint", "pg_attrdef", "pg_database", "pg_roles", "pg_user", "pg_authid",
    "pg_proc", "pg_description", "pg_settings", "pg_policy", "pg_statistic_ext",
    "pg_publication", "pg_publication_rel", "pg_publication_namespace",
    "pg_publication_tables", "pg_inherits", "pg_collation", "pg_extension",
    "pg_tablespace", "pg_tables", "pg_views", "pg_matviews", "pg_indexes", "pg_sequence",
    "pg_trigger", "pg_rewrite", "pg_partitioned_table", "pg_foreign_table", "pg_range",
    "pg_enum", "pg_depend", "pg_shdescription", "pg_auth_members", "pg_event_trigger",
    "pg_opclass", "pg_stat_activity", "pg_locks", "pg_cursors", "pg_prepared_statements",
    "pg_operator", "pg_cast", "pg_language", "pg_init_privs", "pg_seclabel",
)
# information_schema.X -> CATALOG_SCHEMA.information_schema_X
INFO_SCHEMA_TABLES = ("tables", "columns", "schemata", "views", "table_constraints",
                      "key_column_usage", "routines", "character_sets")

# Functions answered by macros in CATALOG_SCHEMA (same name).
CATALOG_FUNCTIONS = (
    "pg_table_is_visible", "pg_type_is_visible", "pg_function_is_visible", "format_type",
    "pg_get_userbyid", "pg_get_expr", "pg_encoding_to_char", "current_setting",
    "pg_get_indexdef", "pg_get_constraintdef", "pg_get_viewdef", "obj_description",
    "col_description", "shobj_description", "has_table_privilege", "has_schema_privilege",
    "has_database_privilege", "has_column_privilege", "has_any_column_privilege",
    "pg_get_function_identity_arguments", "pg_get_function_result",
    "pg_get_function_arguments", "pg_relation_size", "pg_total_relation_size",
    "pg_table_size", "pg_indexes_size", "pg_database_size", "pg_get_serial_sequence",
    "pg_backend_pid", "pg_is_in_recovery", "pg_get_partkeydef", "pg_get_triggerdef",
    "pg_get_statisticsobjdef_columns", "pg_get_ruledef", "current_schemas",
    "pg_postmaster_start_time", "pg_size_pretty", "txid_current", "pg_my_temp_schema",
    "pg_is_other_temp_schema", "set_config", "pg_get_keywords", "pg_conversion_is_visible",
    "pg_collation_is_visible", "pg_opclass_is_visible", "regclass_oid", "regclass_name",
    "regtype_oid", "regtype_name", "pg_char_to_encoding", "pg_get_function_sqlbody",
    "inet_server_addr", "inet_server_port", "pg_relation_is_publishable", "array_upper",
    "array_lower", "current_database", "current_user", "current_schema", "version",
    "to_regtype", "to_regclass",
)

# Expression nodes replaced by a fixed call (names sqlglot parses as special nodes).
_SPECIAL_CALLS: dict[type, str] = {
    exp.CurrentSchema: "current_schema", exp.CurrentVersion: "version",
    exp.CurrentDatabase: "current_database", exp.CurrentUser: "current_user",
    exp.SessionUser: "current_user",
}
_SPECIAL_NAMES = ("current_schema", "version", "current_database", "current_user",
                  "session_user", "user")

# PostgreSQL catalog types -> a DuckDB type name.
_TYPE_MAP = {"oid": "BIGINT", "regproc": "VARCHAR", "regprocedure": "VARCHAR",
             "regoper": "VARCHAR", "regnamespace": "VARCHAR", "regrole": "VARCHAR",
             "regconfig": "VARCHAR", "name": "VARCHAR", "char": "VARCHAR", "text": "VARCHAR",
             "int2vector": "VARCHAR", "oidvector": "VARCHAR", "xid": "BIGINT",
             "cid": "BIGINT", "tid": "VARCHAR", "aclitem": "VARCHAR", "pg_node_tree": "VARCHAR",
             "anyarray": "VARCHAR", "information_schema.sql_identifier": "VARCHAR"}

_OPERATOR = re.compile(r"OPERATOR\s*\(\s*(?:pg_catalog\s*\.\s*)?([~!=<>*@#%^&|`?+\-/]+)\s*\)",
                       re.IGNORECASE)
_PARAM_GLUE = re.compile(r"(\$\d+)(?=[,$)\]])")
_ARRAY_CAST = re.compile(r"::\s*(?:pg_catalog\s*\.\s*)?(oid|regtype|regclass|name|int2|int4|"
                         r"int8|text|char)\s*\[\]", re.IGNORECASE)
_QUOTED = re.compile(r"'[^']*(?:''[^']*)*'")  # unrolled: no alternation per character
_ARRAY_CAST_TO = {"oid": "bigint", "regtype": "bigint", "regclass": "bigint", "name": "text",
                  "char": "text"}


def _outside_quotes(sql: str, fix: "callable[[str], str]") -> str:  # type: ignore[valid-type]
    parts, last = [], 0
    for m in _QUOTED.finditer(sql):
        parts.append(fix(sql[last:m.start()]))
        parts.append(m.group(0))
        last = m.end()
    parts.append(fix(sql[last:]))
    return "".join(parts)


def preprocess_sql(sql: str) -> str:
    """Textual fixes before parsing: `OPERATOR(pg_catalog.~)` -> `~`, `$1,$2` spacing,
    `::oid[]` array casts.

    >>> preprocess_sql("relname OPERATOR(pg_catalog.~) '^(t)$' AND a = ANY($1::oid[])")
    "relname  ~  '^(t)$' AND a = ANY($1::bigint[])"
    """
    def fix(code: str) -> str:
        code = _OPERATOR.sub(r" \1 ", code)
        code = _PARAM_GLUE.sub(r"\1 ", code)
        return _ARRAY_CAST.sub(lambda m: "::" + _ARRAY_CAST_TO.get(m.group(1).lower(),
                                                                   m.group(1)) + "[]", code)
    return _outside_quotes(sql, fix)


def parse(sql: str) -> exp.Expression:
    return sqlglot.parse_one(preprocess_sql(sql), read="postgres")


# ---------------------------------------------------------------- catalog detection

def _func_name(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return None


def references_catalog(ast: exp.Expression) -> bool:
    """Whether a statement reads pg_catalog / information_schema or calls a catalog
    function (then the catalog tables must be fresh and the rewrite applies)."""
    for node in ast.walk():
        if isinstance(node, exp.Table):
            name, db = node.name.lower(), node.db.lower()
            if db in ("pg_catalog", "information_schema"):
                return True
            if not db and name in CATALOG_TABLES:
                return True
        elif isinstance(node, tuple(_SPECIAL_CALLS)):
            return True
        elif isinstance(node, exp.Anonymous) and str(node.this).lower() in CATALOG_FUNCTIONS:
            return True
        elif isinstance(node, exp.Dot) and isinstance(node.this, exp.Identifier) \
                and node.this.name.lower() == "pg_catalog":
            return True
        elif isinstance(node, exp.DataType) and _catalog_type_name(node) in (
                "regclass", "regtype", "oid", "regproc", "regnamespace"):
            return True
        elif isinstance(node, exp.ObjectIdentifier):
            return True
    return False


def _catalog_type_name(dt: exp.Expression) -> str | None:
    if isinstance(dt, exp.ObjectIdentifier):
        return dt.name.lower()
    if not isinstance(dt, exp.DataType):
        return None
    kind = dt.args.get("kind")
    if isinstance(kind, exp.Dot):
        return kind.expression.name.lower()
    if isinstance(kind, exp.Identifier):
        return kind.name.lower()
    if dt.this == exp.DataType.Type.NAME:
        return "name"
    return None


# ---------------------------------------------------------------- rewrite to DuckDB

def _catalog_call(name: str, args: Sequence[exp.Expression] = ()) -> exp.Expression:
    return exp.Dot(this=exp.to_identifier(CATALOG_SCHEMA),
                   expression=exp.Anonymous(this=name, expressions=list(args)))


def _is_call(node: exp.Expression, name: str) -> bool:
    return (isinstance(node, exp.Dot) and isinstance(node.expression, exp.Anonymous)
            and str(node.expression.this) == name and node.this.name == CATALOG_SCHEMA)


def _relation_literal(text: str) -> exp.Expression:
    """'public."T"' -> 'T' (regclass input: drop the schema, unquote or lower-case)."""
    name = text.rsplit(".", 1)[-1].strip()
    name = name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()
    return exp.Literal.string(name)


def _rewrite_cast(node: exp.Cast) -> exp.Expression:
    target = _catalog_type_name(node.args["to"])
    if target is None:
        return node
    inner = node.this
    literal = isinstance(inner, exp.Literal) and inner.is_string
    if target == "regclass":
        if literal:
            return _catalog_call("regclass_oid", [_relation_literal(inner.name)])
        return _catalog_call("regclass_name", [inner])
    if target == "regtype":
        if literal:
            return _catalog_call("regtype_oid", [exp.Literal.string(inner.name.lower())])
        return _catalog_call("regtype_name", [inner])
    if target == "oid" and _is_call(inner, "regclass_name"):
        return _catalog_call("regclass_oid", inner.expression.expressions)
    if target == "oid" and _is_call(inner, "regtype_name"):
        return _catalog_call("regtype_oid", inner.expression.expressions)
    duck = _TYPE_MAP.get(target)
    if duck is None:
        t = T.type_from_name(target)
        duck = t.duckdb if t is not None else None
    if duck is None:
        return node
    return exp.Cast(this=inner, to=exp.DataType.build(duck))


def _rewrite_node(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Table):
        name, db = node.name.lower(), node.db.lower()
        if db == "information_schema" and name in INFO_SCHEMA_TABLES:
            node.set("this", exp.to_identifier(f"information_schema_{name}"))
            node.set("db", exp.to_identifier(CATALOG_SCHEMA))
        elif db in ("pg_catalog", "") and name in CATALOG_TABLES:
            node.set("db", exp.to_identifier(CATALOG_SCHEMA))
        elif db == "pg_catalog":
            node.set("db", None)  # a table function such as generate_series
        return node
    if isinstance(node, exp.Column):
        if node.args.get("db") is not None and node.db.lower() == "pg_catalog":
            node.set("db", exp.to_identifier(CATALOG_SCHEMA))
        return node
    for kind, name in _SPECIAL_CALLS.items():
        if isinstance(node, kind):
            return _catalog_call(name)
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        if name in CATALOG_FUNCTIONS and not isinstance(node.parent, exp.Dot):
            return _catalog_call(name, node.expressions)
        return node
    if isinstance(node, exp.Dot) and isinstance(node.this, exp.Identifier) \
            and node.this.name.lower() == "pg_catalog":
        inner = node.expression
        if isinstance(inner, exp.Anonymous) and str(inner.this).lower() in CATALOG_FUNCTIONS:
            return _catalog_call(str(inner.this).lower(), inner.expressions)
        return inner
    if isinstance(node, exp.Cast):
        return _rewrite_cast(node)
    if isinstance(node, exp.Collate):
        return node.this
    if isinstance(node, (exp.EQ, exp.NEQ)) and isinstance(node.expression, (exp.Any, exp.All)):
        arr = node.expression.this
        arr = arr.this if isinstance(arr, exp.Paren) else arr
        if not isinstance(arr, (exp.Select, exp.Subquery, exp.Union)):
            contains = exp.Anonymous(this="list_contains", expressions=[arr, node.this])
            return contains if isinstance(node, exp.EQ) else exp.Not(this=contains)
    return node


def _output_name(node: exp.Expression) -> str | None:
    """PostgreSQL's name for an unaliased select item (a function's name, a cast's type)."""
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
        return _output_name(node.expression)
    if isinstance(node, exp.Cast):
        inner = _output_name(node.this)
        return inner if isinstance(node.this, exp.Column) else (
            _catalog_type_name(node.args["to"]) or inner)
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    for kind, name in _SPECIAL_CALLS.items():
        if isinstance(node, kind):
            return name
    if isinstance(node, exp.Column):
        return node.name
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return None


def _name_outputs(select: exp.Select) -> None:
    for item in select.expressions:
        if isinstance(item, (exp.Alias, exp.Column, exp.Star)):
            continue
        name = _output_name(item) or "?column?"
        item.replace(exp.alias_(item.copy(), name, quoted=True))


def rewrite(ast: exp.Expression) -> exp.Expression:
    """The statement with catalog names pointed at CATALOG_SCHEMA and PostgreSQL-only
    syntax (regclass/regtype casts, COLLATE, `= ANY(array)`) in DuckDB's terms.
    Works on a copy; rewriting twice gives the same result."""
    ast = ast.copy()
    if isinstance(ast, exp.Select):
        _name_outputs(ast)
    for node in reversed(list(ast.walk(bfs=False))):
        new = _rewrite_node(node)
        if new is not node:
            if node is ast:
                ast = new
            else:
                node.replace(new)
    return ast


def catalog_query_to_duckdb(sql: str) -> str | None:
    """DuckDB SQL for a statement that reads the catalog; None for any other statement
    (including ones sqlglot cannot parse: the engine reports those)."""
    try:
        ast = parse(sql)
    except sqlglot.errors.SqlglotError:
        return None
    if ast is None or not isinstance(ast, exp.Query) or not references_catalog(ast):
        return None
    return rewrite(ast).sql("duckdb")


# ---------------------------------------------------------------- describe support

_ROW_WORDS = ("SELECT", "VALUES", "WITH", "SHOW", "TABLE", "EXPLAIN", "DESCRIBE")


def limit_zero(sql: str) -> str | None:
    """A variant of a query that returns its columns and no rows (to describe it);
    None for statements that are not queries."""
    words = re.findall(r"[A-Za-z]+", re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.S))
    first = words[0].upper() if words else ""
    if first not in _ROW_WORDS:
        return None
    if first in ("SHOW", "EXPLAIN", "DESCRIBE"):
        return sql
    try:
        ast = parse(sql)
    except sqlglot.errors.SqlglotError:
        return sql
    if isinstance(ast, exp.Select):
        return ast.limit(0).sql("postgres")
    if isinstance(ast, exp.Query):
        return exp.select("*").from_(ast.subquery("_q")).limit(0).sql("postgres")
    return sql


Relations = Mapping[str, Sequence[tuple[str, T.DataType]]]

_COMPARE = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Add, exp.Sub, exp.Mul,
            exp.Div, exp.Mod, exp.Like, exp.ILike, exp.NullSafeEQ, exp.NullSafeNEQ)


def _scope(ast: exp.Expression, relations: Relations) -> dict[str, dict[str, T.DataType]]:
    """alias or name -> {column: type} for the user relations a statement reads."""
    out: dict[str, dict[str, T.DataType]] = {}
    for table in ast.find_all(exp.Table):
        cols = relations.get(table.name) or relations.get(table.name.lower())
        if cols is None:
            continue
        mapping = {c.lower(): t for c, t in cols}
        out[table.name.lower()] = mapping
        if table.alias:
            out[table.alias.lower()] = mapping
    return out


def _type_of(node: exp.Expression | None, scope: dict[str, dict[str, T.DataType]]
             ) -> T.DataType | None:
    if isinstance(node, exp.Column):
        name = node.name.lower()
        if node.table:
            return scope.get(node.table.lower(), {}).get(name)
        for cols in scope.values():
            if name in cols:
                return cols[name]
        return None
    if isinstance(node, exp.Cast):
        return T.type_from_name(node.args["to"].sql("postgres").lower())
    if isinstance(node, exp.Literal):
        if node.is_string:
            return T.VARCHAR
        return T.INT64 if node.name.lstrip("-").isdigit() else T.DECIMAL
    if isinstance(node, exp.Paren):
        return _type_of(node.this, scope)
    return None


def _insert_columns(ins: exp.Insert, relations: Relations) -> list[T.DataType | None]:
    target = ins.this
    table = target.this if isinstance(target, exp.Schema) else target
    cols = relations.get(table.name) or relations.get(table.name.lower()) or []
    types = {c.lower(): t for c, t in cols}
    if isinstance(target, exp.Schema) and target.expressions:
        return [types.get(c.name.lower()) for c in target.expressions]
    return [t for _, t in cols]


def infer_param_types(sql: str, relations: Relations) -> dict[int, T.DataType]:
    """$n -> the type of what it is compared with, assigned to, inserted into or cast to.

    >>> r = {"t": [("a", T.INT32), ("b", T.VARCHAR)]}
    >>> {n: t.name for n, t in infer_param_types("SELECT * FROM t WHERE a = $1 AND $2 = b", r).items()}
    {1: 'integer', 2: 'varchar'}
    """
    ast = parse(sql)
    scope = _scope(ast, relations)
    out: dict[int, T.DataType] = {}
    for param in ast.find_all(exp.Parameter):
        try:
            n = int(param.name)
        except ValueError:
            continue
        parent = param.parent
        found: T.DataType | None = None
        if isinstance(parent, exp.Cast):
            found = _type_of(parent, scope)
        elif isinstance(parent, _COMPARE):
            other = parent.expression if parent.this is param else parent.this
            found = _type_of(other, scope)
        elif isinstance(parent, (exp.In, exp.Between)):
            found = _type_of(parent.this, scope)
        elif isinstance(parent, (exp.Limit, exp.Offset)):
            found = T.INT64
        elif isinstance(parent, exp.Tuple) and isinstance(parent.parent, exp.Values) \
                and isinstance(parent.parent.parent, exp.Insert):
            cols = _insert_columns(parent.parent.parent, relations)
            idx = parent.expressions.index(param)
            found = cols[idx] if idx < len(cols) else None
        if found is not None and n not in out:
            out[n] = found
    return out
