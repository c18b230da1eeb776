"""INSERT, UPDATE, DELETE on tables.

A statement is checked and computed against the table's writer state (its
current contents, including statements not yet checkpointed), then its change
rows are logged durably and fed into the table's source. Nothing is written
unless the whole statement is valid."""

from __future__ import annotations

import decimal
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from executor.message import DELETE, INSERT, UPDATE_DELETE, UPDATE_INSERT
from planner import expressions as X
from planner import types as T
from planner.binder import Ctx, Scope, ScopeColumn, position_of
from planner.catalog import ROW_ID, TABLE, Relation
from planner.errors import (NOT_NULL_VIOLATION, UNDEFINED_COLUMN, UNIQUE_VIOLATION, DataError,
                            IntegrityError, ProgrammingError, not_supported)
from planner.column_defaults import is_default_keyword
from planner.literals import to_literal
from planner.parse import bind_parameters
from planner.returning import Returning, bind_returning
from sqlstream import tables
from sqlstream.result import Column, StatementResult

if TYPE_CHECKING:
    from sqlstream.database import TableWriter
    from sqlstream.session import Session


def _table(session: "Session", node: exp.Expression) -> Relation:
    rel = session.db.catalog.get(node.name)
    if rel is None:
        raise ProgrammingError(f'relation "{node.name}" does not exist', "42P01",
                               position_of(node))
    if rel.kind != TABLE:
        raise ProgrammingError(f'cannot change {rel.kind} "{rel.name}"', "42809",
                               position_of(node))
    session.db.check_usable(rel, position_of(node))
    return rel


def _table_scope(rel: Relation, alias: str, offset: int = 0) -> Scope:
    return Scope([ScopeColumn(alias, c.name, offset + i, c.type)
                  for i, c in enumerate(rel.columns)])


def _literal(node: exp.Expression) -> Any:
    """Fast path for plain literals in VALUES; None means 'bind it'."""
    if isinstance(node, exp.Literal):
        if node.is_string:
            return ("s", node.this)
        text = node.this
        try:
            return ("v", int(text))
        except ValueError:
            return ("v", decimal.Decimal(text))
    if isinstance(node, exp.Null):
        return ("v", None)
    if isinstance(node, exp.Boolean):
        return ("v", bool(node.this))
    return None


def _coerce(value: Any, col: Any, rel: Relation) -> Any:
    try:
        return T.coerce(value, col.type)
    except OverflowError as e:
        raise DataError(str(e), "22003") from None
    except (ValueError, TypeError, decimal.InvalidOperation) as e:
        raise DataError(str(e), "22P02") from None


def _check_not_null(rel: Relation, row: tuple) -> None:
    for c, v in zip(rel.columns, row):
        if v is None and not c.nullable:
            raise IntegrityError(
                f'null value in column "{c.name}" of relation "{rel.name}" violates not-null '
                f"constraint", NOT_NULL_VIOLATION)


def _duplicate(rel: Relation, key: tuple) -> IntegrityError:
    names = ", ".join(rel.columns[i].name for i in rel.pk)
    vals = ", ".join(T.to_text(v) for v in key)
    return IntegrityError(f'duplicate key value violates unique constraint "{rel.name}_pkey"',
                          UNIQUE_VIOLATION, detail=f"Key ({names})=({vals}) already exists.")


def binds_in_parts(tree: exp.Expression) -> bool:
    """Whether the statement can take its $n parameters where they are used (each
    VALUES item, WHERE, SET expression) instead of in a copy of the whole statement:
    a statement sent again and again then runs on its one cached tree, unchanged.
    Not for `?` placeholders, which are numbered by their order in the whole text.
    Remembered per tree: the cached trees of statement texts are asked again and again."""
    known = _IN_PARTS.get(id(tree))
    if known is not None and known[0] is tree:
        return known[1]
    if len(_IN_PARTS) > 1024:
        _IN_PARTS.clear()
    answer = _binds_in_parts(tree)
    _IN_PARTS[id(tree)] = (tree, answer)  # the tree kept alive: its id stays its own
    return answer


_IN_PARTS: dict[int, tuple[exp.Expression, bool]] = {}


def _binds_in_parts(tree: exp.Expression) -> bool:
    if tree.args.get("returning") or tree.find(exp.Placeholder) is not None:
        return False
    if isinstance(tree, exp.Insert):
        return isinstance(tree.expression, exp.Values) and tree.args.get("conflict") is None
    if isinstance(tree, exp.Update):
        return not (tree.args.get("from_") or tree.args.get("from"))
    return isinstance(tree, exp.Delete) and not tree.args.get("using")


class _Params:
    """Binds $n parameters into copies of the parts of a shared statement tree that
    use them (see binds_in_parts); with no parameters, the tree is used as it is."""

    def __init__(self, params: list | None) -> None:
        self.params = params

    def __call__(self, node: Any) -> Any:
        if self.params is None or node is None:
            return node
        if isinstance(node, exp.Parameter) and node.name.isdigit():
            return to_literal(self._value(node))
        if node.find(exp.Parameter) is None:
            return node
        if isinstance(node, exp.Where) and isinstance(node.this, exp.EQ):
            # `WHERE key = $n`, the usual one: two small pieces instead of a whole copy
            eq = node.this
            sides = [eq.this, eq.expression]
            if all(isinstance(x, (exp.Column, exp.Parameter)) for x in sides):
                a, b = (self(x) if isinstance(x, exp.Parameter) else x.copy() for x in sides)
                return exp.Where(this=exp.EQ(this=a, expression=b))
        return bind_parameters(node.copy(), self.params)

    def _value(self, node: exp.Parameter) -> Any:
        assert self.params is not None
        i = int(node.name) - 1
        if not 0 <= i < len(self.params):
            raise ProgrammingError(f"there is no parameter ${i + 1}", "42P02")
        return self.params[i]

    def plain(self, node: Any) -> Any:
        """The value of a `$n` whose literal would be read back as exactly that value
        (NULL, a boolean, a string, a non-negative integer); else _NOT_PLAIN."""
        if self.params is None or not isinstance(node, exp.Parameter) or \
                not node.name.isdigit():
            return _NOT_PLAIN
        v = self._value(node)
        if v is None or isinstance(v, (bool, str)) or (type(v) is int and v >= 0):
            return v
        return _NOT_PLAIN


_NOT_PLAIN = object()


# ---------------------------------------------------------------- INSERT
def insert(session: "Session", tree: exp.Insert, params: list | None = None) -> StatementResult:
    bind = _Params(params)
    db = session.db
    source = tree.expression
    if source is not None and not isinstance(source, exp.Values) and any(
            t.name and not isinstance(t.this, exp.Func) for t in source.find_all(exp.Table)):
        # The SELECT reads the last committed epoch: commit every earlier write first,
        # so that it sees them, as each statement sees the ones before it in PostgreSQL.
        db.flush()
    target = tree.this
    names = None
    if isinstance(target, exp.Schema):
        names = [e.name for e in target.expressions]
        target = target.this
    with db.lock:
        rel = _table(session, target)
        returning = bind_returning(rel, target.alias_or_name, tree.args.get("returning"))
        visible = [i for i, c in enumerate(rel.columns) if not c.hidden]
        if source is None:  # DEFAULT VALUES
            names, source = [], exp.Values(expressions=[exp.Tuple(expressions=[])])
        if names is None:
            positions = visible
        else:
            positions = []
            for n in names:
                i = rel.column_index(n)
                if i is None or rel.columns[i].hidden:
                    raise ProgrammingError(f'column "{n}" of relation "{rel.name}" does not exist',
                                           UNDEFINED_COLUMN)
                positions.append(i)
        if isinstance(source, exp.Values):
            values = _values_rows(source, [rel.columns[i] for i in positions], rel, bind)
        else:
            from sqlstream import query
            result = query.select(session, source, "")
            values = result.rows
            if result.columns is not None and len(result.columns) != len(positions):
                raise ProgrammingError("INSERT has more expressions than target columns"
                                       if len(result.columns) > len(positions) else
                                       "INSERT has more target columns than expressions",
                                       "42601")
        writer = db.writers[rel.id]
        ops, rows = _insert_rows(session, rel, writer, positions, values, tree)
        if rows:
            _apply(writer, rel, ops, rows)
            db.push_changes(rel, ops, rows)
        n = sum(1 for op in ops if op in (INSERT, UPDATE_INSERT))
    if returning is not None:
        written = [r for op, r in zip(ops, rows) if op in (INSERT, UPDATE_INSERT)]
        return _returned(f"INSERT 0 {n}", returning, written)
    return StatementResult(f"INSERT 0 {n}")


def _returned(tag: str, returning: Returning, rows: list[tuple]) -> StatementResult:
    """A DML result carrying its RETURNING rows."""
    return StatementResult(tag, [Column(n, t) for n, t in zip(returning.names, returning.types)],
                           returning.project(rows))


def _values_rows(values: exp.Values, cols: list[Any], rel: Relation,
                 bind: _Params | None = None) -> list[tuple]:
    bind = bind or _Params(None)
    out = []
    empty = Ctx(Scope([]), clause="VALUES")
    n = len(cols)
    for tup in values.expressions:
        items = tup.expressions if isinstance(tup, exp.Tuple) else [tup]
        if len(items) != n:
            raise ProgrammingError("INSERT has more expressions than target columns"
                                   if len(items) > n else
                                   "INSERT has more target columns than expressions", "42601",
                                   position_of(tup))
        row = []
        for node, col in zip(items, cols):
            value = bind.plain(node)
            if value is not _NOT_PLAIN:
                row.append(_coerce(value, col, rel))
                continue
            node = bind(node)
            if is_default_keyword(node):
                row.append(_default_value(rel, col))
                continue
            lit = _literal(node)
            if lit is not None:
                row.append(_coerce(lit[1], col, rel))
                continue
            bound = X.bind_expr(node, empty)
            try:
                value = X.eval_const(X.cast(bound, col.type))
            except (ValueError, TypeError) as e:
                raise DataError(str(e), "22P02", position_of(node)) from None
            row.append(value)
        out.append(tuple(row))
    return out


def _default_value(rel: Relation, col: Any) -> Any:
    """The value of `DEFAULT` written for column `col`: its default, else NULL."""
    i = rel.column_index(col.name)
    f = tables.defaults_of(rel).get(i) if i is not None else None
    return f() if f is not None else None


def _insert_rows(session: "Session", rel: Relation, writer: "TableWriter", positions: list[int],
                 values: list[tuple], tree: exp.Insert) -> tuple[list[int], list[tuple]]:
    width = len(rel.columns)
    rid_col = rel.column_index(ROW_ID)
    conflict = tree.args.get("conflict")
    action = str(conflict.args.get("action") or "").upper() if conflict is not None else ""
    pk = rel.pk
    full_positions = positions == list(range(width))
    ops: list[int] = []
    rows: list[tuple] = []
    pending: dict[tuple, int] = {}  # key -> index in rows of this statement's insert
    updater = None
    if conflict is not None:
        _check_conflict_target(rel, conflict, action)
    if "UPDATE" in action:
        updater = _conflict_updater(rel, conflict)
    existing = writer.rows
    coercers = [T.coercer(c.type) for c in rel.columns]
    defaults = tables.defaults_of(rel)
    for vals in values:
        if full_positions:
            try:
                row = tuple([f(v) for f, v in zip(coercers, vals)])
            except OverflowError as e:
                raise DataError(str(e), "22003") from None
            except (ValueError, TypeError, decimal.InvalidOperation) as e:
                raise DataError(str(e), "22P02") from None
        else:
            r: list[Any] = tables.blank_row(width, defaults)
            for p, v in zip(positions, vals):
                r[p] = _coerce(v, rel.columns[p], rel)
            if rid_col is not None:
                r[rid_col] = writer.next_row_id + len(rows)
            row = tuple(r)
        _check_not_null(rel, row)
        key = tuple(row[i] for i in pk)
        if rid_col is not None:
            rows.append(row)
            ops.append(INSERT)
            continue
        old = rows[pending[key]] if key in pending else existing.get(key)
        if old is not None:
            if action == "DO NOTHING":
                continue
            if not action and tables.has_conflict_action(rel):
                _overwrite(rel, key, old, tables.on_conflict(rel, old, row), pending, ops, rows)
                continue
            if updater is None:
                raise _duplicate(rel, key)
            if key in pending:
                raise ProgrammingError("ON CONFLICT DO UPDATE command cannot affect row a second"
                                       " time", "21000")
            new = updater(old, row)
            _check_not_null(rel, new)
            if tuple(new[i] for i in pk) != key:
                raise not_supported("ON CONFLICT DO UPDATE that changes the primary key")
            ops += [UPDATE_DELETE, UPDATE_INSERT]
            rows += [old, new]
            pending[key] = len(rows) - 1
            continue
        pending[key] = len(rows)
        ops.append(INSERT)
        rows.append(row)
    if rid_col is not None:
        base = writer.next_row_id
        if full_positions:
            rows = [r[:rid_col] + (base + i,) + r[rid_col + 1:] for i, r in enumerate(rows)]
        writer.next_row_id = base + len(rows)
    return ops, rows


def _overwrite(rel: Relation, key: tuple, old: tuple, new: tuple | None,
               pending: dict[tuple, int], ops: list[int], rows: list[tuple]) -> None:
    """A row replacing `old` by the table's ON CONFLICT action (None: keep `old`): the
    row this statement already wrote for the key is replaced in place, a stored one
    is updated."""
    if new is None:
        return
    _check_not_null(rel, new)
    if key in pending:
        rows[pending[key]] = new
        return
    ops += [UPDATE_DELETE, UPDATE_INSERT]
    rows += [old, new]
    pending[key] = len(rows) - 1


def _check_conflict_target(rel: Relation, conflict: exp.OnConflict, action: str) -> None:
    """The ON CONFLICT columns must be the primary key, the only unique constraint."""
    keys = conflict.args.get("conflict_keys") or []
    if not keys:
        if "UPDATE" in action:
            raise ProgrammingError("ON CONFLICT DO UPDATE requires inference specification or "
                                   "constraint name", "42601", position_of(conflict))
        return
    names = sorted({(k.this if isinstance(k, exp.Ordered) else k).name for k in keys})
    pk = sorted(rel.columns[i].name for i in rel.pk)
    if names != pk or rel.column_index(ROW_ID) is not None:
        raise ProgrammingError("there is no unique or exclusion constraint matching the "
                               "ON CONFLICT specification", "42P10", position_of(conflict))


def _conflict_updater(rel: Relation, conflict: exp.OnConflict) -> Any:
    if conflict.args.get("where") is not None:
        raise not_supported("ON CONFLICT DO UPDATE ... WHERE")
    width = len(rel.columns)
    scope = _table_scope(rel, rel.name) + _table_scope(rel, "excluded", width)
    sets: dict[int, Any] = {}
    for eq in conflict.expressions:
        col = eq.this
        i = rel.column_index(col.name)
        if i is None:
            raise ProgrammingError(f'column "{col.name}" of relation "{rel.name}" does not exist',
                                   UNDEFINED_COLUMN, position_of(col))
        bound = X.bind_expr(eq.expression, Ctx(scope, clause="ON CONFLICT"))
        sets[i] = X.compile_scalar(X.cast(bound, rel.columns[i].type), strict=True)

    def update(old: tuple, proposed: tuple) -> tuple:
        both = old + proposed
        return tuple(sets[i](both) if i in sets else old[i] for i in range(width))

    return update


def _apply(writer: "TableWriter", rel: Relation, ops: list[int], rows: list[tuple]) -> None:
    pk = rel.pk
    data = writer.rows
    for op, row in zip(ops, rows):
        key = tuple(row[i] for i in pk)
        if op in (INSERT, UPDATE_INSERT):
            data[key] = row
        else:
            data.pop(key, None)


# ---------------------------------------------------------------- UPDATE / DELETE
def _matching(session: "Session", rel: Relation, writer: "TableWriter",
              where: exp.Expression | None, alias: str) -> list[tuple]:
    rows = list(writer.rows.values())
    if where is None:
        return rows
    cond = where.this
    if cond.find(exp.Select, exp.Exists):
        raise not_supported("subquery in the WHERE of UPDATE or DELETE", position_of(cond))
    scope = _table_scope(rel, alias)
    pred = X.fold_constants(X.bind_expr(cond, Ctx(scope, clause="WHERE")))
    # Primary key lookup instead of a scan when WHERE is `pk = constant`.
    if len(rel.pk) == 1 and isinstance(pred, X.Call) and pred.name == "=":
        a, b = pred.args
        if isinstance(b, X.InputRef):
            a, b = b, a
        if isinstance(a, X.InputRef) and a.index == rel.pk[0] and isinstance(b, X.Literal):
            row = writer.rows.get((b.value,))
            return [row] if row is not None else []
    mask = X.compile_filter(pred, strict=True)(rows)
    return [r for r, keep in zip(rows, mask) if keep]


def _project(exprs: list[Any], rows: list[tuple]) -> list[tuple]:
    """The updated rows. SET to constants (the usual `SET c = $1`) is filled in
    directly; anything else is compiled (which costs more than the update itself)."""
    # Only literals and casts of literals: a volatile function (random()) must still
    # be evaluated once per row.
    plain = all(isinstance(e, (X.InputRef, X.Literal)) or
                (isinstance(e, X.Cast) and isinstance(e.arg, X.Literal)) for e in exprs)
    folded = [X.fold_constants(e) for e in exprs] if plain else []
    if plain and all(isinstance(e, (X.InputRef, X.Literal)) for e in folded):
        picks = [(True, e.index) if isinstance(e, X.InputRef) else (False, e.value)
                 for e in folded]
        return [tuple([row[v] if ref else v for ref, v in picks]) for row in rows]
    return X.compile_projection(exprs, strict=True)(rows)


def update(session: "Session", tree: exp.Update, params: list | None = None) -> StatementResult:
    bind = _Params(params)
    db = session.db
    if tree.args.get("from_") or tree.args.get("from"):
        raise not_supported("UPDATE ... FROM", position_of(tree))
    with db.lock:
        rel = _table(session, tree.this)
        tables.refuse_change(rel, "UPDATE")
        alias = tree.this.alias_or_name
        returning = bind_returning(rel, alias, tree.args.get("returning"))
        writer = db.writers[rel.id]
        targets = _matching(session, rel, writer, bind(tree.args.get("where")), alias)
        scope = _table_scope(rel, alias)
        exprs: list[Any] = [X.InputRef(i, c.type, c.name) for i, c in enumerate(rel.columns)]
        for eq in tree.expressions:
            col = eq.this
            i = rel.column_index(col.name)
            if i is None or rel.columns[i].hidden:
                raise ProgrammingError(f'column "{col.name}" of relation "{rel.name}" does not '
                                       f"exist", UNDEFINED_COLUMN, position_of(col))
            bound = X.bind_expr(bind(eq.expression), Ctx(scope, clause="UPDATE"))
            exprs[i] = X.cast(bound, rel.columns[i].type)
        new_rows = _project(exprs, targets)
        pk = rel.pk
        ops: list[int] = []
        rows: list[tuple] = []
        moved_from = {tuple(r[i] for i in pk) for r in targets}
        seen: set[tuple] = set()
        for old, new in zip(targets, new_rows):
            _check_not_null(rel, new)
            ok, nk = tuple(old[i] for i in pk), tuple(new[i] for i in pk)
            if nk in seen or (nk != ok and nk in writer.rows and nk not in moved_from):
                raise _duplicate(rel, nk)
            seen.add(nk)
        deletes: list[tuple] = []
        inserts: list[tuple] = []
        for old, new in zip(targets, new_rows):
            if old == new:
                continue
            if tuple(old[i] for i in pk) == tuple(new[i] for i in pk):
                ops += [UPDATE_DELETE, UPDATE_INSERT]
                rows += [old, new]
            else:
                deletes.append(old)
                inserts.append(new)
        ops += [DELETE] * len(deletes) + [INSERT] * len(inserts)
        rows += deletes + inserts
        if rows:
            _apply(writer, rel, ops, rows)
            db.push_changes(rel, ops, rows)
    if returning is not None:
        return _returned(f"UPDATE {len(targets)}", returning, new_rows)
    return StatementResult(f"UPDATE {len(targets)}")


def delete(session: "Session", tree: exp.Delete, params: list | None = None) -> StatementResult:
    bind = _Params(params)
    db = session.db
    if tree.args.get("using"):
        raise not_supported("DELETE ... USING", position_of(tree))
    with db.lock:
        rel = _table(session, tree.this)
        tables.refuse_change(rel, "DELETE")
        returning = bind_returning(rel, tree.this.alias_or_name, tree.args.get("returning"))
        writer = db.writers[rel.id]
        targets = _matching(session, rel, writer, bind(tree.args.get("where")),
                            tree.this.alias_or_name)
        if targets:
            ops = [DELETE] * len(targets)
            _apply(writer, rel, ops, targets)
            db.push_changes(rel, ops, targets)
    if returning is not None:
        return _returned(f"DELETE {len(targets)}", returning, targets)
    return StatementResult(f"DELETE {len(targets)}")
