"""Tool choice and brush parameters as a small evented model shared by the canvas and Tool Options dock."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from psygnal import evented

MIN_BRUSH, MAX_BRUSH = 1.0, 1000.0


class ToolKind(StrEnum):
    BRUSH = "brush"  # paints the selection mask
    ERASER = "eraser"  # erases the selection mask
    RECT = "rect"  # rectangle selection into the mask
    LASSO = "lasso"  # free-hand polygon selection into the mask
    HAND = "hand"  # pan
    CROP = "crop"  # crop and straighten (editor.ui.crop_tool)

    @property
    def label(self) -> str:
        return {
            "brush": "Mask brush", "eraser": "Mask eraser", "rect": "Rectangle select",
            "lasso": "Lasso select", "hand": "Pan", "crop": "Crop",
        }[self.value]


@evented
@dataclass
class ToolState:
    """What the user picked in the toolbar and Tool Options; the canvas reads it on every event."""

    tool: ToolKind = ToolKind.BRUSH
    brush_size: float = 40.0  # diameter in image pixels at full pressure
    hardness: float = 0.8
    opacity: float = 1.0
    show_mask: bool = True
    use_pressure: bool = True

    def grow_brush(self, factor: float) -> None:
        """`]` and `[`: multiplicative so small and large brushes change at a similar pace."""
        self.brush_size = float(min(MAX_BRUSH, max(MIN_BRUSH, round(self.brush_size * factor, 1))))

    def step_hardness(self, delta: float) -> None:
        self.hardness = float(min(1.0, max(0.0, round(self.hardness + delta, 2))))
