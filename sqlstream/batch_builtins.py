"""The engine's own implementations of some scalar functions, registered in the
serving store's DuckDB so that batch queries compute exactly what views compute
(planner.batch_functions.ENGINE_FUNCTIONS names them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from planner.batch_functions import ENGINE_FUNCTIONS, ENGINE_NULL_AWARE, ENGINE_PREFIX
from planner.errors import Error
from planner.expressions.functions import FUNCTIONS


def _wrap(impl: Callable[..., Any], arity: int) -> Callable[..., Any]:
    """A data error keeps its SQLSTATE through DuckDB as a `[SQLSTATE] message`
    prefix (sqlstream.query.translate_error reads it back). DuckDB reads the arity
    from the Python signature, so each arity has its own wrapper."""
    def call(*args: Any) -> Any:
        try:
            return impl(*args)
        except Error as e:
            raise ValueError(f"[{e.sqlstate}] {e.message}") from None
    if arity == 1:
        return lambda a: call(a)
    if arity == 2:
        return lambda a, b: call(a, b)
    if arity == 4:
        return lambda a, b, c, d: call(a, b, c, d)
    if arity == 6:
        return lambda a, b, c, d, e, f: call(a, b, c, d, e, f)
    raise AssertionError(arity)


def _regexp_replace(s: str, pattern: str, repl: str, start: int, n: int, flags: str) -> str:
    """The batch form always passes every argument; N = -1 stands for none given."""
    from planner.expressions.builtins_misc import regexp_replace
    if n == -1:
        return regexp_replace(s, pattern, repl, start, flags)
    return regexp_replace(s, pattern, repl, start, n, flags)


_IMPLEMENTATIONS: dict[str, Callable[..., Any]] = {"regexp_replace": _regexp_replace}


def _format(fmt: str, args: list | None) -> str | None:
    from planner.expressions.builtins_misc import format_
    return format_(fmt, *(args or []))


def register(duck: Any) -> None:
    duck.create_function(ENGINE_PREFIX + "format", _wrap(_format, 2), ["VARCHAR", "VARCHAR[]"],
                         "VARCHAR", side_effects=False)
    for name, (params, result) in ENGINE_FUNCTIONS.items():
        impl = _IMPLEMENTATIONS.get(name) or FUNCTIONS[name].impl
        assert impl is not None, name
        duck.create_function(ENGINE_PREFIX + name, _wrap(impl, len(params)), list(params), result,
                             side_effects=False,
                             null_handling="special" if name in ENGINE_NULL_AWARE else "default")


__all__ = ["register"]
