"""One memory budget for a document: the decoded bytes of its canvas and all its layers.

The reader (before decoding anything, from the image headers), the document (its canvas size) and the
tasks (an upscale's output, before allocating it) check against the same number, so a 637-byte
project that declares a huge canvas, or thousands of layers, is refused with one line saying the limit
and how to raise it, instead of exhausting memory.

The limit: `LUCID_MEMORY_BUDGET_MB` if set, else the `memory_budget_mb` preference if not 0, else a
quarter of this machine's physical memory (at least 1 GiB).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from editor.core.errors import LucidError

ENV_BUDGET = "LUCID_MEMORY_BUDGET_MB"
AUTO_FRACTION = 4  # a quarter of physical memory
MIN_AUTO_BYTES = 1 << 30
# Working memory per canvas pixel while the whole canvas is composited and exported: the float32
# planar accumulator (16 B), its straight-alpha result (16 B) and the 8/16-bit copy encoded by the
# writer. Measured: `lucid flatten` of a 6000×6000 canvas peaks 1.27 GB above the interpreter (35 B/px);
# issue 14's 15800×15800 run reached 8.6 GB (34 B/px).
CANVAS_BYTES_PER_PIXEL = 32
MASK_BYTES_PER_PIXEL = 4  # float32


class BudgetExceeded(LucidError):
    """A document or a job result would need more memory than the budget allows."""


def machine_memory_bytes() -> int:
    """Physical memory; 8 GiB when the platform does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        pass
    try:
        import psutil  # optional: Windows and macOS

        return int(psutil.virtual_memory().total)
    except Exception:
        return 8 << 30


def _gb(n: int | float) -> str:
    return f"{n / (1 << 30):.1f} GB"


@dataclass(frozen=True)
class MemoryBudget:
    limit_bytes: int
    origin: str  # where the limit came from, for the message

    def check(self, need_bytes: int, what: str) -> None:
        """Raise BudgetExceeded (one line: what, need, limit, how to raise it) when over the limit."""
        if need_bytes > self.limit_bytes:
            raise BudgetExceeded(
                f"{what} needs about {_gb(need_bytes)} of memory, over the document memory budget of "
                f"{_gb(self.limit_bytes)} ({self.origin}); raise it in Preferences → Memory budget "
                f"or with {ENV_BUDGET}=<MB>")

    def fits(self, need_bytes: int) -> bool:
        return need_bytes <= self.limit_bytes


def current_budget(setting_mb: int | None = None) -> MemoryBudget:
    """The budget in force: environment, then the preference (`setting_mb`, read from the settings file
    when None), then a quarter of physical memory."""
    env = os.environ.get(ENV_BUDGET, "").strip()
    if env:
        try:
            mb = int(env)
        except ValueError:
            raise LucidError(f"{ENV_BUDGET} must be a whole number of megabytes, not {env!r}") from None
        if mb > 0:
            return MemoryBudget(mb << 20, f"set by {ENV_BUDGET}")
    if setting_mb is None:
        setting_mb = _setting_mb()
    if setting_mb > 0:
        return MemoryBudget(setting_mb << 20, "set in Preferences")
    total = machine_memory_bytes()
    return MemoryBudget(max(MIN_AUTO_BYTES, total // AUTO_FRACTION),
                        f"a quarter of this machine's {_gb(total)}")


def _setting_mb() -> int:
    from editor.core.settings import SettingsError, load_settings

    try:
        return load_settings().memory_budget_mb
    except SettingsError:
        return 0  # a broken settings file is reported where settings are edited, not here


def layer_bytes(width: int, height: int, depth: int = 8, *, mask: bool = False) -> int:
    """Decoded RGBA pixels (plus a float mask) of one layer."""
    px = int(width) * int(height)
    return px * 4 * (2 if depth == 16 else 1) + (px * MASK_BYTES_PER_PIXEL if mask else 0)


def canvas_bytes(width: int, height: int) -> int:
    return int(width) * int(height) * CANVAS_BYTES_PER_PIXEL


def check_document(width: int, height: int, depth: int, what: str,
                   budget: MemoryBudget | None = None) -> None:
    """A one-layer document of this size (its canvas and its layer) fits the budget, else one line."""
    need = canvas_bytes(width, height) + layer_bytes(width, height, depth)
    (budget or current_budget()).check(need, f"{what} ({width}×{height})")
