"""Opening a database raises the cyclic collector's thresholds, unless the
application has chosen its own (each case in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc, sqlstream
{before}
conn = sqlstream.connect()
conn.execute("SELECT 1")
print(gc.get_threshold())
conn.close()
"""


def _threshold_after_open(before: str) -> str:
    out = subprocess.run([sys.executable, "-c", PROBE.format(before=before)],
                         capture_output=True, text=True, timeout=120, check=True)
    return out.stdout.strip()


def test_default_thresholds_are_raised() -> None:
    assert _threshold_after_open("") == "(100000, 50, 1000)"


def test_an_applications_own_thresholds_are_kept() -> None:
    assert _threshold_after_open("gc.set_threshold(5000, 20, 20)") == "(5000, 20, 20)"
