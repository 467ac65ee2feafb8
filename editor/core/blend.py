"""Blend-mode names. Values are OpenRaster's `svg:*` composite-op names (W3C Compositing Level 1)."""

from __future__ import annotations

from enum import StrEnum


class BlendMode(StrEnum):
    NORMAL = "svg:src-over"
    MULTIPLY = "svg:multiply"
    SCREEN = "svg:screen"
    OVERLAY = "svg:overlay"
    DARKEN = "svg:darken"
    LIGHTEN = "svg:lighten"
    COLOR_DODGE = "svg:color-dodge"
    COLOR_BURN = "svg:color-burn"
    HARD_LIGHT = "svg:hard-light"
    SOFT_LIGHT = "svg:soft-light"
    DIFFERENCE = "svg:difference"
    EXCLUSION = "svg:exclusion"
    HUE = "svg:hue"
    SATURATION = "svg:saturation"
    COLOR = "svg:color"
    LUMINOSITY = "svg:luminosity"
    PLUS = "svg:plus"

    @property
    def label(self) -> str:
        """Human-readable name for menus ("Color dodge")."""
        return self.value.removeprefix("svg:").replace("-", " ").replace("src over", "normal").capitalize()

    @classmethod
    def from_ora(cls, value: str | None) -> BlendMode:
        """Parse an ORA composite-op; unknown ops fall back to normal, as the ORA spec asks."""
        try:
            return cls(value or cls.NORMAL.value)
        except ValueError:
            return cls.NORMAL
