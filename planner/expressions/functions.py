"""The scalar function table: one entry per function (name -> signatures, implementation,
NULL handling), so adding a function is one line plus a test.

A signature is a tuple of parameter classes and a result. Parameter classes:
  text     varchar (an untyped string literal too)
  int      any integer type, kept as is
  num      any numeric type, kept as is (result "same" is that type)
  dec      numeric only (PostgreSQL does not cast double to numeric implicitly)
  numeric  integer or numeric, cast to numeric
  float    any numeric type, cast to double precision
  any      anything, kept as is
  unit     a constant string naming a date/time field (lower-cased at bind time)
  time     date, timestamp or timestamptz, kept as is
  ts       timestamp or timestamptz (a date becomes timestamptz, as PostgreSQL does)
  datetime date, time, timestamp, timestamptz or interval
  bytea    bytea (an untyped string literal too)
A signature ending in "..." repeats its last class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from planner.expressions import builtins_datetime as dtf
from planner.expressions import builtins_format as fmt
from planner.expressions import builtins_misc as misc
from planner.expressions import builtins_trig as trig
from planner.expressions import builtins_math as m
from planner.expressions import builtins_regex as rx
from planner.expressions import builtins_text as s
from planner.expressions import builtins_time as t
from planner.types import (BOOLEAN, BYTEA, DECIMAL, FLOAT64, INT32, TIMESTAMPTZ, UNKNOWN, VARCHAR,
                           DataType, type_from_name)

Sig = tuple[tuple[str, ...], str]

# One double precision argument, PostgreSQL's trigonometric and hyperbolic functions.
TRIG_UNARY = ("sin", "cos", "tan", "cot", "asin", "acos", "atan", "sind", "cosd", "tand",
              "cotd", "asind", "acosd", "atand", "sinh", "cosh", "tanh", "asinh", "acosh",
              "atanh", "degrees", "radians")


@dataclass(frozen=True)
class Func:
    """One scalar function. `template` is inline Python over the argument code ({0},
    {1}, ...); otherwise `impl` is called. With `null_in_null_out` any NULL argument
    gives NULL without calling; otherwise `impl` sees the NULLs. `fallible` marks
    functions that may raise a per-row data error."""

    name: str
    sigs: tuple[Sig, ...]
    impl: Callable[..., Any] | None = None
    template: str | None = None
    null_in_null_out: bool = True
    fallible: bool = False


def _f(name: str, sigs: list[Sig], impl: Callable[..., Any] | None = None,
       template: str | None = None, nulls: bool = True, fallible: bool = False) -> Func:
    return Func(name, tuple(sigs), impl, template, nulls, fallible)


_FLOAT_OR_DEC: list[Sig] = [(("dec",), "same"), (("float",), "double")]
# numeric when either side is numeric and neither is a float, as PostgreSQL resolves it.
_POWER_SIGS: list[Sig] = [(("dec", "numeric"), "numeric"), (("numeric", "dec"), "numeric"),
                          (("float", "float"), "double")]

_TABLE = [
    # strings
    _f("upper", [(("text",), "varchar")], template="{0}.upper()"),
    _f("lower", [(("text",), "varchar")], template="{0}.lower()"),
    _f("length", [(("text",), "integer")], template="len({0})"),
    _f("char_length", [(("text",), "integer")], template="len({0})"),
    _f("substr", [(("text", "int"), "varchar"), (("text", "int", "int"), "varchar")],
       s.substr, fallible=True),
    _f("strpos", [(("text", "text"), "integer")], s.strpos),
    _f("btrim", [(("text",), "varchar"), (("text", "text"), "varchar")], s.btrim),
    _f("ltrim", [(("text",), "varchar"), (("text", "text"), "varchar")], s.ltrim),
    _f("rtrim", [(("text",), "varchar"), (("text", "text"), "varchar")], s.rtrim),
    _f("replace", [(("text", "text", "text"), "varchar")], s.replace),
    _f("split_part", [(("text", "text", "int"), "varchar")], s.split_part, fallible=True),
    _f("left", [(("text", "int"), "varchar")], s.left),
    _f("right", [(("text", "int"), "varchar")], s.right),
    _f("repeat", [(("text", "int"), "varchar")], s.repeat),
    _f("reverse", [(("text",), "varchar")], template="{0}[::-1]"),
    _f("initcap", [(("text",), "varchar")], s.initcap),
    _f("lpad", [(("text", "int"), "varchar"), (("text", "int", "text"), "varchar")], s.lpad),
    _f("rpad", [(("text", "int"), "varchar"), (("text", "int", "text"), "varchar")], s.rpad),
    _f("starts_with", [(("text", "text"), "boolean")], template="{0}.startswith({1})"),
    _f("md5", [(("text",), "varchar")], s.md5),
    _f("concat", [(("any", "..."), "varchar")], s.concat, nulls=False),
    _f("regexp_match_at", [(("text", "text", "int"), "varchar")], rx.regexp_match_at,
       fallible=True),
    _f("concat_ws", [(("text", "any", "..."), "varchar")], s.concat_ws, nulls=False),
    # math
    _f("abs", [(("num",), "same")], template="abs({0})", fallible=True),
    _f("round", [(("dec",), "same"), (("float",), "double"), (("numeric", "int"), "numeric")],
       None, template=None, fallible=True),
    _f("trunc", [(("dec",), "same"), (("float",), "double"), (("numeric", "int"), "numeric")],
       None, fallible=True),
    _f("floor", _FLOAT_OR_DEC, m.floor),
    _f("ceil", _FLOAT_OR_DEC, m.ceil),
    _f("ceiling", _FLOAT_OR_DEC, m.ceil),
    _f("sign", _FLOAT_OR_DEC, m.sign),
    _f("sqrt", _FLOAT_OR_DEC, m.sqrt, fallible=True),
    _f("cbrt", [(("float",), "double")], m.cbrt),
    _f("exp", _FLOAT_OR_DEC, m.exp, fallible=True),
    _f("ln", _FLOAT_OR_DEC, m.ln, fallible=True),
    _f("log10", _FLOAT_OR_DEC, m.log10, fallible=True),
    _f("log", _FLOAT_OR_DEC + [(("dec", "dec"), "numeric"), (("float", "float"), "double")],
       None, fallible=True),
    _f("power", _POWER_SIGS, m.power, fallible=True),
    _f("pow", _POWER_SIGS, m.power, fallible=True),
    _f("pi", [((), "double")], m.pi),
    *[_f(name, [(("float",), "double")], getattr(trig, name), fallible=True)
      for name in TRIG_UNARY],
    _f("atan2", [(("float", "float"), "double")], trig.atan2),
    _f("atan2d", [(("float", "float"), "double")], trig.atan2d),
    _f("gcd", [(("int", "int"), "same")], misc.gcd),
    _f("lcm", [(("int", "int"), "same")], misc.lcm, fallible=True),
    _f("to_hex", [(("int",), "varchar")], misc.to_hex),
    _f("ascii", [(("text",), "integer")], misc.ascii),
    _f("chr", [(("int",), "varchar")], misc.chr_, fallible=True),
    _f("bit_length", [(("text",), "integer")], misc.bit_length),
    _f("octet_length", [(("text",), "integer"), (("bytea",), "integer")], misc.octet_length),
    _f("translate", [(("text", "text", "text"), "varchar")], misc.translate),
    _f("quote_ident", [(("text",), "varchar")], misc.quote_ident),
    _f("quote_literal", [(("text",), "varchar")], misc.quote_literal),
    _f("quote_nullable", [(("text",), "varchar")], misc.quote_nullable, nulls=False),
    _f("div", [(("numeric", "numeric"), "numeric")], misc.div, fallible=True),
    _f("format", [(("text", "any", "..."), "varchar"), (("text",), "varchar")], misc.format_,
       nulls=False, fallible=True),
    _f("to_timestamp", [(("float",), "timestamptz")], dtf.to_timestamp, fallible=True),
    _f("make_date", [(("int", "int", "int"), "date")], dtf.make_date, fallible=True),
    _f("make_time", [(("int", "int", "float"), "time")], dtf.make_time, fallible=True),
    _f("make_timestamp", [(("int", "int", "int", "int", "int", "float"), "timestamp")],
       dtf.make_timestamp, fallible=True),
    _f("overlay", [(("text", "text", "int"), "varchar"), (("text", "text", "int", "int"),
                                                          "varchar")], dtf.overlay,
       fallible=True),
    _f("factorial", [(("int",), "numeric")], misc.factorial, fallible=True),
    _f("width_bucket", [(("float", "float", "float", "int"), "integer")], misc.width_bucket,
       fallible=True),
    _f("encode", [(("bytea", "text"), "varchar")], misc.encode, fallible=True),
    _f("decode", [(("text", "text"), "bytea")], misc.decode, fallible=True),
    *[_f(name, [(("bytea",), "bytea")], getattr(misc, name))
      for name in ("sha224", "sha256", "sha384", "sha512")],
    _f("regexp_replace", [(("text", "text", "text"), "varchar"),
                          (("text", "text", "text", "text"), "varchar"),
                          (("text", "text", "text", "int"), "varchar"),
                          (("text", "text", "text", "int", "int"), "varchar"),
                          (("text", "text", "text", "int", "int", "text"), "varchar")],
       misc.regexp_replace, fallible=True),
    _f("regexp_count", [(("text", "text"), "integer")], misc.regexp_count, fallible=True),
    # date/time
    _f("extract", [(("unit", "datetime"), "numeric")], t.extract, fallible=True),
    _f("date_part", [(("unit", "datetime"), "double")], None, fallible=True),
    _f("date_trunc", [(("unit", "ts"), "same1")], t.date_trunc, fallible=True),
    _f("to_char", [(("ts", "text"), "varchar")], fmt.to_char),
    _f("make_date", [(("int", "int", "int"), "date")], t.make_date, fallible=True),
    # The wall clock; only in a source's `col AS PROCTIME()` (binding refuses calls).
    _f("proctime", [((), "timestamptz")], t.proctime),
]

# round/trunc/log pick the implementation by arity.
IMPL_BY_ARITY: dict[str, dict[int, Callable[..., Any]]] = {
    "round": {1: m.round0, 2: m.round_n},
    "trunc": {1: m.trunc0, 2: m.trunc_n},
    "log": {1: m.log10, 2: m.log_base},
    "date_part": {2: lambda f, v: float(t.extract(f, v))},
}

FUNCTIONS: dict[str, Func] = {f.name: f for f in _TABLE}

# Functions spelled with SQL syntax rather than a plain call; listed for completion.
_SYNTAX_FUNCTIONS = ("coalesce", "greatest", "least", "mod", "nullif", "position",
                     "substring", "trim")

FUNCTION_NAMES: list[str] = sorted(dict.fromkeys([*FUNCTIONS, *_SYNTAX_FUNCTIONS]))


def _accept(cls: str, arg: DataType, untyped: bool) -> DataType | None:
    """The type an argument is converted to for parameter class `cls`, or None."""
    n = arg.name
    unknown = untyped or n == "unknown"
    if cls == "any":
        return VARCHAR if n == "unknown" else arg
    if cls in ("text", "unit"):
        return VARCHAR if n == "varchar" or unknown else None
    if cls == "int":
        return arg if arg.is_integer else INT32 if unknown else None
    if cls == "num":
        return arg if arg.is_numeric else FLOAT64 if unknown else None
    if cls == "dec":
        return arg if n == "numeric" else DECIMAL if unknown else None
    if cls == "numeric":
        return DECIMAL if arg.is_integer or n == "numeric" or unknown else None
    if cls == "float":
        return FLOAT64 if arg.is_numeric or unknown else None
    if cls == "bytea":
        return arg if n == "bytea" else BYTEA if unknown else None
    if cls == "bool":
        return BOOLEAN if n == "boolean" or unknown else None
    if cls == "time":
        return arg if n in ("date", "timestamp", "timestamptz") else None
    if cls == "ts":
        if n in ("timestamp", "timestamptz"):
            return arg
        return TIMESTAMPTZ if n == "date" or unknown else None
    if cls == "datetime":
        return arg if arg.is_temporal else TIMESTAMPTZ if unknown else None
    return None


def resolve_signature(func: Func, args: list[DataType], untyped: list[bool]
                      ) -> tuple[list[DataType], DataType] | None:
    """The first signature the argument types fit: (argument target types, result)."""
    for params, result in func.sigs:
        if params and params[-1] == "...":
            if len(args) < len(params) - 1:
                continue
            expanded = list(params[:-1]) + [params[-2]] * (len(args) - len(params) + 1)
        else:
            if len(args) != len(params):
                continue
            expanded = list(params)
        targets = [_accept(c, a, u) for c, a, u in zip(expanded, args, untyped)]
        if any(x is None for x in targets):
            continue
        fixed = [x for x in targets if x is not None]
        if result == "same":
            out = next((x for c, x in zip(expanded, fixed) if c in ("num", "dec")), fixed[0])
        elif result == "same1":
            out = fixed[1]
        else:
            rt = type_from_name(result)
            assert rt is not None, result
            out = rt
        return fixed, out
    return None


def describe_call(name: str, args: list[DataType]) -> str:
    return f"{name}({', '.join('unknown' if a is UNKNOWN else str(a) for a in args)})"
