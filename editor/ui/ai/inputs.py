"""Extra image files an AI tool takes besides the document (a background plate, burst frames, a new
background), and the recipe facts that let a re-run find the very same file again.

Why the sha256: a recipe that names a path only would silently re-run on whatever file sits there
later; with the hash, a changed or missing file is refused with a clear message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from editor.core.errors import LucidError
from editor.core.layers import Layer, PixelLayer
from editor.core.pixels import to_float
from editor.infer.download import sha256_file


@dataclass
class InputImage:
    path: Path
    sha256: str
    pixels: np.ndarray  # float32 H×W×4, straight alpha, EXIF orientation applied

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)"""
        return int(self.pixels.shape[1]), int(self.pixels.shape[0])

    @property
    def rgb(self) -> np.ndarray:
        return np.ascontiguousarray(self.pixels[..., :3])

    def ref(self) -> dict[str, str]:
        """What a recipe stores to find this file again."""
        return {"path": str(self.path), "sha256": self.sha256}


def load_input_image(path: Path | str) -> InputImage:
    """Decode an image file (upright, as float) and hash it; unreadable files raise a LucidError."""
    from editor.io.images import load_image

    path = Path(path)
    loaded = load_image(path)
    try:
        sha = sha256_file(path)
    except OSError as exc:
        raise LucidError(f"{path.name}: cannot be read ({exc.strerror or exc}).") from exc
    return InputImage(path, sha, to_float(loaded.pixels))


def reload_input_image(ref: dict[str, Any], what: str) -> InputImage:
    """The file a recipe names, refused unless it still has the recorded sha256."""
    try:
        path, sha = Path(str(ref["path"])), str(ref["sha256"])
    except (KeyError, TypeError) as exc:
        raise LucidError(f"This layer's recipe does not record its {what}; make it again.") from exc
    if not path.is_file():
        raise LucidError(f"The {what} {path.name} is no longer at {path.parent}; put it back to re-run.")
    image = load_input_image(path)
    if image.sha256 != sha:
        raise LucidError(f"The {what} {path.name} has changed since this layer was made; re-run refused.")
    return image


def shown_as_is(layers: list[Layer]) -> list[Layer]:
    """The layers to render a tool's source from, visible even where the user has since hidden them
    (a cut-out hides its source; re-running it must still see the photo). Pixel layers only get a
    visible stand-in sharing their arrays; groups are rendered as they are."""
    out: list[Layer] = []
    for layer in layers:
        if isinstance(layer, PixelLayer) and not layer.visible:
            out.append(PixelLayer(layer.name, layer.pixels, mask=layer.mask, offset=layer.offset,
                                  opacity=layer.opacity, blend_mode=layer.blend_mode, shared=True))
        else:
            out.append(layer)
    return out
