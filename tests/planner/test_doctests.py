"""The planner rules' doctests show each rule's effect; run them with the suite."""

import doctest

import planner.join_keys
import planner.optimizer


def test_optimizer_doctests() -> None:
    result = doctest.testmod(planner.optimizer)
    assert result.attempted > 0
    assert result.failed == 0


def test_join_keys_doctests() -> None:
    result = doctest.testmod(planner.join_keys)
    assert result.attempted > 0
    assert result.failed == 0
