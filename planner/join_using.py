"""JOIN ... USING (c, ...): each listed column becomes an equality in the join's ON
condition, and an unqualified `c` in the query means the merged column, as in
PostgreSQL: the left one for inner and left joins, the right one for right joins,
COALESCE(left, right) for full joins."""

from __future__ import annotations

from sqlglot import exp

from planner.errors import AMBIGUOUS_COLUMN, UNDEFINED_COLUMN, ProgrammingError, not_supported


def apply_using(sel: exp.Select, aliases: list[str | None], columns: list[list[str]],
                kinds: list[str], ons: list[exp.Expression | None],
                usings: list[list[str]]) -> list[exp.Expression | None]:
    """The ON condition of every join (USING turned into equalities); rewrites the
    unqualified references to merged columns in `sel` in place.

    `aliases[i]` / `columns[i]`: the FROM item i's name and column names; join k
    (1-based) joins item k to items 0..k-1 with kind `kinds[k-1]`.

    >>> import sqlglot
    >>> sel = sqlglot.parse_one("SELECT k, b FROM l JOIN r USING (k) WHERE k > 1")
    >>> ons = apply_using(sel, ["l", "r"], [["k", "a"], ["k", "b"]], ["inner"], [None], [["k"]])
    >>> ons[0].sql(), sel.sql()
    ('l.k = r.k', 'SELECT l.k, b FROM l JOIN r USING (k) WHERE l.k > 1')
    """
    if any(isinstance(e, exp.Star) for e in sel.expressions):
        raise not_supported("SELECT * with JOIN ... USING (name the columns)")
    merged: dict[str, exp.Expression] = {}
    out = list(ons)
    for k, names in enumerate(usings, start=1):
        if not names:
            continue
        right_alias = aliases[k]
        if right_alias is None or any(a is None for a in aliases[:k]):
            raise not_supported("JOIN ... USING with a subquery that has no alias")
        conds: list[exp.Expression] = []
        for name in names:
            if name in merged:
                left = merged[name]
            else:
                owners = [a for a, cols in zip(aliases[:k], columns[:k]) if name in cols]
                if not owners:
                    raise ProgrammingError(f'column "{name}" specified in USING clause does '
                                           "not exist in left table", UNDEFINED_COLUMN)
                if len(owners) > 1:
                    raise ProgrammingError(f'common column name "{name}" appears more than '
                                           "once in left table", AMBIGUOUS_COLUMN)
                left = exp.column(name, table=owners[0])
            if name not in columns[k]:
                raise ProgrammingError(f'column "{name}" specified in USING clause does not '
                                       "exist in right table", UNDEFINED_COLUMN)
            right = exp.column(name, table=right_alias)
            conds.append(exp.EQ(this=left.copy(), expression=right.copy()))
            kind = kinds[k - 1]
            merged[name] = (left if kind in ("inner", "left") else right if kind == "right"
                            else exp.Coalesce(this=left.copy(), expressions=[right.copy()]))
        cond = conds[0]
        for c in conds[1:]:
            cond = exp.And(this=cond, expression=c)
        out[k - 1] = cond
    for col in list(sel.find_all(exp.Column)):
        if col.table or col.name not in merged or col.find_ancestor(exp.Select) is not sel:
            continue
        repl = merged[col.name].copy()
        if col.parent is sel and not isinstance(repl, exp.Column):
            repl = exp.alias_(repl, col.name)  # the output keeps the column's name
        col.replace(repl)
    return out
