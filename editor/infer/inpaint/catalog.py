"""The one list of inpainting engines, for the CLI, the panels and `engines` (which implements them).

A leaf module: the UI may import it without pulling in the engines (torch, spandrel) behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

LAMA_MODEL_ID = "big-lama"  # the manifest id the LaMa engine loads


@dataclass(frozen=True)
class EngineInfo:
    """What the CLI, the panels and the engines share about a fill engine (no torch needed here)."""

    name: str  # the `engine` parameter's value
    label: str  # short, for layer names
    description: str  # menu text
    model_id: str | None = None  # the model it needs, if any


# The one list of inpainting engines, default first; `engines.ENGINES` implements exactly these.
ENGINE_INFO: tuple[EngineInfo, ...] = (
    EngineInfo("patchmatch", "PatchMatch", "PatchMatch — classical, keeps texture (default)"),
    EngineInfo("lama", "LaMa", "LaMa — neural, strong on large holes", LAMA_MODEL_ID),
    EngineInfo("telea", "Telea", "Telea — fast diffusion, smooth"),
    EngineInfo("ns", "Navier–Stokes", "Navier–Stokes — fast diffusion, smooth"),
)
ENGINE_NAMES = tuple(e.name for e in ENGINE_INFO)
DEFAULT_ENGINE = ENGINE_NAMES[0]
