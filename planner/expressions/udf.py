"""User-defined functions as the expression binder sees them: a signature and the
Python source. The catalog owns the definitions; binding reaches them through a
lookup installed for the duration of planning (`user_functions`), so the planner
stays handed its catalog and never imports the layers above it."""

from __future__ import annotations

import contextlib
import inspect
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from planner.errors import UNDEFINED_FUNCTION, ProgrammingError, not_supported
from planner.expressions.nodes import BoundExpr
from planner.types import DataType

INVALID_FUNCTION_DEFINITION = "42P13"


@dataclass(frozen=True)
class UserFunction:
    """A Python UDF: `body` defines a function named `name` (plain or `async def`)."""

    name: str
    arg_types: tuple[DataType, ...]
    result: DataType
    body: str
    is_async: bool = False


@dataclass(frozen=True, slots=True, eq=True)
class UdfCall(BoundExpr):
    """A call of a user-defined function; evaluated per chunk by the executor's
    UDF projection (off the event loop for blocking functions)."""

    func: UserFunction
    args: tuple[BoundExpr, ...]
    type: DataType

    def children(self) -> tuple[BoundExpr, ...]:
        return self.args

    def with_children(self, children: tuple[BoundExpr, ...]) -> BoundExpr:
        return UdfCall(self.func, tuple(children), self.type)

    def to_sql(self) -> str:
        return f"{self.func.name}({', '.join(a.to_sql() for a in self.args)})"


Lookup = Callable[[str], "UserFunction | None"]
_LOOKUP: ContextVar[Lookup | None] = ContextVar("sqlstream_user_functions", default=None)


@contextlib.contextmanager
def user_functions(lookup: Lookup) -> Iterator[None]:
    """Make the catalog's functions visible to binding inside the block."""
    token = _LOOKUP.set(lookup)
    try:
        yield
    finally:
        _LOOKUP.reset(token)


def install_user_functions(lookup: Lookup) -> None:
    """Make them visible for the rest of the current context (an engine task)."""
    _LOOKUP.set(lookup)


def load_function(func: UserFunction) -> Callable[..., Any]:
    """The Python callable a function's source defines (run once per operator)."""
    namespace: dict[str, Any] = {"__name__": f"udf_{func.name}"}
    try:
        exec(compile(func.body, f"<function {func.name}>", "exec"), namespace)
    except SyntaxError as e:
        raise ProgrammingError(f"invalid Python in function {func.name}: {e}",
                               INVALID_FUNCTION_DEFINITION) from None
    fn = namespace.get(func.name)
    if not callable(fn):
        defined = [v for v in namespace.values() if inspect.isfunction(v)]
        if len(defined) != 1:
            raise ProgrammingError(f"the body of function {func.name} must define "
                                   f"def {func.name}(...)", INVALID_FUNCTION_DEFINITION)
        fn = defined[0]
    return fn


def contains_udf(e: BoundExpr) -> bool:
    stack = [e]
    while stack:
        n = stack.pop()
        if isinstance(n, UdfCall):
            return True
        stack.extend(n.children())
    return False


def bind_user_function(name: str, args: list[BoundExpr], position: int | None,
                       cast: Callable[[BoundExpr, DataType, int | None], BoundExpr]
                       ) -> BoundExpr | None:
    """A UdfCall when `name` is a user function, else None (not found)."""
    lookup = _LOOKUP.get()
    func = lookup(name) if lookup is not None else None
    if func is None:
        return None
    if len(args) != len(func.arg_types):
        types = ", ".join(str(a.type) for a in args)
        raise ProgrammingError(f"function {name}({types}) does not exist", UNDEFINED_FUNCTION,
                               position, hint=f"{name} takes {len(func.arg_types)} argument(s)")
    if any(contains_udf(a) for a in args):
        raise not_supported("a user-defined function call inside another one's arguments",
                            position)
    return UdfCall(func, tuple(cast(a, t, position) for a, t in zip(args, func.arg_types)),
                   func.result)


__all__ = ["UdfCall", "UserFunction", "bind_user_function", "contains_udf", "load_function",
           "install_user_functions", "user_functions"]
