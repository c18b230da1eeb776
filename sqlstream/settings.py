"""Settings users can SET and SHOW, with their defaults."""

from __future__ import annotations

import re
from typing import Any

# name -> (default, description)
SETTINGS: dict[str, tuple[Any, str]] = {
    "barrier_interval_ms": (1000, "time between two barriers injected into every source"),
    "checkpoint_frequency": (1, "every n-th barrier is a checkpoint"),
    "max_inflight_barriers": (4, "barriers injected and not yet committed at most; beyond, "
                                 "the next barrier waits for a commit"),
    "streaming_parallelism": (1, "actors per fragment of views created from now on"),
    "exchange_capacity": (2048, "rows an exchange between two actors holds before the sender waits"),
    "chunk_size": (1024, "rows per chunk"),
    "implicit_flush": (False, "FLUSH after every DML statement"),
    "metrics_enabled": (True, "busy/idle/backpressure accounting of actors created from now on"),
    "metrics_window_s": (10.0, "sliding window (seconds) of the busy/idle/backpressure ratios, "
                               "rates and process CPU"),
    "udf_concurrency": (16, "async UDF calls one operator has in flight at once (views "
                            "created from now on)"),
    "state_size_limit_mb": (64, "state of one actor above this size is diagnosed as "
                                "'state too large' in sys.bottlenecks"),
    "statement_timeout": (0, "milliseconds a statement may run before it is cancelled "
                             "(0: no limit)"),
}

# Settings that belong to the whole database rather than to a session.
DATABASE_SETTINGS = ("barrier_interval_ms", "checkpoint_frequency", "max_inflight_barriers",
                     "exchange_capacity", "chunk_size", "metrics_enabled", "metrics_window_s",
                     "udf_concurrency", "state_size_limit_mb")


def defaults() -> dict[str, Any]:
    return {k: v for k, (v, _d) in SETTINGS.items()}


def parse_value(name: str, text: str) -> Any:
    """A SET value as the setting's type; ValueError when it does not fit."""
    default = SETTINGS[name][0] if name in SETTINGS else None
    t = text.strip().strip("'\"")
    if name in DURATION_SETTINGS:
        return parse_duration_ms(name, t)
    if isinstance(default, bool):
        low = t.lower()
        if low in ("true", "on", "1", "yes", "t"):
            return True
        if low in ("false", "off", "0", "no", "f"):
            return False
        raise ValueError(f'parameter "{name}" requires a Boolean value')
    if isinstance(default, float):
        try:
            f = float(t)
        except ValueError:
            raise ValueError(f'invalid value for parameter "{name}": "{t}"') from None
        if not f > 0 or f == float("inf"):
            raise ValueError(f'invalid value for parameter "{name}": "{t}"')
        return f
    if isinstance(default, int):
        try:
            v = int(t)
        except ValueError:
            raise ValueError(f'invalid value for parameter "{name}": "{t}"') from None
        if v < 1 and name != "streaming_parallelism":
            raise ValueError(f'invalid value for parameter "{name}": "{t}"')
        if name == "streaming_parallelism" and v < 0:
            raise ValueError(f'invalid value for parameter "{name}": "{t}"')
        return v
    return t


def apply(db: Any, name: str, value: Any) -> None:
    """A database setting just SET: make the running engine follow it where it can
    (the others apply to actors created from now on)."""
    rt = db.runtime
    if rt is None:
        return
    if name == "barrier_interval_ms":
        rt.barriers.interval_ms = int(value)
    elif name == "checkpoint_frequency":
        rt.barriers.checkpoint_frequency = int(value)
    elif name == "max_inflight_barriers":
        rt.barriers.max_inflight = int(value)
    elif name == "metrics_window_s":
        async def resize() -> None:  # on the engine loop, where the clocks are written
            rt.cpu.window_s = float(value)
            for rel in rt.relations.values():
                for actor in rel.actors:
                    if actor.metrics is not None:
                        actor.metrics.set_window(float(value))
        db.run(resize())


def show_value(value: Any, name: str = "") -> str:
    if name in DURATION_SETTINGS:
        return show_duration_ms(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# Settings holding a duration in milliseconds, written as PostgreSQL writes them.
DURATION_SETTINGS = ("statement_timeout",)
_UNITS_MS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000,
             "d": 86_400_000}


def parse_duration_ms(name: str, text: str) -> int:
    """'100ms', '1.5s', '2min' or a plain number of milliseconds, as PostgreSQL reads
    a time setting; 0 turns it off."""
    m = re.fullmatch(r"\s*(-?\d+(?:\.\d*)?)\s*([a-z]*)\s*", text.lower())
    if m is None or m.group(2) not in ("", *_UNITS_MS):
        raise ValueError(f'invalid value for parameter "{name}": "{text}"')
    ms = round(float(m.group(1)) * _UNITS_MS.get(m.group(2), 1))
    if not 0 <= ms <= 2**31 - 1:
        raise ValueError(f'{ms} ms is outside the valid range for parameter "{name}" '
                         f'(0 .. 2147483647)')
    return ms


def show_duration_ms(ms: int) -> str:
    for unit in ("d", "h", "min", "s"):
        size = int(_UNITS_MS[unit])
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms" if ms else "0"
