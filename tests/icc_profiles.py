"""Wide-gamut ICC profiles for tests, from the system's colour folders (Pillow cannot make Adobe RGB).

Adobe RGB (1998)-compatible profiles: Ghostscript's `a98.icc` (Debian package libgs-common, installed
with ghostscript) and Elle Stone's `ClayRGB-elle-V2-g22.icc` (shipped with Krita). Tests that need one
skip with a clear reason when neither is installed."""

from __future__ import annotations

from pathlib import Path

import pytest

ADOBE_RGB_CANDIDATES = (
    Path("/usr/share/color/icc/ghostscript/a98.icc"),
    Path("/usr/share/color/icc/krita/ClayRGB-elle-V2-g22.icc"),
    Path("/usr/share/color/icc/colord/AdobeRGB1998.icc"),
)


def adobe_rgb_path() -> Path | None:
    return next((p for p in ADOBE_RGB_CANDIDATES if p.is_file()), None)


def adobe_rgb_bytes() -> bytes:
    """An Adobe RGB-compatible profile's bytes; skips the calling test when none is installed."""
    path = adobe_rgb_path()
    if path is None:
        pytest.skip("no Adobe RGB-compatible ICC profile installed (apt-get install libgs-common or krita)")
    return path.read_bytes()


def adobe_rgb_photo(src: Path, size: int = 256):
    """An sRGB photo converted to Adobe RGB by LittleCMS: (uint8 RGB array, profile bytes)."""
    import io

    import numpy as np
    from PIL import Image, ImageCms

    icc = adobe_rgb_bytes()
    with Image.open(src) as im:
        im = im.convert("RGB")
        im.thumbnail((size, size))
        adobe = ImageCms.profileToProfile(im, ImageCms.createProfile("sRGB"),
                                          ImageCms.ImageCmsProfile(io.BytesIO(icc)), outputMode="RGB")
    return np.asarray(adobe), icc
