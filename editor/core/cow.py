"""Copy-on-write bookkeeping for buffers lent to snapshots (autosave, AI jobs).

A snapshot gets a read-only view of a live buffer, and the buffer itself turns read-only, so the
document's next edit would copy it (96 MB for a 24 MP layer, half a second of page faults on a busy
machine). But most snapshots are short-lived: the worker renders what it needs and drops them. So the
views lent out are remembered (weakly), and once every one has died the live buffer is simply made
writable again (`reclaim`) — no copy. Buffers that were read-only for another reason (an .ora member
two layers share) were never lent here and are still copied.
"""

from __future__ import annotations

import weakref

import numpy as np

# id(buffer) → (weak ref to the buffer, weak refs to the views lent out)
_lent: dict[int, tuple[weakref.ref, list[weakref.ref]]] = {}


def lend(array: np.ndarray) -> np.ndarray:
    """A read-only view of `array` for a snapshot; `array` stays read-only while any such view lives."""
    view = array.view()
    view.flags.writeable = False
    key = id(array)
    entry = _lent.get(key)
    if entry is not None and entry[0]() is not array:
        entry = None
    if array.flags.writeable:
        array.flags.writeable = False
        entry = (weakref.ref(array, lambda _ref, k=key: _forget(k, _ref)), [])
        _lent[key] = entry
    if entry is not None:
        entry[1][:] = [r for r in entry[1] if r() is not None]
        entry[1].append(weakref.ref(view))
    return view


def reclaim(array: np.ndarray) -> bool:
    """Make `array` writable again in place if it was lent and every view lent out has died."""
    key = id(array)
    entry = _lent.get(key)
    if entry is None or entry[0]() is not array or any(r() is not None for r in entry[1]):
        return False
    try:
        array.flags.writeable = True
    except ValueError:
        return False
    del _lent[key]
    return True


def writable(array: np.ndarray) -> np.ndarray:
    """`array` itself if it may be written (or could be reclaimed), else a private copy."""
    if array.flags.writeable or reclaim(array):
        return array
    return array.copy()


def _forget(key: int, ref: weakref.ref) -> None:
    entry = _lent.get(key)
    if entry is not None and entry[0] is ref:
        del _lent[key]
