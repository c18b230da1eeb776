"""FROM clause of the binder: relations, plain views, TUMBLE / HOP windows, joins,
temporal filters and subquery predicates (EXISTS / IN) of WHERE."""

from __future__ import annotations

from sqlglot import exp

from planner import expressions as X
from planner import types as T
from planner.bind_scope import Ctx, Scope, bind_predicate, bind_scalar, position_of
from planner.binder_helpers import (_FixedCtx, _add_filter, _and_all, _contains_agg, _item_of,
                                    _rename, conjuncts)
from planner.catalog import SINK, SYSTEM_TABLE, VIEW, Relation
from planner.errors import UNDEFINED_COLUMN, ProgrammingError, not_supported
from planner.join_keys import plan_join
from planner.join_using import apply_using
from planner.logical import LogicalFilter, LogicalJoin, LogicalNode, LogicalScan, LogicalValues
from planner.temporal_join import check_system_time, is_temporal, mark_temporal
from planner.window import LogicalHopWindow, LogicalTemporalFilter, temporal_conjunct, window_micros


class FromClauseBinder:
    """Binder methods planning FROM, its joins and WHERE's subquery predicates."""

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
