"""Drive the shell without a terminal: prompt-toolkit pipe input and dummy output."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from prompt_toolkit.history import History, InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from repl.backend import LocalBackend
from repl.prompt import run_loop
from repl.shell import Shell


@dataclass
class Run:
    out: str
    err: str
    shell: Shell


class ShellDriver:
    """Types keys into a fresh prompt over one embedded database and collects the output."""

    def __init__(self, backend: LocalBackend) -> None:
        self.backend = backend

    def run(self, keys: str, history: History | None = None, tty: bool = False) -> Run:
        out, err = io.StringIO(), io.StringIO()
        shell = Shell(self.backend, out=out, err=err, tty=tty)
        with create_pipe_input() as pipe:
            pipe.send_text(keys)
            pipe.close()
            run_loop(shell, history=history or InMemoryHistory(), banner=False,
                     input=pipe, output=DummyOutput())
        return Run(out.getvalue(), err.getvalue(), shell)


@pytest.fixture
def backend() -> Iterator[LocalBackend]:
    b = LocalBackend(None)
    yield b
    b.close()


@pytest.fixture
def driver(backend: LocalBackend) -> ShellDriver:
    return ShellDriver(backend)
