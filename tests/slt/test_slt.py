"""Collects every `.slt` file under tests/slt and runs each against a fresh database.
Streaming files run again with several actors per fragment: a view's contents must
not depend on the parallelism."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.slt.runner import run_file

ROOT = Path(__file__).parent
FILES = sorted(ROOT.rglob("*.slt"))
STREAMING = [p for p in FILES if p.relative_to(ROOT).parts[0] == "streaming"]


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_slt(path: Path) -> None:
    run_file(path)


@pytest.mark.parametrize("path", STREAMING, ids=_ids(STREAMING))
def test_slt_parallel(path: Path) -> None:
    run_file(path, streaming_parallelism=3)
