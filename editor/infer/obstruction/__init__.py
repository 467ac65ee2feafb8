"""Obstruction removal from a burst: align → separate → refine (see DESIGN.md, issue 9).

`remove_obstruction(frames, kind=..., reference=...)` returns `Layers` (background, obstruction,
mask); `remove_brushed(image, mask)` is the single-image mode. A learned refinement plugs in as
the `refiner` argument without changing alignment or separation.
"""

from editor.infer.obstruction.layers import KINDS, Layers
from editor.infer.obstruction.pipeline import remove_obstruction
from editor.infer.obstruction.refine import Refiner
from editor.infer.obstruction.single import remove_brushed

__all__ = ["KINDS", "Layers", "Refiner", "remove_brushed", "remove_obstruction"]
