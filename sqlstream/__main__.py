"""`python -m sqlstream ...`: the same program as the `sqlstream` console script.

The command line lives in `repl.main` (it opens the shell), and `repl` sits above
`sqlstream` in the import order; so this entry module, which no library code
imports, loads it by name only when run as a program."""

from __future__ import annotations

import importlib
import sys


def main() -> int:
    entry = importlib.import_module("repl.main")
    return int(entry.main() or 0)


if __name__ == "__main__":
    sys.exit(main())
