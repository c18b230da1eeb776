"""regexp_match with PostgreSQL's result shape, for the subscripted form
`(regexp_match(s, pattern))[n]` (the engine has no array type): the n-th capture
group of the first match (the whole match when the pattern has no groups), NULL when
nothing matches, the group did not take part, or n is out of range."""

from __future__ import annotations

import re
from functools import lru_cache

from planner.errors import DataError

INVALID_REGEX = "2201B"


@lru_cache(maxsize=256)
def compiled(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as e:
        raise DataError(f"invalid regular expression: {e}", INVALID_REGEX) from None


def regexp_match_at(s: str, pattern: str, n: int) -> str | None:
    m = compiled(pattern).search(s)
    if m is None:
        return None
    if not m.re.groups:
        return m.group(0) if n == 1 else None
    return m.group(n) if 1 <= n <= m.re.groups else None
