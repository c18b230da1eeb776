"""The reading side of the shell: prompt-toolkit session with highlighting,
completion, history, multi-line statements ended by `;`, and the toolbar."""

from __future__ import annotations

import os
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.filters import Condition, completion_is_selected
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.styles import Style
from pygments.lexers.sql import PostgresLexer

from repl.completion import SqlCompleter
from repl.shell import Shell

PROMPT = "sqlstream=> "
CONTINUATION = "sqlstream-> "

STYLE = Style.from_dict({
    "bottom-toolbar": "noreverse bg:#303030 #d0d0d0",
    "bottom-toolbar.warning": "bg:#303030 #ffaf00 bold",
    "prompt": "bold",
})


def history_path() -> str:
    """`$SQLSTREAM_HISTFILE`, else `~/.sqlstream_history`."""
    return os.environ.get("SQLSTREAM_HISTFILE") or os.path.expanduser("~/.sqlstream_history")


def open_history(path: str | None) -> History:
    if path is None:
        return InMemoryHistory()
    try:
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        return FileHistory(path)
    except OSError:
        return InMemoryHistory()


def key_bindings() -> KeyBindings:
    kb = KeyBindings()

    @kb.add("enter", filter=completion_is_selected)
    def _take_completion(event: KeyPressEvent) -> None:
        """Enter on a selected completion keeps it instead of running the statement."""
        event.current_buffer.complete_state = None

    return kb


def toolbar(shell: Shell) -> StyleAndTextTuples:
    parts: StyleAndTextTuples = [("class:bottom-toolbar", f" sqlstream: {shell.backend.label} ")]
    flags = [name for name, on in (("timing", shell.timing),
                                   ("expanded", shell.options.expanded is True),
                                   ("expanded auto", shell.options.expanded == "auto")) if on]
    if flags:
        parts.append(("class:bottom-toolbar", "[" + ", ".join(flags) + "] "))
    warning = shell.bottleneck.warning()
    if warning:
        parts.append(("class:bottom-toolbar.warning", f" ⚠ {warning} "))
    parts.append(("class:bottom-toolbar", "  \\? help  Ctrl-D quit "))
    return parts


def make_session(shell: Shell, history: History, **io: Any) -> PromptSession[str]:
    """A prompt session whose Enter runs the buffer only once it is a full statement."""
    multiline = Condition(lambda: not Shell.accepts(_current_text()))
    return PromptSession(
        message=[("class:prompt", PROMPT)],
        multiline=multiline,
        prompt_continuation=lambda width, line_number, wrap_count: CONTINUATION,
        lexer=PygmentsLexer(PostgresLexer),
        completer=SqlCompleter(shell.catalog),
        complete_while_typing=True,
        auto_suggest=AutoSuggestFromHistory(),
        history=history,
        enable_history_search=False,
        key_bindings=key_bindings(),
        bottom_toolbar=lambda: toolbar(shell),
        style=STYLE,
        include_default_pygments_style=True,
        refresh_interval=2.0,
        **io,
    )


def _current_text() -> str:
    from prompt_toolkit.application import get_app

    return get_app().current_buffer.text


def run_loop(shell: Shell, history: History | None = None, banner: bool = True,
             **io: Any) -> int:
    """Read and run until `\\q` or Ctrl-D; Ctrl-C at the prompt clears the line."""
    session = make_session(shell, history or open_history(history_path()), **io)
    if banner:
        shell.out.write(f"sqlstream ({shell.backend.label})\nType \"\\?\" for help.\n\n")
        shell.out.flush()
    while True:
        try:
            text = session.prompt()
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        if not shell.handle(text):
            break
    if shell.redirect is not None:
        shell.redirect.close()
    return 0
