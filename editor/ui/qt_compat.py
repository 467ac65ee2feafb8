"""Work around a PySide6 reference-count bug that crashes Lucid on CPython 3.11.

PySide6 6.12's wheels drop one reference to `None` on every call of a method that returns nothing
(`QPainter.drawImage`, `QWidget.update`, …) when run on CPython 3.11. From 3.12 `None` is immortal
(PEP 683) so nothing happens there, but on 3.11 its count reaches zero after a few thousand calls and
the interpreter aborts with "Fatal Python error: none_dealloc" — painting one canvas frame makes
hundreds of such calls. `None` is a static object that is never freed, so giving it a huge reference
count (what 3.12 does by design) is safe and removes the crash. Drop this once Lucid needs 3.12+ or a
PySide6 with the fix.
"""

from __future__ import annotations

import ctypes
import sys

_HEADROOM = 1 << 48  # far more void calls than any session makes, far below ssize_t overflow


def immortalise_none() -> bool:
    """Raise None's reference count to a huge value on CPython < 3.12; True if it did."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    refcnt = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt is PyObject's first field
    if refcnt.value < _HEADROOM:
        refcnt.value += _HEADROOM
    return True
