"""The planning pipeline for a view: bind -> optimize -> stream plan."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from planner import plan_shape
from planner.binder import Binder
from planner.catalog import Catalog
from planner.errors import DUPLICATE_COLUMN, ProgrammingError
from planner.logical import Field
from planner.optimizer import optimize
from planner.stream_plan import StreamPlan, StreamPlanner


@dataclass
class PlannedView:
    plan: StreamPlan
    fields: list[Field]
    depends_on: list[int]


def plan_view(catalog: Catalog, query: exp.Expression, relation_id: int, name: str,
              parallelism: int, column_names: list[str] | None = None,
              shape: int = plan_shape.CURRENT) -> PlannedView:
    """`shape`: the plan shape version the view was created with (planner.plan_shape)."""
    with plan_shape.planning_shape(shape):
        return _plan_view(catalog, query, relation_id, name, parallelism, column_names)


def _plan_view(catalog: Catalog, query: exp.Expression, relation_id: int, name: str,
               parallelism: int, column_names: list[str] | None) -> PlannedView:
    binder = Binder(catalog)
    logical, names = binder.bind_query(query)
    if column_names:
        if len(column_names) != len(names):
            raise ProgrammingError("view column list does not match the query's columns",
                                   "42601")
        names = column_names
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise ProgrammingError(f'column "{n}" specified more than once', DUPLICATE_COLUMN)
        seen.add(n)
    logical = optimize(logical)
    plan = StreamPlanner(relation_id, name, max(1, parallelism)).plan(logical, names)
    return PlannedView(plan, plan.schema, list(dict.fromkeys(binder.dependencies)))


def view_query(create: exp.Expression) -> exp.Expression:
    """The query of a CREATE MATERIALIZED VIEW statement."""
    return create.expression
