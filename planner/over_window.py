"""Window functions in a SELECT list (`f(...) OVER (PARTITION BY ... ORDER BY ... frame)`)
other than the lone row_number() that becomes a group top-N: LogicalOverWindow appends
one column per window function to its input's rows.

Functions: row_number, rank, dense_rank, lag/lead(x [, n]) and the aggregates count,
sum, avg, min, max over a frame. Frames: ROWS BETWEEN {UNBOUNDED | n} PRECEDING |
CURRENT ROW | n FOLLOWING AND ... , and RANGE BETWEEN UNBOUNDED PRECEDING AND
{CURRENT ROW | UNBOUNDED FOLLOWING} (the default with ORDER BY: up to the current row's
last peer; without ORDER BY: the whole partition). Window functions with different
PARTITION BY / ORDER BY become a chain of over-window nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sqlglot import exp

from planner import expressions as X
from planner import types as T
from planner.errors import ProgrammingError, not_supported
from planner.expressions.binder import position_of
from planner.logical import Field, LogicalNode, LogicalProject

RANKING = ("row_number", "rank", "dense_rank")
OFFSET = ("lag", "lead")
_AGG_CLASSES = {exp.Count: "count", exp.Sum: "sum", exp.Avg: "avg", exp.Min: "min",
                exp.Max: "max"}


@dataclass(frozen=True)
class WindowCall:
    """One window function. `arg` is an input column (None for count(*) and ranking);
    `frame` is (mode, start, end): mode "rows" with offsets relative to the current row
    (None = unbounded), or "range" with start None and end 0 (the current row's last
    peer) or None. `offset` is lag/lead's distance."""

    kind: str
    arg: int | None
    result_type: T.DataType
    frame: tuple[str, int | None, int | None] = ("range", None, 0)
    offset: int = 1

    def __str__(self) -> str:
        arg = "" if self.arg is None else f"${self.arg}"
        mode, start, end = self.frame
        return f"{self.kind}({arg}) {mode}[{start}, {end}]"


@dataclass
class LogicalOverWindow:
    input: LogicalNode
    partition: list[int]
    order: list[tuple[int, bool, bool]]  # (column, descending, nulls_first)
    calls: list[WindowCall]
    names: list[str]

    @property
    def schema(self) -> list[Field]:
        return self.input.schema + [Field(n, c.result_type)
                                    for n, c in zip(self.names, self.calls)]

    @property
    def inputs(self) -> list[LogicalNode]:
        return [self.input]


def window_nodes(items: list[exp.Expression]) -> list[exp.Window]:
    """Every window function in the SELECT list, nested ones too (not in subqueries)."""
    out: list[exp.Window] = []
    for item in items:
        stack = [item]
        while stack:
            node = stack.pop()
            if isinstance(node, (exp.Subquery, exp.Select)):
                continue
            if isinstance(node, exp.Window):
                out.append(node)
                continue
            stack.extend(reversed(list(node.iter_expressions())))
    return out


def needs_over_window(items: list[exp.Expression]) -> bool:
    """Window functions other than one top-level row_number() without a frame (which
    is planned as a group top-N instead)."""
    wins = window_nodes(items)
    if not wins:
        return False
    top = [i.this if isinstance(i, exp.Alias) else i for i in items]
    fn = wins[0].this
    plain = len(wins) == 1 and any(t is wins[0] for t in top) and \
        wins[0].args.get("spec") is None and (
            isinstance(fn, exp.RowNumber) or (isinstance(fn, exp.Anonymous) and
                                              str(fn.this).lower() == "row_number"))
    return not plain


def _function(fn: exp.Expression) -> tuple[str, exp.Expression | None, exp.Expression | None]:
    """(kind, argument, lag/lead offset) of a window function node."""
    if isinstance(fn, exp.RowNumber):
        return "row_number", None, None
    if isinstance(fn, (exp.Rank, exp.DenseRank)):
        if fn.expressions:
            raise not_supported(f"{fn.sql_name().lower()} with arguments", position_of(fn))
        return ("rank" if isinstance(fn, exp.Rank) else "dense_rank"), None, None
    if isinstance(fn, exp.Anonymous) and str(fn.this).lower() in RANKING:
        if fn.expressions:
            raise not_supported(f"{fn.this} with arguments", position_of(fn))
        return str(fn.this).lower(), None, None
    if isinstance(fn, (exp.Lag, exp.Lead)):
        if fn.args.get("default") is not None:
            raise not_supported("lag/lead with a default", position_of(fn))
        return ("lag" if isinstance(fn, exp.Lag) else "lead"), fn.this, fn.args.get("offset")
    kind = _AGG_CLASSES.get(type(fn))
    if kind is None:
        raise not_supported(f"window function {fn.sql(dialect='postgres')}", position_of(fn))
    arg = fn.this
    if isinstance(arg, exp.Distinct):
        raise not_supported("DISTINCT in a window function", position_of(fn))
    if kind == "count" and (arg is None or isinstance(arg, exp.Star)):
        return "count_star", None, None
    return kind, arg, None


def _bound(value: Any, side: Any, pos: int | None) -> int | None:
    """A frame bound as an offset from the current row (None: unbounded)."""
    side = str(side or "").upper()
    text = value.sql() if isinstance(value, exp.Expression) else str(value)
    if text.upper() == "UNBOUNDED":
        return None
    if text.upper() == "CURRENT ROW":
        return 0
    if not text.isdigit():
        raise not_supported(f"window frame bound {text} {side}", pos)
    return -int(text) if side == "PRECEDING" else int(text)


def _frame(win: exp.Window, has_order: bool) -> tuple[str, int | None, int | None]:
    spec = win.args.get("spec")
    pos = position_of(win)
    if spec is None:
        return ("range", None, 0) if has_order else ("range", None, None)
    mode = str(spec.args.get("kind") or "").lower()
    start = _bound(spec.args.get("start"), spec.args.get("start_side"), pos)
    end_node = spec.args.get("end")
    end = 0 if end_node is None else _bound(end_node, spec.args.get("end_side"), pos)
    if spec.args.get("exclude") is not None:
        raise not_supported("window frame EXCLUDE", pos)
    if mode == "rows":
        if start is not None and end is not None and start > end:
            raise ProgrammingError("frame starting from following row cannot end with "
                                   "current row", "42P20", pos)
        return "rows", start, end
    if mode == "range" and start is None and end in (0, None):
        return "range", None, end if has_order else None
    raise not_supported(f"window frame {spec.sql(dialect='postgres')}", pos)


def bind_over_window(items: list[exp.Expression], plan: LogicalNode, scope: Any,
                     special: Any, bind: Callable[..., Any],
                     output_name: Callable[[exp.Expression], str],
                     explicit_nulls: Callable[[exp.Expression], bool]
                     ) -> tuple[LogicalNode, Callable[[exp.Expression], Any]]:
    """The plan with the window columns appended (one LogicalOverWindow per distinct
    PARTITION BY / ORDER BY), and a resolver for the window functions' columns.

    Below the windows a projection keeps the input's columns first, in place, so the
    scope (and `special`, for aggregates) still binds the rest of the SELECT list over
    the result: `x - lag(x) OVER (...)` works as well as a window function alone."""
    wins = window_nodes(items)
    width = len(plan.schema)
    exprs: list[Any] = [X.InputRef(i, f.type, f.name) for i, f in enumerate(plan.schema)]
    names = [f.name for f in plan.schema]

    def add(e: Any, name: str) -> int:
        exprs.append(e)
        names.append(name)
        return len(exprs) - 1
    # Windows grouped by their PARTITION BY / ORDER BY, in order of first appearance.
    shapes: dict[str, list[exp.Window]] = {}
    for w in wins:
        order_node = w.args.get("order")
        shape = repr(([p.sql() for p in w.args.get("partition_by") or []],
                      order_node.sql() if order_node is not None else None))
        shapes.setdefault(shape, []).append(w)
    groups = []
    for members in shapes.values():
        first = members[0]
        part = [add(bind(p, scope, "PARTITION BY", special), f"_p{len(exprs)}")
                for p in first.args.get("partition_by") or []]
        order = []
        order_node = first.args.get("order")
        for o in order_node.expressions if order_node is not None else []:
            col = add(bind(o.this, scope, "ORDER BY", special), f"_o{len(exprs)}")
            desc = bool(o.args.get("desc"))
            nulls_first = desc if not explicit_nulls(o) else bool(o.args.get("nulls_first"))
            order.append((col, desc, nulls_first))
        calls = [_call(w, bool(order), exprs, add, bind, scope, special) for w in members]
        groups.append((members, part, order, calls))
    node: LogicalNode = plan if len(exprs) == width else LogicalProject(plan, exprs, names)
    column: dict[int, int] = {}  # id(window node) -> its column
    for members, part, order, calls in groups:
        at = len(node.schema)
        node = LogicalOverWindow(node, part, order, calls, [output_name(w) for w in members])
        for k, w in enumerate(members):
            column[id(w)] = at + k
    sch = node.schema

    def resolve(n: exp.Expression) -> Any:
        c = column.get(id(n))
        if c is not None:
            return X.InputRef(c, sch[c].type, sch[c].name)
        return special(n) if special is not None else None
    return node, resolve


def _call(w: exp.Window, has_order: bool, exprs: list[Any], add: Callable[[Any, str], int],
          bind: Callable[..., Any], scope: Any, special: Any) -> WindowCall:
    kind, arg_node, off_node = _function(w.this)
    arg = None
    if arg_node is not None:
        arg = add(bind(arg_node, scope, "window function argument", special), "_arg")
    offset = 1
    if off_node is not None:
        value = X.eval_const(bind(off_node, scope, "lag/lead offset"))
        if not isinstance(value, int) or value < 0:
            raise not_supported("a lag/lead offset other than a constant >= 0",
                                position_of(off_node))
        offset = value
    arg_type = exprs[arg].type if arg is not None else None
    if kind in ("sum", "avg") and not (arg_type is not None and arg_type.is_numeric):
        raise ProgrammingError(f"function {kind}({arg_type}) does not exist", "42883",
                               position_of(w))
    if kind in RANKING:
        rtype = T.INT64
    elif kind in OFFSET:
        rtype = arg_type or T.VARCHAR
    else:
        rtype = X.agg_result_type(kind, arg_type)
    return WindowCall(kind, arg, rtype, _frame(w, has_order), offset)
