"""Write a document's composite (or an RGBA array) to PNG, JPEG, TIFF or WebP, atomically.

ICC profile and EXIF travel with the pixels; every file carries a profile (sRGB's when the document has
none). `to_srgb` converts the pixels to sRGB first (LittleCMS, with a rendering intent): what the web and
most viewers expect. 16-bit documents stay 16-bit in PNG and TIFF; JPEG and WebP are 8-bit formats.
What could not be kept is returned as notes for the caller to show.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from editor.core.document import Document
from editor.core.pixels import from_float, to_rgba
from editor.io.atomic import atomic_write
from editor.io.errors import ImageSaveError
from editor.io.icc import (
    DEFAULT_INTENT,
    INTENTS,
    document_profile,
    is_srgb,
    profile_name,
    srgb_profile,
    to_srgb_rgba8,
)
from editor.io.images import convert_depth
from editor.io.png16 import encode_png16

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".tif": "TIFF", ".tiff": "TIFF",
           ".webp": "WEBP"}
_SIXTEEN_BIT = {"PNG", "TIFF"}
SRGB_BY_DEFAULT = {"JPEG", "WEBP"}  # formats meant for the web: "Convert to sRGB" starts ticked


def format_for(path: str | Path, format: str | None = None) -> str:
    """Export format name from an explicit name or the file suffix; ImageSaveError if unknown."""
    if format:
        name = format.upper().lstrip(".")
        name = {"JPG": "JPEG", "TIF": "TIFF"}.get(name, name)
        if name in FORMATS.values():
            return name
        raise ImageSaveError(f"{Path(path).name}: Lucid cannot write the format {format!r}")
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        kind = suffix or "(no suffix)"
        raise ImageSaveError(f"{Path(path).name}: unknown image type {kind}; use one of {known}")
    return FORMATS[suffix]


def export_image(source: Document | np.ndarray, path: str | Path, *, format: str | None = None,
                 quality: int = 92, depth: int | None = None, icc_profile: bytes | None = None,
                 exif: bytes | None = None, to_srgb: bool = False, intent: str = DEFAULT_INTENT) -> list[str]:
    """Write `source` to `path`; returns notes about anything not kept (e.g. alpha flattened).

    `source` is a Document (its full composite is written, with its metadata) or an H×W×C array
    (uint8, uint16 or float in 0…1). `depth` forces 8 or 16 bits; by default the document's depth.
    `to_srgb` converts from the source's profile to sRGB with rendering `intent` (see icc.INTENTS).
    """
    path = Path(path)
    fmt = format_for(path, format)
    if not 1 <= int(quality) <= 100:
        raise ImageSaveError(f"{path.name}: quality must be between 1 and 100, got {quality}")
    if intent not in INTENTS:
        known = ", ".join(INTENTS)
        raise ImageSaveError(f"{path.name}: unknown rendering intent {intent!r}; use one of {known}")
    pixels, icc_profile, exif = _pixels(source, depth, icc_profile, exif)
    notes: list[str] = []
    if to_srgb:
        pixels, icc_profile = _convert_to_srgb(pixels, icc_profile, intent, notes)
    icc_profile = document_profile(icc_profile)
    if pixels.dtype == np.uint16 and fmt not in _SIXTEEN_BIT:
        pixels = convert_depth(pixels, np.uint8)
        notes.append(f"{fmt} stores 8 bits per channel: reduced from 16-bit")
    try:
        data = _encode(pixels, fmt, int(quality), icc_profile, exif, notes)
        with atomic_write(path) as fh:
            fh.write(data)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ImageSaveError(f"{path.name}: could not write the file ({reason})", str(exc)) from exc
    except (ValueError, TypeError) as exc:
        raise ImageSaveError(f"{path.name}: could not encode {fmt} ({exc})", repr(exc)) from exc
    return notes


def _pixels(source: Document | np.ndarray, depth: int | None, icc: bytes | None,
            exif: bytes | None) -> tuple[np.ndarray, bytes | None, bytes | None]:
    if depth not in (None, 8, 16):
        raise ImageSaveError(f"depth must be 8 or 16, got {depth}")
    if isinstance(source, Document):
        from editor.core.compositor import composite

        dtype = np.uint16 if (depth or source.depth) == 16 else np.uint8
        pixels = from_float(composite(source), dtype)
        meta = source.metadata
        return pixels, icc if icc is not None else meta.icc_profile, exif if exif is not None else meta.exif
    arr = np.asarray(source)
    if arr.dtype.kind == "f":
        arr = from_float(arr, np.uint16 if depth == 16 else np.uint8)
    elif arr.dtype not in (np.uint8, np.uint16):
        raise ImageSaveError(f"cannot export pixels of type {arr.dtype} (use uint8, uint16 or float)")
    try:
        arr = to_rgba(arr)
    except ValueError as exc:
        raise ImageSaveError(str(exc)) from exc
    if depth == 8 and arr.dtype == np.uint16:
        arr = convert_depth(arr, np.uint8)
    elif depth == 16 and arr.dtype == np.uint8:
        arr = convert_depth(arr, np.uint16)
    return arr, icc, exif


def conversion_summary(icc: bytes | None, to_srgb: bool, intent: str = DEFAULT_INTENT) -> str:
    """One sentence for the export dialog: what will happen to the colours."""
    name = profile_name(icc)
    if is_srgb(icc):
        return f"The image is sRGB ({name}); it is written as it is, tagged sRGB."
    if to_srgb:
        return (f"Colours are converted from {name} to sRGB ({intent} intent) and tagged sRGB: right for the "
                "web and for viewers without colour management. 16-bit images are converted in 8 bits.")
    return (f"Colours are written as they are, in {name}, with that profile embedded: right for print and "
            "for colour-managed programs; others may show them dull or off.")


def _convert_to_srgb(pixels: np.ndarray, icc: bytes | None, intent: str,
                     notes: list[str]) -> tuple[np.ndarray, bytes]:
    if is_srgb(icc):
        return pixels, srgb_profile()
    if pixels.dtype == np.uint16:
        pixels = convert_depth(pixels, np.uint8)
        notes.append("converted to sRGB in 8 bits per channel (LittleCMS through Pillow works in 8 bits)")
    notes.append(f"converted from {profile_name(icc)} to sRGB ({intent} intent)")
    return to_srgb_rgba8(pixels, icc, intent), srgb_profile()


def _flatten_white(rgba: np.ndarray) -> np.ndarray:
    """Composite straight-alpha uint8 RGBA over white → RGB uint8."""
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def _encode(pixels: np.ndarray, fmt: str, quality: int, icc: bytes | None, exif: bytes | None,
            notes: list[str]) -> bytes:
    opaque = bool(np.all(pixels[..., 3] == (65535 if pixels.dtype == np.uint16 else 255)))
    if fmt == "TIFF" and pixels.dtype == np.uint16:
        if exif:
            notes.append("EXIF is not written to 16-bit TIFF files")
        return _tiff16(pixels[..., :3] if opaque else pixels, icc)
    if fmt == "PNG" and pixels.dtype == np.uint16:
        return encode_png16(pixels[..., :3] if opaque else pixels, icc_profile=icc, exif=exif)
    if fmt == "JPEG" and not opaque:
        notes.append("JPEG has no transparency: flattened onto white")
        image = Image.fromarray(_flatten_white(pixels), "RGB")
    else:
        image = Image.fromarray(np.ascontiguousarray(pixels[..., :3] if opaque else pixels),
                                "RGB" if opaque else "RGBA")
    params: dict[str, object] = {}
    if icc:
        params["icc_profile"] = icc
    if exif:
        params["exif"] = exif
    if fmt in ("JPEG", "WEBP"):
        params["quality"] = quality
    # TIFF: written uncompressed, because Pillow's libtiff (compressing) path cannot write the EXIF
    # sub-directory; its plain writer can.
    buf = io.BytesIO()
    image.save(buf, format=fmt, **params)
    return buf.getvalue()


def _tiff16(pixels: np.ndarray, icc: bytes | None) -> bytes:
    """16-bit RGB(A) TIFF through tifffile (Pillow has no 16-bit RGB mode); unassociated alpha."""
    import tifffile

    buf = io.BytesIO()
    extras = {"extrasamples": [2]} if pixels.shape[2] == 4 else {}
    tifffile.imwrite(buf, pixels, photometric="rgb", compression="zlib", iccprofile=icc, **extras)
    return buf.getvalue()
