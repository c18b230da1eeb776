"""Tests marked slow run only when asked for (`-m slow`), keeping the default run short."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _skip_slow_unless_selected(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("slow") and "slow" not in (
            request.config.getoption("-m") or ""):
        pytest.skip("slow: run with -m slow")
