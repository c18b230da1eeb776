"""Collects every `.slt` file under tests/slt and runs each against a fresh database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.slt.runner import run_file

ROOT = Path(__file__).parent
FILES = sorted(ROOT.rglob("*.slt"))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_slt(path: Path) -> None:
    run_file(path)
