"""Regression guard: the Qt binding must survive long sessions on every supported Python.

PySide6 6.12.0 dropped one reference to `None` per call of a void method on CPython 3.11, so a
few thousand canvas repaints aborted the interpreter ("none_dealloc"). pyproject keeps PySide6
below 6.12; this test fails if a binding with that bug comes back.
"""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
from PySide6.QtCore import QObject
o = QObject()
before = sys.getrefcount(None)
for _ in range(300_000):
    o.setObjectName("x")  # returns nothing: the call that leaked a None reference on 6.12.0
print(sys.getrefcount(None) - before)
"""


def test_void_calls_keep_none_refcount_and_interpreter_alive():
    proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert abs(int(proc.stdout.strip())) < 1000
