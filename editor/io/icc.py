"""ICC profiles for files Lucid writes: which profile describes a document's pixels, and conversion to sRGB.

Every file Lucid writes carries a profile (a photo without one is treated as sRGB, as browsers and
Krita do), so other programs never have to guess. All colour maths is LittleCMS through Pillow's
ImageCms, which works on 8-bit RGB(A) images only.
"""

from __future__ import annotations

import io
import struct
from functools import lru_cache

import numpy as np
from PIL import Image, ImageCms

# rendering intents offered for conversions (LittleCMS numbering)
INTENTS: dict[str, ImageCms.Intent] = {
    "perceptual": ImageCms.Intent.PERCEPTUAL,
    "relative": ImageCms.Intent.RELATIVE_COLORIMETRIC,
    "saturation": ImageCms.Intent.SATURATION,
    "absolute": ImageCms.Intent.ABSOLUTE_COLORIMETRIC,
}
DEFAULT_INTENT = "relative"


# The creation date written into the serialised sRGB profile (header bytes 24–35). LittleCMS stamps the
# current time, which made every process write different bytes for the same picture (and batch outputs
# differ from single-file ones); the profile carries no MD5 ID, so fixing the date keeps it valid.
_SRGB_DATE = struct.pack(">6H", 2026, 1, 1, 0, 0, 0)


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """LittleCMS's built-in sRGB profile, serialised (what untagged pixels are assumed to be); the same
    bytes in every process."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    data[24:36] = _SRGB_DATE
    return bytes(data)


@lru_cache(maxsize=16)
def _open(data: bytes) -> ImageCms.ImageCmsProfile | None:
    if data == srgb_profile():  # LittleCMS's in-memory sRGB: its serialised copy rounds (±1 level)
        return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    try:
        return ImageCms.ImageCmsProfile(io.BytesIO(data))
    except (ImageCms.PyCMSError, OSError, TypeError, ValueError):
        return None


def is_rgb_profile(data: bytes | None) -> bool:
    """True when `data` is a readable ICC profile for RGB pixels (gray/CMYK profiles cannot tag RGBA)."""
    profile = _open(data) if data else None
    return profile is not None and profile.profile.xcolor_space.strip() == "RGB"


def document_profile(icc: bytes | None) -> bytes:
    """The profile to embed for pixels tagged `icc`: that profile when it is a usable RGB one, else sRGB."""
    return icc if icc and is_rgb_profile(icc) else srgb_profile()


def is_srgb(icc: bytes | None) -> bool:
    """True when `icc` is absent, unusable, or describes sRGB (no conversion needed)."""
    if not icc or not is_rgb_profile(icc):
        return True
    if icc == srgb_profile():
        return True
    return profile_name(icc).lower().startswith("srgb")


def profile_name(icc: bytes | None) -> str:
    """A short human name for a profile ("sRGB" when there is none)."""
    profile = _open(icc) if icc else None
    if profile is None:
        return "sRGB"
    name = ImageCms.getProfileDescription(profile).strip()
    return name or "unnamed profile"


@lru_cache(maxsize=32)
def transform(src: bytes, dst: bytes, mode: str = "RGBA",
              intent: ImageCms.Intent = ImageCms.Intent.RELATIVE_COLORIMETRIC) -> ImageCms.ImageCmsTransform:
    """A cached LittleCMS transform between two serialised profiles (building one costs ~ms)."""
    source, target = _open(src), _open(dst)
    if source is None or target is None:
        raise ValueError("unreadable ICC profile")
    return ImageCms.buildTransform(source, target, mode, mode, renderingIntent=intent)


def convert_rgba8(pixels: np.ndarray, src: bytes, dst: bytes, intent: str = DEFAULT_INTENT) -> np.ndarray:
    """Straight-alpha uint8 RGBA from profile `src` to profile `dst` (alpha untouched)."""
    if intent not in INTENTS:
        raise ValueError(f"unknown rendering intent {intent!r}; use one of {', '.join(INTENTS)}")
    # RGB, not RGBA: LittleCMS optimises 3- and 4-channel pipelines differently (±1), and files must
    # match what LittleCMS gives for the plain RGB image
    image = Image.fromarray(np.ascontiguousarray(pixels[..., :3]), "RGB")
    out = ImageCms.applyTransform(image, transform(src, dst, "RGB", INTENTS[intent]))
    assert out is not None
    return np.dstack([np.asarray(out), pixels[..., 3]])


def to_srgb_rgba8(pixels: np.ndarray, icc: bytes | None, intent: str = DEFAULT_INTENT) -> np.ndarray:
    """Straight-alpha uint8 RGBA described by `icc` → the same picture in sRGB (a copy when no change)."""
    if is_srgb(icc):
        return np.array(pixels, copy=True)
    assert icc is not None
    return convert_rgba8(pixels, icc, srgb_profile(), intent)
