"""The catalog model: relations (tables, materialized views, sources, system
tables) and their columns. Persisted as JSON by the storage layer; the planner is
handed an instance and never reaches for storage itself."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from planner import types as T
from planner.errors import DUPLICATE_TABLE, UNDEFINED_TABLE, ProgrammingError

TABLE = "table"
MATERIALIZED_VIEW = "materialized view"
SOURCE = "source"
SYSTEM_TABLE = "system table"
VIEW = "view"  # a plain view: a stored query, expanded where it is read
SINK = "sink"  # writes a query's changes out; holds no rows

ROW_ID = "_row_id"


@dataclass
class ColumnDef:
    name: str
    type: T.DataType
    nullable: bool = True
    hidden: bool = False


@dataclass
class Relation:
    """A named relation. Columns include hidden ones (a table's `_row_id`);
    `pk` holds column indices of the primary key (a table without one uses its
    hidden `_row_id`). `definition` is the CREATE statement's SQL for views."""

    id: int
    name: str
    kind: str
    columns: list[ColumnDef]
    pk: list[int] = field(default_factory=list)
    definition: str | None = None
    depends_on: list[int] = field(default_factory=list)
    parallelism: int = 1
    schema: str = "public"
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The catalog key: the bare name in `public`, schema-qualified elsewhere."""
        return self.name if self.schema == "public" else f"{self.schema}.{self.name}"

    @property
    def visible_columns(self) -> list[ColumnDef]:
        return [c for c in self.columns if not c.hidden]

    def column_index(self, name: str) -> int | None:
        for i, c in enumerate(self.columns):
            if c.name == name:
                return i
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "kind": self.kind, "schema": self.schema,
            "columns": [[c.name, c.type.name, c.type.precision, c.type.scale, c.nullable,
                         c.hidden] for c in self.columns],
            "pk": self.pk, "definition": self.definition, "depends_on": self.depends_on,
            "parallelism": self.parallelism, "options": self.options,
        }

    @staticmethod
    def from_json(d: dict[str, Any]) -> Relation:
        cols = []
        for name, tname, prec, scale, nullable, hidden in d["columns"]:
            t = T.numeric(prec, scale) if tname == "numeric" else T.type_from_name(tname)
            if t is None and tname.endswith("[]"):  # an array (array_agg's result)
                base = T.type_from_name(tname[:-2])
                t = T.array_of(base) if base is not None else None
            if t is None:
                t = {"double precision": T.FLOAT64, "timestamptz": T.TIMESTAMPTZ}.get(tname, T.VARCHAR)
            cols.append(ColumnDef(name, t, nullable, hidden))
        return Relation(d["id"], d["name"], d["kind"], cols, d["pk"], d["definition"],
                        d["depends_on"], d.get("parallelism", 1), d.get("schema", "public"),
                        d.get("options", {}))


@dataclass
class ColumnInfo:
    name: str
    type: T.DataType
    nullable: bool


@dataclass
class RelationInfo:
    """What front ends (pg_catalog, the shell's completion) see of a relation."""

    id: int
    schema: str
    name: str
    kind: str
    columns: list[ColumnInfo]
    primary_key: list[str]
    definition: str | None
    # COMMENT ON texts: 0 for the relation, the 1-based visible column number for columns
    comments: dict[int, str] = field(default_factory=dict)
    # DEFAULT expressions (SQL) by 1-based visible column number
    defaults: dict[int, str] = field(default_factory=dict)


def _comments(rel: Relation) -> dict[int, str]:
    out = {0: rel.options["comment"]} if rel.options.get("comment") else {}
    by_col = rel.options.get("column_comments") or {}
    for num, c in enumerate(rel.visible_columns, start=1):
        if c.name in by_col:
            out[num] = by_col[c.name]
    return out


def _defaults(rel: Relation) -> dict[int, str]:
    by_col = rel.options.get("defaults") or {}
    return {num: by_col[c.name] for num, c in enumerate(rel.visible_columns, start=1)
            if c.name in by_col}


class Catalog:
    """Relations by name, in creation order."""

    def __init__(self) -> None:
        self.relations: dict[str, Relation] = {}
        self.next_id = 1
        self.version = 0

    def get(self, name: str) -> Relation | None:
        return self.relations.get(name.lower()) or self.relations.get(name)

    def require(self, name: str, position: int | None = None) -> Relation:
        rel = self.get(name)
        if rel is None:
            raise ProgrammingError(f'relation "{name}" does not exist', UNDEFINED_TABLE,
                                   position)
        return rel

    def by_id(self, rid: int) -> Relation | None:
        for rel in self.relations.values():
            if rel.id == rid:
                return rel
        return None

    def add(self, rel: Relation) -> None:
        if rel.key in self.relations:
            raise ProgrammingError(f'relation "{rel.name}" already exists', DUPLICATE_TABLE)
        self.relations[rel.key] = rel
        self.next_id = max(self.next_id, rel.id + 1)
        self.version += 1

    def allocate_id(self) -> int:
        rid = self.next_id
        self.next_id += 1
        return rid

    def remove(self, name: str) -> None:
        del self.relations[name]
        self.version += 1

    def dependents(self, rel: Relation) -> list[Relation]:
        return [r for r in self.relations.values() if rel.id in r.depends_on]

    def snapshot(self) -> list[RelationInfo]:
        out = []
        for rel in self.relations.values():
            out.append(RelationInfo(
                rel.id, rel.schema, rel.name, rel.kind,
                [ColumnInfo(c.name, c.type, c.nullable) for c in rel.visible_columns],
                [rel.columns[i].name for i in rel.pk if not rel.columns[i].hidden],
                rel.definition, _comments(rel), _defaults(rel)))
        return out

    def to_json(self) -> str:
        return json.dumps({"next_id": self.next_id,
                           "relations": [r.to_json() for r in self.relations.values()
                                         if r.kind != SYSTEM_TABLE]})

    @staticmethod
    def from_json(text: str) -> Catalog:
        d = json.loads(text)
        cat = Catalog()
        for rd in d["relations"]:
            cat.add(Relation.from_json(rd))
        cat.next_id = max(cat.next_id, d["next_id"])
        return cat
