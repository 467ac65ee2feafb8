"""Undo history: a list of steps, each a list of commands that know how to undo and redo themselves.

Why commands and not snapshots: a brush stroke on a 24-megapixel layer must cost the tiles it touched,
not a copy of the image. `Document` records commands; this module only orders, groups and trims them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from psygnal import Signal, SignalGroup

from editor.core.errors import LucidError

if TYPE_CHECKING:
    from editor.core.document import Document

GIB = 1024**3


class Command(Protocol):
    """One applied change. `redo` re-applies it, `undo` reverts it; both emit the right events."""

    def undo(self) -> None: ...

    def redo(self) -> None: ...

    @property
    def nbytes(self) -> int: ...


@dataclass
class Step:
    """One entry in the history list (what "Undo <label>" undoes)."""

    label: str
    commands: list[Command] = field(default_factory=list)
    nbytes: int = 0  # measured once when the step is pushed; commands do not grow afterwards

    def measure(self) -> None:
        self.nbytes = sum(c.nbytes for c in self.commands)

    def undo(self) -> None:
        for cmd in reversed(self.commands):
            cmd.undo()

    def redo(self) -> None:
        for cmd in self.commands:
            cmd.redo()


class HistoryEvents(SignalGroup):
    changed = Signal()  # steps added, undone, redone, dropped or cleared


class History:
    """Linear undo/redo over `Step`s with a memory cap; `index` is how many steps are applied."""

    def __init__(self, doc: Document, memory_cap: int = GIB) -> None:
        self.events = HistoryEvents()
        self._doc = doc
        self._steps: list[Step] = []
        self._index = 0
        self._saved: int | None = 0  # index of the clean state; None once it is unreachable
        self._memory_cap = int(memory_cap)
        self._nbytes = 0
        self._open: list[Step] = []  # nested `group()` blocks being recorded
        self._busy = False  # inside undo/redo: recording is a bug

    # --- reading -------------------------------------------------------------------------------------------

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self._steps]

    @property
    def index(self) -> int:
        return self._index

    @property
    def can_undo(self) -> bool:
        return self._index > 0 and not self._open

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._steps) and not self._open

    @property
    def nbytes(self) -> int:
        return self._nbytes

    @property
    def memory_cap(self) -> int:
        return self._memory_cap

    @memory_cap.setter
    def memory_cap(self, value: int) -> None:
        self._memory_cap = int(value)
        if self._trim():
            self._changed()

    # --- moving --------------------------------------------------------------------------------------------

    def undo(self) -> None:
        if not self.can_undo:
            raise LucidError("Nothing to undo.")
        self._run(self._steps[self._index - 1].undo)
        self._index -= 1
        self._changed()

    def redo(self) -> None:
        if not self.can_redo:
            raise LucidError("Nothing to redo.")
        self._run(self._steps[self._index].redo)
        self._index += 1
        self._changed()

    def jump(self, i: int) -> None:
        """Undo or redo until `index == i` (0 = before the first kept step)."""
        if not 0 <= i <= len(self._steps):
            raise IndexError(f"history position {i} is outside 0…{len(self._steps)}")
        while self._index > i:
            self.undo()
        while self._index < i:
            self.redo()

    def clear(self) -> None:
        """Forget every step; the current state becomes the clean state if it was."""
        if self._open:
            raise LucidError("Cannot clear the history while a change is being recorded.")
        clean = self._saved == self._index
        self._steps.clear()
        self._nbytes = 0
        self._index = 0
        self._saved = 0 if clean else None
        self._changed()

    @property
    def editing(self) -> bool:
        """An edit (a brush stroke, a group) is open: its arrays are being written right now."""
        return bool(self._open)

    def mark_saved(self) -> None:
        """The current state is what is on disk now."""
        self._saved = self._index
        self._doc.modified = False

    # --- recording (used by Document) ----------------------------------------------------------------------

    def record(self, cmd: Command, label: str) -> None:
        """Add an already-applied command: to the open group, or as a new step."""
        if self._busy:
            raise RuntimeError("a document change was recorded while undoing or redoing")
        if self._open:
            self._open[-1].commands.append(cmd)
            return
        self._push(Step(label, [cmd]))

    def begin(self, label: str) -> None:
        self._open.append(Step(label))

    def end(self, commit: bool) -> None:
        """Close the innermost group: fold it into its parent, push it, or (commit False) revert it."""
        step = self._open.pop()
        if not commit:
            self._run(step.undo)
            return
        if not step.commands:
            return
        if self._open:
            self._open[-1].commands.extend(step.commands)
        else:
            self._push(step)

    # --- internals -----------------------------------------------------------------------------------------

    def _run(self, fn: Callable[[], None]) -> None:
        self._busy = True
        try:
            fn()
        finally:
            self._busy = False

    def _push(self, step: Step) -> None:
        self._nbytes -= sum(s.nbytes for s in self._steps[self._index:])
        del self._steps[self._index:]
        step.measure()
        self._nbytes += step.nbytes
        if self._saved is not None and self._saved > self._index:
            self._saved = None
        self._steps.append(step)
        self._index += 1
        self._trim()
        self._changed()

    def _trim(self) -> bool:
        """Drop the oldest steps while over the cap (the newest step is always kept). True if any dropped."""
        dropped = False
        while self._nbytes > self._memory_cap and len(self._steps) > 1:
            if self._index > 0:
                step = self._steps.pop(0)
                self._index -= 1
                if self._saved is not None:
                    self._saved = self._saved - 1 if self._saved > 0 else None
            else:  # everything kept is redo: drop from the far end instead
                step = self._steps.pop()
                if self._saved is not None and self._saved > len(self._steps):
                    self._saved = None
            self._nbytes -= step.nbytes
            dropped = True
        return dropped

    def _changed(self) -> None:
        self._doc.modified = self._saved != self._index
        self.events.changed.emit()
