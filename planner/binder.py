"""Binder: a sqlglot query AST -> a typed logical plan, names resolved against the
catalog. Aggregation, joins and subqueries are planned here; scalar expressions
are bound by `planner.expressions`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sqlglot import exp

from planner import expressions as X
from planner import types as T
from planner.aggregates import AggCall
from planner.catalog import SINK, SYSTEM_TABLE, VIEW, Catalog, Relation
from planner.inline_ctes import inline_ctes
from planner.join_keys import plan_join
from planner.join_using import apply_using
from planner.over_window import bind_over_window, needs_over_window
from planner.corresponding import corresponding_positions, is_by_name
from planner.temporal_join import check_system_time, is_temporal, mark_temporal
from planner.errors import (AMBIGUOUS_COLUMN, GROUPING_ERROR, UNDEFINED_COLUMN,
                            ProgrammingError, not_supported)
from planner.window import (EOWC_META, LogicalEowcAgg, LogicalHopWindow,
                            LogicalTemporalFilter, temporal_conjunct, window_micros)
from planner.logical import (Field, LogicalAgg, LogicalDistinct, LogicalFilter, LogicalJoin,
                             LogicalNode, LogicalProject, LogicalScan, LogicalTopN, LogicalUnion,
                             LogicalValues)


def position_of(node: exp.Expression | None) -> int | None:
    """1-based character offset of a node in the statement, when sqlglot recorded it."""
    while node is not None:
        meta = getattr(node, "_meta", None) or {}
        if "start" in meta:
            return int(meta["start"]) + 1
        node = node.find(exp.Identifier) if not isinstance(node, exp.Identifier) else None
    return None


@dataclass
class ScopeColumn:
    table: str | None
    name: str
    index: int
    type: T.DataType


class Scope:
    """Columns visible to expressions: each carries its position in the input row."""

    def __init__(self, columns: list[ScopeColumn]) -> None:
        self.columns = columns

    @staticmethod
    def of(plan: LogicalNode, alias: str | None, offset: int = 0) -> Scope:
        return Scope([ScopeColumn(alias, f.name, offset + i, f.type)
                      for i, f in enumerate(plan.schema)])

    def __add__(self, other: Scope) -> Scope:
        return Scope(self.columns + other.columns)

    def shifted(self, by: int) -> Scope:
        return Scope([ScopeColumn(c.table, c.name, c.index + by, c.type) for c in self.columns])

    def lookup(self, col: exp.Column) -> ScopeColumn | None:
        name, table = col.name, col.table
        hits = [c for c in self.columns
                if c.name == name and (not table or c.table == table)]
        if not hits:
            return None
        if len(hits) > 1 and len({c.index for c in hits}) > 1:
            raise ProgrammingError(f'column reference "{name}" is ambiguous', AMBIGUOUS_COLUMN,
                                   position_of(col))
        return hits[0]

    def tables(self) -> list[str]:
        return list(dict.fromkeys(c.table for c in self.columns if c.table))


class Ctx:
    """BindContext for planner.expressions: resolves columns through a Scope and
    substitutes pre-planned nodes (group keys, aggregates) with input references."""

    def __init__(self, scope: Scope, special: Callable[[exp.Expression], Any] | None = None,
                 allow_agg: bool = False, clause: str = "") -> None:
        self.scope = scope
        self.special = special
        self.clause = clause

    def resolve(self, node: exp.Expression) -> Any:
        if self.special is not None:
            hit = self.special(node)
            if hit is not None:
                return hit
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
            c = self.scope.lookup(node)
            if c is None:
                name = f"{node.table}.{node.name}" if node.table else node.name
                raise ProgrammingError(f'column "{name}" does not exist', UNDEFINED_COLUMN,
                                       position_of(node))
            return X.InputRef(c.index, c.type, c.name)
        if is_agg(node):
            raise ProgrammingError(f"aggregate functions are not allowed in {self.clause or 'this context'}",
                                   GROUPING_ERROR, position_of(node))
        if isinstance(node, exp.Window):
            raise not_supported("window function in this position", position_of(node))
        if isinstance(node, (exp.Subquery, exp.Exists)) or (
                isinstance(node, exp.In) and node.args.get("query") is not None):
            raise not_supported("subquery in this position (use it as a WHERE conjunct)",
                                position_of(node))
        return None


def bind_scalar(node: exp.Expression, scope: Scope, clause: str = "",
                special: Callable[[exp.Expression], Any] | None = None) -> Any:
    return X.fold_constants(X.bind_expr(node, Ctx(scope, special, clause=clause)))


def bind_predicate(node: exp.Expression, scope: Scope, clause: str,
                   special: Callable[[exp.Expression], Any] | None = None) -> Any:
    """A WHERE / ON / HAVING condition; as in PostgreSQL it must be boolean
    (`WHERE v` on an integer column is error 42804, not a truthiness test)."""
    bound = bind_scalar(node, scope, clause, special)
    if bound.type != T.BOOLEAN and not (
            isinstance(bound, X.Literal) and (bound.value is None or bound.untyped)):
        raise ProgrammingError(f"argument of {clause} must be type boolean, not type "
                               f"{bound.type}", "42804", position_of(node))
    return bound


class Binder:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.dependencies: list[int] = []
        self.eowc = False  # the view ends with EMIT ON WINDOW CLOSE
        self._view_depth = 0  # plain views being expanded

    # ------------------------------------------------------------- queries
    def bind_query(self, q: exp.Expression) -> tuple[LogicalNode, list[str]]:
        if q.meta.get(EOWC_META):
            self.eowc = True
        if isinstance(q, exp.Subquery):
            plan, names = self.bind_query(q.this)
            return self._order_limit(q, plan, names)
        if isinstance(q, exp.Union):
            return self._bind_union(q)
        if isinstance(q, (exp.Except, exp.Intersect)):
            raise not_supported(f"{q.key.upper()} in a streaming query", position_of(q))
        if q.args.get("with_"):
            return self.bind_query(inline_ctes(q))
        if isinstance(q, exp.Select):
            return self._bind_select(q)
        raise not_supported(f"{q.key.upper()} as a query", position_of(q))

    def _bind_union(self, q: exp.Union) -> tuple[LogicalNode, list[str]]:
        left, names = self.bind_query(q.this)
        right, right_names = self.bind_query(q.expression)
        if is_by_name(q):
            lpos, rpos = corresponding_positions(q, names, right_names)
            left, right = _pick_columns(left, lpos), _pick_columns(right, rpos)
            names = [names[i] for i in lpos]
        ls, rs = left.schema, right.schema
        if len(ls) != len(rs):
            raise ProgrammingError("each UNION query must have the same number of columns",
                                   "42601", position_of(q))
        types = []
        for a, b in zip(ls, rs):
            t = T.common_supertype(a.type, b.type)
            if t is None:
                raise ProgrammingError(f"UNION types {a.type} and {b.type} cannot be matched",
                                       "42804", position_of(q))
            types.append(t)
        inputs = []
        for plan in (left, right):
            sch = plan.schema
            if any(f.type != t for f, t in zip(sch, types)):
                exprs = [X.cast(X.InputRef(i, f.type, f.name), t) for i, (f, t) in
                         enumerate(zip(sch, types))]
                plan = LogicalProject(plan, exprs, [f.name for f in sch])
            inputs.append(plan)
        # Flatten nested UNION ALLs into one node.
        flat: list[LogicalNode] = []
        for plan in inputs:
            flat.extend(plan.inputs_ if isinstance(plan, LogicalUnion) else [plan])
        out: LogicalNode = LogicalUnion(flat)
        if q.args.get("distinct"):
            out = LogicalDistinct(out)
        if not isinstance(out, LogicalUnion) or True:
            out = LogicalProject(out, [X.InputRef(i, t, n) for i, (n, t) in
                                       enumerate(zip(names, types))], names)
        return self._order_limit(q, out, names)

    def _order_limit(self, q: exp.Expression, plan: LogicalNode,
                     names: list[str]) -> tuple[LogicalNode, list[str]]:
        """ORDER BY / LIMIT / OFFSET on a union or parenthesized query (by output column)."""
        limit, offset = self._limit_offset(q)
        order = q.args.get("order")
        if limit is None and not offset:
            return plan, names
        scope = Scope.of(plan, None)
        keys = []
        for o in (order.expressions if order else []):
            keys.append(self._order_key(o, scope, names, plan, None))
        return self._top_n(plan, keys, limit, offset), names

    def _limit_offset(self, q: exp.Expression) -> tuple[int | None, int]:
        limit = offset = None
        if q.args.get("limit") is not None:
            node = q.args["limit"].expression
            limit = self._const_int(node, "LIMIT")
        if q.args.get("offset") is not None:
            offset = self._const_int(q.args["offset"].expression, "OFFSET")
        return limit, offset or 0

    def _const_int(self, node: exp.Expression, what: str) -> int:
        try:
            value = X.eval_const(X.bind_expr(node, Ctx(Scope([]))))
        except ProgrammingError:
            raise not_supported(f"non-constant {what}", position_of(node)) from None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ProgrammingError(f"{what} must be a non-negative integer", "22023",
                                   position_of(node))
        return value

    def _order_key(self, o: exp.Expression, scope: Scope, names: list[str],
                   plan: LogicalNode, extra: list[Any] | None) -> tuple[int, bool, bool]:
        desc = bool(o.args.get("desc")) if isinstance(o, exp.Ordered) else False
        nulls_first = o.args.get("nulls_first") if isinstance(o, exp.Ordered) else None
        if nulls_first is None or (isinstance(o, exp.Ordered) and "nulls_first" not in o.args):
            nulls_first = desc
        # sqlglot sets nulls_first=False by default for ASC; PostgreSQL's default is
        # NULLS LAST for ASC and NULLS FIRST for DESC.
        if isinstance(o, exp.Ordered) and not o.args.get("desc") and o.args.get("nulls_first") is False:
            nulls_first = False
        if isinstance(o, exp.Ordered) and o.args.get("desc") and not _explicit_nulls(o):
            nulls_first = True
        node = o.this if isinstance(o, exp.Ordered) else o
        if isinstance(node, exp.Literal) and not node.is_string:
            k = int(node.this)
            if not 1 <= k <= len(names):
                raise ProgrammingError(f"ORDER BY position {k} is not in select list", "42P10",
                                       position_of(node))
            return k - 1, desc, bool(nulls_first)
        if isinstance(node, exp.Column) and not node.table and node.name in names:
            return names.index(node.name), desc, bool(nulls_first)
        bound = bind_scalar(node, scope, "ORDER BY")
        if isinstance(bound, X.InputRef):
            return bound.index, desc, bool(nulls_first)
        if extra is None:
            raise not_supported("ORDER BY expression that is not an output column",
                                position_of(node))
        extra.append(bound)
        return -len(extra), desc, bool(nulls_first)

    def _top_n(self, plan: LogicalNode, keys: list[tuple[int, bool, bool]], limit: int | None,
               offset: int) -> LogicalNode:
        if not keys:
            # LIMIT without ORDER BY picks any rows; choose a deterministic order.
            keys = [(i, False, False) for i in range(len(plan.schema))]
        return LogicalTopN(plan, keys, limit, offset)

    # ------------------------------------------------------------- SELECT
    def _bind_select(self, sel: exp.Select) -> tuple[LogicalNode, list[str]]:
        where = sel.args.get("where")
        conj = conjuncts(where.this if where is not None else None)
        temporal = [c for c in conj if temporal_conjunct(c) is not None]
        plain = [c for c in conj if not _is_subquery_predicate(c) and c not in temporal]
        subq = [c for c in conj if _is_subquery_predicate(c)]
        plan, scope, rest = self._bind_from(sel, plain)
        for c in temporal:
            plan = self._temporal_filter(c, plan, scope)
        for c in subq:
            plan = self._bind_subquery_predicate(c, plan, scope)
        if rest:
            preds = [bind_predicate(c, scope, "WHERE") for c in rest]
            plan = LogicalFilter(plan, _and_all(preds))
        items = self._expand_stars(sel.expressions, scope)
        if sel.args.get("group") is not None or sel.args.get("having") is not None or any(
                _contains_agg(e) for e in items):
            plan, scope, special = self._bind_aggregate(sel, items, plan, scope)
        else:
            special = None
        windows = [e for e in items if _window_of(e) is not None]
        if needs_over_window(items):
            plan, special = bind_over_window(items, plan, scope, special, bind_scalar,
                                             output_name, _explicit_nulls)
        elif windows:
            plan, scope, special = self._bind_row_number(items, plan, scope, special)
        names = [output_name(e) for e in items]
        exprs = [bind_scalar(e.this if isinstance(e, exp.Alias) else e, scope, "SELECT",
                             special) for e in items]
        distinct = sel.args.get("distinct") is not None
        if distinct and sel.args["distinct"].args.get("on") is not None:
            raise not_supported("DISTINCT ON in a materialized view",
                                position_of(sel.args["distinct"]))
        limit, offset = self._limit_offset(sel)
        order = sel.args.get("order")
        keys: list[tuple[int, bool, bool]] = []
        extra: list[Any] = []
        if order is not None and (limit is not None or offset):
            out_scope = Scope([ScopeColumn(None, n, i, e.type) for i, (n, e) in
                               enumerate(zip(names, exprs))])
            for o in order.expressions:
                node = o.this if isinstance(o, exp.Ordered) else o
                try:
                    k = self._order_key(o, out_scope, names, plan, None)
                except ProgrammingError:
                    if distinct:
                        raise
                    bound = bind_scalar(node, scope, "ORDER BY", special)
                    extra.append(bound)
                    # the helper call below only computes the direction flags
                    flags = o.copy() if isinstance(o, exp.Ordered) else exp.Ordered()
                    flags.set("this", exp.column("_order"))
                    k = (len(exprs) + len(extra) - 1, *self._order_key(
                        flags, Scope([ScopeColumn(None, "_order", 0, bound.type)]), ["_order"],
                        plan, None)[1:])
                keys.append(k)
        plan = LogicalProject(plan, exprs + extra, names + [f"_order{i}" for i in range(len(extra))])
        if distinct:
            plan = LogicalDistinct(plan)
        if limit is not None or offset:
            plan = self._top_n(plan, keys, limit, offset)
            if extra:
                plan = LogicalProject(plan, [X.InputRef(i, e.type, n) for i, (n, e) in
                                             enumerate(zip(names, exprs))], names)
        return plan, names

    def _expand_stars(self, items: list[exp.Expression], scope: Scope) -> list[exp.Expression]:
        out: list[exp.Expression] = []
        for e in items:
            if isinstance(e, exp.Star):
                out.extend(_col(c) for c in scope.columns)
            elif isinstance(e, exp.Column) and isinstance(e.this, exp.Star):
                cols = [c for c in scope.columns if c.table == e.table]
                if not cols:
                    raise ProgrammingError(f'missing FROM-clause entry for table "{e.table}"',
                                           "42P01", position_of(e))
                out.extend(_col(c) for c in cols)
            else:
                out.append(e)
        return out

    # ------------------------------------------------------------- FROM / joins
    def _bind_from(self, sel: exp.Select, where: list[exp.Expression]
                   ) -> tuple[LogicalNode, Scope, list[exp.Expression]]:
        """Plan FROM and JOINs; consume WHERE conjuncts usable as join keys or as
        filters pushed below the joins. Returns the conjuncts left over."""
        from_ = sel.args.get("from_")
        if from_ is None:
            if sel.args.get("joins"):
                raise not_supported("JOIN without FROM", position_of(sel))
            return LogicalValues([()], []), Scope([]), list(where)
        items: list[tuple[LogicalNode, str | None]] = [self._bind_item(from_.this)]
        joins = sel.args.get("joins") or []
        if joins and is_temporal(from_.this):
            raise not_supported("FOR SYSTEM_TIME AS OF PROCTIME() on the left side of a join "
                                "(a temporal join looks up its right side)",
                                position_of(from_.this))
        kinds: list[str] = []
        ons: list[exp.Expression | None] = []
        usings: list[list[str]] = []
        for j in joins:
            side = (j.args.get("side") or "").upper()
            kind = (j.args.get("kind") or "").upper()
            usings.append([u.name for u in j.args.get("using") or []])
            if kind in ("SEMI", "ANTI") or j.args.get("method"):
                raise not_supported(f"{kind or j.args.get('method')} JOIN", position_of(j))
            items.append(self._bind_item(j.this))
            kinds.append({"LEFT": "left", "RIGHT": "right", "FULL": "full"}.get(side, "inner"))
            ons.append(j.args.get("on"))
        if any(usings):
            ons = apply_using(sel, [a for _, a in items],
                              [[c.name for c in Scope.of(p, a).columns] for p, a in items],
                              kinds, ons, usings)
        offsets = [0]
        for plan, _ in items:
            offsets.append(offsets[-1] + len(plan.schema))
        full = Scope([])
        for (plan, alias), off in zip(items, offsets):
            full = full + Scope.of(plan, alias, off)
        outer = any(k != "inner" for k in kinds)
        # Which items each WHERE conjunct reads.
        pending: list[tuple[exp.Expression, set[int]]] = []
        for c in where:
            refs = bind_predicate(c, full, "WHERE").input_refs()
            pending.append((c, {_item_of(r, offsets) for r in refs}))
        # Push single-item conjuncts below the joins (only when no outer join could
        # turn the pushed filter into a wrong answer).
        plans = [p for p, _ in items]
        if not outer:
            keep = []
            for c, its in pending:
                if len(its) == 1:
                    i = next(iter(its))
                    pred = bind_scalar(c, Scope.of(plans[i], items[i][1]), "WHERE")
                    plans[i] = _add_filter(plans[i], pred)
                else:
                    keep.append((c, its))
            pending = keep
        acc = plans[0]
        for k in range(1, len(items)):
            scope_k = full.columns[:offsets[k + 1]]
            conds = conjuncts(ons[k - 1]) if ons[k - 1] is not None else []
            if kinds[k - 1] == "inner":
                usable = [c for c, its in pending if its and max(its) == k]
                pending = [(c, its) for c, its in pending if not (its and max(its) == k)]
                conds = conds + usable
            acc = self._join(acc, plans[k], kinds[k - 1], conds, Scope(scope_k), offsets[k])
            if is_temporal(joins[k - 1].this):
                acc = mark_temporal(acc, joins[k - 1])
        return acc, full, [c for c, _ in pending]

    def _bind_item(self, node: exp.Expression) -> tuple[LogicalNode, str | None]:
        if isinstance(node, exp.Table):
            if isinstance(node.this, exp.Anonymous) and str(node.this.this).upper() in (
                    "TUMBLE", "HOP"):
                return self._bind_window(node)
            if isinstance(node.this, exp.Anonymous) or node.args.get("this") is None:
                raise not_supported("table function in FROM", position_of(node))
            name = node.name
            db = node.db
            if db and db not in ("public", "sys", "pg_catalog"):
                raise ProgrammingError(f'schema "{db}" does not exist', "3F000",
                                       position_of(node))
            rel = self.catalog.get(f"{db}.{name}" if db == "sys" else name)
            if rel is None:
                raise ProgrammingError(f'relation "{name}" does not exist', "42P01",
                                       position_of(node))
            if rel.kind == SYSTEM_TABLE:
                raise not_supported("a streaming view over a system table", position_of(node))
            if rel.kind == VIEW:
                return self._bind_plain_view(node, rel)
            if rel.kind == SINK:
                raise ProgrammingError(f'"{name}" is a sink, it holds no rows to read',
                                       "42809", position_of(node))
            check_system_time(node, rel)
            self.dependencies.append(rel.id)
            alias = node.alias_or_name
            cols = [i for i, c in enumerate(rel.columns) if not c.hidden]
            return LogicalScan(rel, cols), alias
        if isinstance(node, exp.Subquery):
            plan, names = self.bind_query(node.this)
            plan = _rename(plan, names)
            return plan, node.alias or None
        raise not_supported(f"{node.key} in FROM", position_of(node))

    def _bind_plain_view(self, node: exp.Table, rel: Relation) -> tuple[LogicalNode, str | None]:
        """A plain view read in a streaming query: its query planned in place."""
        from planner.views import subquery_for
        if self._view_depth > 32:
            raise ProgrammingError("infinite recursion detected in rules for a view", "42P17")
        self.dependencies.append(rel.id)
        self._view_depth += 1
        try:
            plan, _ = self.bind_query(subquery_for(rel, node.alias_or_name).this)
        finally:
            self._view_depth -= 1
        return _rename(plan, [c.name for c in rel.visible_columns]), node.alias_or_name

    def _temporal_filter(self, c: exp.Expression, plan: LogicalNode,
                         scope: Scope) -> LogicalNode:
        """`col > now() - INTERVAL ...`: a filter whose window moves with time."""
        found = temporal_conjunct(c)
        assert found is not None
        col, delay_node, strict = found
        ref = bind_scalar(col, scope, "WHERE")
        if ref.type not in (T.TIMESTAMP, T.TIMESTAMPTZ, T.DATE):
            raise ProgrammingError(f"cannot compare {ref.type} with now()", "42883",
                                   position_of(col))
        delay = T.Interval()
        if delay_node is not None:
            value = X.eval_const(X.bind_expr(delay_node, Ctx(Scope([]))))
            if not isinstance(value, T.Interval):
                raise not_supported("now() minus anything but an interval",
                                    position_of(delay_node))
            delay = value
        window_micros(delay, "interval of a temporal filter")
        return LogicalTemporalFilter(plan, ref.index, delay, strict)

    def _bind_window(self, node: exp.Table) -> tuple[LogicalNode, str | None]:
        """TUMBLE(rel, col, size [, offset]) / HOP(rel, col, slide, size [, offset])."""
        fn = node.this
        name = str(fn.this).upper()
        args = list(fn.expressions)
        counts = (3, 4) if name == "TUMBLE" else (4, 5)
        if len(args) not in counts:
            raise ProgrammingError(f"{name} takes {counts[0]} or {counts[1]} arguments",
                                   "42883", position_of(node))
        if not isinstance(args[0], exp.Column) or args[0].table:
            raise not_supported(f"{name} over anything but a relation name", position_of(node))
        plan, alias = self._bind_item(exp.Table(this=exp.to_identifier(args[0].name)))
        tcol = bind_scalar(args[1], Scope.of(plan, alias), name)
        if not isinstance(tcol, X.InputRef) or tcol.type not in (T.TIMESTAMP, T.TIMESTAMPTZ):
            raise ProgrammingError(f"the time column of {name} must be a timestamp column",
                                   "42804", position_of(args[1]))
        ivs = []
        for a in args[2:]:
            value = X.eval_const(X.bind_expr(a, Ctx(Scope([]))))
            if not isinstance(value, T.Interval):
                raise ProgrammingError(f"{name} sizes must be intervals", "42804",
                                       position_of(a))
            ivs.append(value)
        if name == "TUMBLE":
            slide = size = ivs[0]
            offset = ivs[1] if len(ivs) > 1 else T.Interval()
        else:
            slide, size = ivs[0], ivs[1]
            offset = ivs[2] if len(ivs) > 2 else T.Interval()
        s_us, z_us = window_micros(slide, "slide"), window_micros(size, "size")
        if s_us <= 0 or z_us <= 0 or z_us % s_us:
            raise ProgrammingError("window size must be a positive multiple of the slide",
                                   "22023", position_of(node))
        window_micros(offset, "offset")
        return LogicalHopWindow(plan, tcol.index, slide, size, offset), \
            node.alias or args[0].name

    def _join(self, left: LogicalNode, right: LogicalNode, kind: str,
              conds: list[exp.Expression], scope: Scope, right_offset: int) -> LogicalNode:
        return plan_join(left, right, kind,
                         [bind_predicate(c, scope, "JOIN condition") for c in conds], right_offset)

    # ------------------------------------------------------------- subqueries
    def _bind_subquery_predicate(self, c: exp.Expression, plan: LogicalNode,
                                 scope: Scope) -> LogicalNode:
        negate = isinstance(c, exp.Not)
        node = c.this if negate else c
        width = len(plan.schema)
        if isinstance(node, exp.Exists):
            sub = node.this
            if not isinstance(sub, exp.Select):
                raise not_supported("EXISTS over a set operation", position_of(node))
            inner_where = sub.args.get("where")
            sub_conj = conjuncts(inner_where.this if inner_where is not None else None)
            stripped = sub.copy()
            stripped.set("where", None)
            if stripped.args.get("group") or any(_contains_agg(e) for e in stripped.expressions):
                raise not_supported("EXISTS over an aggregate subquery", position_of(node))
            stripped.set("expressions", [exp.Literal.number(1)])
            stripped.set("order", None)
            inner, inner_scope, leftover = self._bind_from(stripped, [])
            local, correlated = [], []
            for sc in sub_conj:
                try:
                    local.append(bind_scalar(sc, inner_scope, "WHERE"))
                except ProgrammingError as e:
                    if e.sqlstate not in (UNDEFINED_COLUMN, "42P01"):
                        raise
                    correlated.append(sc)
            if local:
                inner = LogicalFilter(inner, _and_all(local))
            both = scope + inner_scope.shifted(width)
            both = Scope([c2 for c2 in scope.columns] + inner_scope.shifted(width).columns)
            # Prefer inner columns for unqualified names (SQL scoping: innermost first).
            both = Scope(inner_scope.shifted(width).columns + scope.columns)
            join = self._join(plan, inner, "anti" if negate else "semi", correlated, both, width)
            return join
        if isinstance(node, exp.In):
            sub = node.args["query"]
            if isinstance(node.this, exp.Tuple):
                raise not_supported("a row value IN (subquery)", position_of(node))
            inner, names = self.bind_query(sub.this if isinstance(sub, exp.Subquery) else sub)
            if len(inner.schema) != 1:
                raise ProgrammingError("subquery has too many columns", "42601",
                                       position_of(sub))
            lhs = bind_scalar(node.this, scope, "WHERE")
            rtype = inner.schema[0].type
            t = T.common_supertype(lhs.type, rtype) or rtype
            if isinstance(lhs, X.InputRef) and lhs.type == t:
                return LogicalJoin(plan, inner, "anti" if negate else "semi", [lhs.index], [0],
                                   None, null_aware=negate)
            eq = X.bind_expr(exp.EQ(this=exp.Column(this=exp.to_identifier("_l")),
                                    expression=exp.Column(this=exp.to_identifier("_r"))),
                             _FixedCtx({"_l": lhs, "_r": X.InputRef(width, rtype, names[0])}))
            if negate:
                raise not_supported("NOT IN over an expression", position_of(node))
            return LogicalJoin(plan, inner, "semi", [], [], eq)
        raise not_supported("this subquery predicate", position_of(c))

    # ------------------------------------------------------------- aggregation
    def _bind_aggregate(self, sel: exp.Select, items: list[exp.Expression],
                        plan: LogicalNode, scope: Scope):
        group = sel.args.get("group")
        group_nodes: list[exp.Expression] = []
        for g in (group.expressions if group is not None else []):
            if isinstance(g, exp.Literal) and not g.is_string:
                k = int(g.this)
                if not 1 <= k <= len(items):
                    raise ProgrammingError(f"GROUP BY position {k} is not in select list",
                                           "42P10", position_of(g))
                g = items[k - 1]
                g = g.this if isinstance(g, exp.Alias) else g
            elif isinstance(g, exp.Column) and not g.table and scope.lookup(g) is None:
                aliased = [e.this for e in items if isinstance(e, exp.Alias) and e.alias == g.name]
                if aliased:
                    g = aliased[0]
            group_nodes.append(g)
        if group is not None and (group.args.get("rollup") or group.args.get("cube")
                                  or group.args.get("grouping_sets")):
            raise not_supported("ROLLUP / CUBE / GROUPING SETS", position_of(group))
        group_exprs = [bind_scalar(g, scope, "GROUP BY") for g in group_nodes]
        pre: list[Any] = list(group_exprs)
        pre_names = [output_name(g) for g in group_nodes]
        calls: list[AggCall] = []
        call_nodes: list[exp.Expression] = []
        having = sel.args.get("having")
        order = sel.args.get("order")
        sources = list(items) + ([having.this] if having is not None else []) + (
            [o for o in order.expressions] if order is not None else [])
        for src in sources:
            for node in _find_aggs(src):
                if any(node == n for n in call_nodes):
                    continue
                calls.append(self._agg_call(node, scope, pre, pre_names))
                call_nodes.append(node)
        g = len(group_exprs)
        agg = LogicalAgg(LogicalProject(plan, pre, pre_names), list(range(g)), calls,
                         [output_name(n) for n in call_nodes])
        if self.eowc:
            agg = self._eowc_agg(agg, group_exprs, group)
        group_sql = [e.to_sql() for e in group_exprs]

        def special(node: exp.Expression) -> Any:
            for j, n in enumerate(call_nodes):
                if node == n:
                    return X.InputRef(g + j, calls[j].result_type, output_name(n))
            if isinstance(node, (exp.Literal, exp.Null, exp.Boolean)):
                return None
            try:
                bound = bind_scalar(node, scope, "GROUP BY")
            except ProgrammingError:
                return None
            sql = bound.to_sql()
            for i, gs in enumerate(group_sql):
                if sql == gs:
                    return X.InputRef(i, group_exprs[i].type, pre_names[i])
            if isinstance(node, exp.Column):
                raise ProgrammingError(
                    f'column "{node.sql()}" must appear in the GROUP BY clause or be used in '
                    f"an aggregate function", GROUPING_ERROR, position_of(node))
            return None

        out_scope = Scope([])
        result: LogicalNode = agg
        if having is not None:
            pred = bind_predicate(having.this, out_scope, "HAVING", special)
            result = LogicalFilter(result, pred)
        return result, out_scope, special

    def _eowc_agg(self, agg: LogicalAgg, group_exprs: list[Any],
                  group: exp.Expression | None) -> LogicalAgg:
        """EMIT ON WINDOW CLOSE: the group key must hold a window column, whose
        watermark closes groups."""
        for i, e in enumerate(group_exprs):
            if isinstance(e, X.InputRef) and e.name in ("window_start", "window_end"):
                return LogicalEowcAgg(agg.input, agg.group_key, agg.calls, agg.call_names, i)
        raise not_supported("EMIT ON WINDOW CLOSE without GROUP BY window_start or window_end",
                            position_of(group))

    def _agg_call(self, node: exp.Expression, scope: Scope, pre: list[Any],
                  pre_names: list[str]) -> AggCall:
        filter_col = None
        if isinstance(node, exp.Filter):
            cond = node.expression.this if isinstance(node.expression, exp.Where) else node.expression
            pre.append(bind_scalar(cond, scope, "FILTER"))
            pre_names.append("_filter")
            filter_col = len(pre) - 1
            node = node.this
        kind = AGG_CLASSES.get(type(node))
        if kind is None:
            raise not_supported(f"aggregate function {node.sql_name().lower()}",
                                position_of(node))
        arg_node = node.this
        distinct = False
        if isinstance(arg_node, exp.Distinct):
            distinct = True
            if len(arg_node.expressions) != 1:
                raise not_supported("DISTINCT over several arguments", position_of(node))
            arg_node = arg_node.expressions[0]
        order_by: tuple[tuple[int, bool], ...] = ()
        if isinstance(arg_node, exp.Order):
            keys = []
            for o in arg_node.expressions:
                pre.append(bind_scalar(o.this, scope, "aggregate ORDER BY"))
                pre_names.append("_order")
                keys.append((len(pre) - 1, bool(o.args.get("desc"))))
            order_by = tuple(keys)
            arg_node = arg_node.this
        if kind == "count" and (arg_node is None or isinstance(arg_node, exp.Star)):
            return AggCall("count_star", None, T.INT64, filter_col=filter_col)
        arg = bind_scalar(arg_node, scope, "aggregate argument")
        if kind in ("bool_and", "bool_or") and arg.type != T.BOOLEAN:
            raise ProgrammingError(f"function {kind}({arg.type}) does not exist", "42883",
                                   position_of(node))
        if kind in ("sum", "avg") and not arg.type.is_numeric and arg.type != T.INTERVAL:
            raise ProgrammingError(f"function {kind}({arg.type}) does not exist", "42883",
                                   position_of(node))
        pre.append(arg)
        pre_names.append(output_name(arg_node))
        arg_idx = len(pre) - 1
        sep = None
        if kind == "string_agg":
            if arg.type != T.VARCHAR:
                pre[arg_idx] = X.cast(arg, T.VARCHAR)
            sep_node = node.args.get("separator")
            pre.append(bind_scalar(sep_node, scope) if sep_node is not None
                       else X.Literal(",", T.VARCHAR))
            pre_names.append("_sep")
            sep = len(pre) - 1
        result_type = X.agg_result_type(kind, pre[arg_idx].type)
        arg_type = pre[arg_idx].type
        if kind in ("sum", "min", "max") and arg_type.name == "numeric" and \
                arg_type.scale is not None:
            # PostgreSQL keeps the input's scale in sum/min/max of numeric.
            result_type = T.numeric(38, arg_type.scale)
        return AggCall(kind, arg_idx, result_type, distinct, sep, order_by, filter_col)

    # ------------------------------------------------------------- row_number()
    def _bind_row_number(self, items, plan, scope, special):
        """row_number() OVER (PARTITION BY p ORDER BY o) becomes a group top-N without
        a limit; a filter `rn <= n` above it later sets the limit."""
        wins = [(i, _window_of(e)) for i, e in enumerate(items) if _window_of(e) is not None]
        if len(wins) > 1:
            raise not_supported("several window functions in one SELECT", position_of(wins[1][1]))
        idx, win = wins[0]
        fn = win.this
        if not (isinstance(fn, exp.RowNumber) or (isinstance(fn, exp.Anonymous)
                                                  and str(fn.this).lower() == "row_number")):
            raise not_supported(f"window function {fn.sql()}", position_of(win))
        if win.args.get("spec") is not None:
            raise not_supported("window frame clause", position_of(win))
        others = [e for i, e in enumerate(items) if i != idx]
        base = [bind_scalar(e.this if isinstance(e, exp.Alias) else e, scope, "SELECT", special)
                for e in others]
        part = [bind_scalar(p, scope, "PARTITION BY", special)
                for p in (win.args.get("partition_by") or [])]
        order = win.args.get("order")
        ords = []
        exprs = list(base)
        for p in part:
            exprs.append(p)
        part_idx = list(range(len(base), len(base) + len(part)))
        for o in (order.expressions if order is not None else []):
            b = bind_scalar(o.this, scope, "ORDER BY", special)
            exprs.append(b)
            desc = bool(o.args.get("desc"))
            nf = o.args.get("nulls_first")
            nulls_first = desc if not _explicit_nulls(o) else bool(nf)
            ords.append((len(exprs) - 1, desc, nulls_first))
        names = [output_name(e) for e in others] + [f"_p{i}" for i in range(len(part))] + [
            f"_o{i}" for i in range(len(ords))]
        rn_name = output_name(items[idx])
        proj = LogicalProject(plan, exprs, names)
        top = LogicalTopN(proj, ords or [(i, False, False) for i in range(len(exprs))], None, 0,
                          part_idx, True, rn_name)
        # The SELECT list is re-bound over the top-N output: others by position, the
        # window function by the row-number column.
        sch = top.schema
        rn_ref = X.InputRef(len(exprs), T.INT64, rn_name)
        positions = {id(e): i for i, e in enumerate(others)}

        def special2(node: exp.Expression) -> Any:
            if node is items[idx] or node is win or node is _strip_alias(items[idx]):
                return rn_ref
            for e in others:
                if node is e or node is _strip_alias(e):
                    i = positions[id(e)]
                    return X.InputRef(i, sch[i].type, sch[i].name)
            return None

        return top, Scope([]), special2


from planner.binder_helpers import (  # noqa: E402
    AGG_CLASSES,
    conjuncts,
    is_agg,
    output_name,
    _FixedCtx,
    _explicit_nulls,
    _strip_alias,
    _window_of,
    _col,
    _rename,
    _item_of,
    _add_filter,
    _and_all,
    _is_subquery_predicate,
    _contains_agg,
    _find_aggs)

__all__ = ["Binder", "Scope", "position_of", "Field"]


def _pick_columns(plan: LogicalNode, positions: list[int]) -> LogicalNode:
    """`plan`'s columns at `positions`, in that order."""
    sch = plan.schema
    return LogicalProject(plan, [X.InputRef(i, sch[i].type, sch[i].name) for i in positions],
                          [sch[i].name for i in positions])
