"""The README's commands do what it says, as a newcomer runs them: the test command
ends with pytest's summary line, `python -m sqlstream` is the console script, and the
embedded example can be run twice against the same data directory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT))


def test_the_test_command_prints_the_summary_line(tmp_path: Path) -> None:
    command = re.search(r"pip install -e '\.\[test\]' && (python -m pytest[^\n`]*)", README)
    assert command is not None
    argv = command.group(1).split()
    assert " ".join(argv) in (ROOT / ".ci" / "run").read_text()
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert True\n")
    # the project's configuration (its addopts) with the README's flags, on one test
    proc = subprocess.run([sys.executable, *argv[1:], "-c", str(ROOT / "pyproject.toml"),
                           "--rootdir", str(tmp_path), "-p", "no:cacheprovider",
                           str(tmp_path / "test_one.py")],
                          capture_output=True, text=True, timeout=120, env=_env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^1 passed in [\d.]+s", proc.stdout, re.M), proc.stdout


def test_python_dash_m_sqlstream_runs_the_command(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "sqlstream", "--memory", "-c",
                           "SELECT 41 + 1 AS answer"], capture_output=True, text=True,
                          timeout=60, env=_env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == " answer \n--------\n     42\n(1 row)\n\n"
    bad = subprocess.run([sys.executable, "-m", "sqlstream", "--memory", "-c", "SELEC 1"],
                         capture_output=True, text=True, timeout=60, env=_env(), cwd=tmp_path)
    assert bad.returncode == 1 and "syntax error" in bad.stderr


def test_importing_sqlstream_does_not_load_the_shell() -> None:
    code = "import sqlstream, sqlstream.__main__, sys; print(sorted(m for m in sys.modules " \
           "if m == 'repl' or m.startswith('repl.')))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=_env())
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_embedded_example_runs_twice(tmp_path: Path) -> None:
    block = re.search(r"## Embedded\s+```python\n(.*?)```", README, re.S)
    assert block is not None and '"./mydata"' in block.group(1)
    script = tmp_path / "example.py"
    script.write_text(block.group(1))
    outputs = []
    for _ in range(3):
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              timeout=120, env=_env(), cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stdout.strip())
    assert outputs == ["[(1, 10)]", "[(1, 20)]", "[(1, 30)]"]
    assert "[(1, 20)]" in README and "[(1, 30)]" in README
