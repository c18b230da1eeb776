"""Logical plan nodes: what a query computes, independent of how it runs.

Every node has a `schema` (output fields, in order). Column references in a
node's expressions are positions in its input's schema (for joins: the left
schema followed by the right one).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Union

from planner.aggregates import AggCall
from planner.catalog import Relation
from planner.types import BOOLEAN, INT64, DataType


@dataclass(frozen=True)
class Field:
    name: str
    type: DataType


@dataclass
class LogicalScan:
    relation: Relation
    columns: list[int]

    @property
    def schema(self) -> list[Field]:
        return [Field(self.relation.columns[i].name, self.relation.columns[i].type)
                for i in self.columns]

    @property
    def inputs(self) -> list[LogicalNode]:
        return []


@dataclass
class LogicalProject:
    input: LogicalNode
    exprs: list[Any]  # BoundExpr
    names: list[str]

    @property
    def schema(self) -> list[Field]:
        return [Field(n, e.type) for n, e in zip(self.names, self.exprs)]

    @property
    def inputs(self) -> list[LogicalNode]:
        return [self.input]


@dataclass
class LogicalFilter:
    input: LogicalNode
    predicate: Any  # BoundExpr

    @property
    def schema(self) -> list[Field]:
        return self.input.schema

    @property
    def inputs(self) -> list[LogicalNode]:
        return [self.input]


@dataclass
class LogicalAgg:
    input: LogicalNode
    group_key: list[int]
    calls: list[AggCall]
    call_names: list[str] = field(default_factory=list)

    @property
    def schema(self) -> list[Field]:
        ins = self.input.schema
        names = self.call_names or [str(c) for c in self.calls]
        return [ins[i] for i in self.group_key] + [Field(n, c.result_type)
                                                   for n, c in zip(names, self.calls)]

    @property
    def inputs(self) -> list[LogicalNode]:
        return [self.input]


JOIN_KINDS = ("inner", "left", "right", "full", "semi", "anti")


@dataclass
class LogicalJoin:
    left: LogicalNode
    right: LogicalNode
    kind: str
    left_keys: list[int]
    right_keys: list[int]
    condition: Any = None  # BoundExpr over left + right schema, or None
    null_aware: bool = False
    # The right side is looked up as of each left row's arrival (FOR SYSTEM_TIME AS OF
    # PROCTIME()): later changes on the right do not change emitted rows.
    temporal: bool = False

    @property
    def schema(self) -> list[Field]:
        if self.kind in ("semi", "anti"):
            return self.left.schema
        return self.left.schema + self.right.schema

    @property
    def inputs(self) -> list[LogicalNode]:
        return [self.left, self.right]


@dataclass
class LogicalTopN:
    input: LogicalNode
    order: list[tuple[int, bool, bool]]  # (column, descending, nulls_first)
    limit: int | None
    offset: int = 0
    group_key: list[int] = field(default_factory=list)
    row_number: bool = False
    row_number_name: str = "row_number"

    @property
    def schema(self) -> list[Field]:
        extra = [Field(self.row_number_name, INT64)] if self.row_number else []
        return self.input.schema + extra

    @property
    def inputs(self) -> list[LogicalNode]:
        return [self.input]


@dataclass
class LogicalDistinct:
    input: LogicalNode

    @property
    def schema(self) -> list[Field]:
        return self.input.schema

    @property
    def inputs(self) -> list[LogicalNode]:
        return [self.input]


@dataclass
class LogicalUnion:
    inputs_: list[LogicalNode]

    @property
    def schema(self) -> list[Field]:
        return self.inputs_[0].schema

    @property
    def inputs(self) -> list[LogicalNode]:
        return self.inputs_


@dataclass
class LogicalValues:
    rows: list[tuple]
    fields: list[Field]

    @property
    def schema(self) -> list[Field]:
        return self.fields

    @property
    def inputs(self) -> list[LogicalNode]:
        return []


def with_inputs(node: Any, inputs: list[Any]) -> Any:
    """`node` (any logical node kind) over new inputs, in the order of `node.inputs`:
    the one way rules rebuild a tree, so that they reach below every node kind."""
    if not inputs:
        return node
    if isinstance(node, LogicalJoin):
        left, right = inputs
        return replace(node, left=left, right=right)
    if isinstance(node, LogicalUnion):
        return replace(node, inputs_=list(inputs))
    (child,) = inputs
    return replace(node, input=child)


LogicalNode = Union[LogicalScan, LogicalProject, LogicalFilter, LogicalAgg, LogicalJoin,
                    LogicalTopN, LogicalDistinct, LogicalUnion, LogicalValues]

__all__ = ["Field", "LogicalScan", "LogicalProject", "LogicalFilter", "LogicalAgg",
           "LogicalJoin", "LogicalTopN", "LogicalDistinct", "LogicalUnion", "LogicalValues",
           "LogicalNode", "JOIN_KINDS", "BOOLEAN", "with_inputs"]
