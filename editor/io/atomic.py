"""Atomic saves for `editor.io`: the helper itself lives in `editor.core.atomic` (one for the whole app,
where settings and the model store can reach it too); this name stays for io's writers."""

from editor.core.atomic import atomic_copy, atomic_replace, atomic_write, atomic_write_bytes

__all__ = ["atomic_copy", "atomic_replace", "atomic_write", "atomic_write_bytes"]
