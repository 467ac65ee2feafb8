"""Read raster images into straight-alpha RGBA uint8/uint16 arrays, keeping ICC and EXIF.

Pillow does the decoding. Where Pillow narrows data (16-bit RGB(A) PNG and TIFF become 8-bit
in Pillow), we run Pillow's own decoder twice with rawmodes that pick the high and the low
byte of each sample and join them: the same C unfiltering/decompression, no hand-written codec.
tifffile reads the TIFFs Pillow cannot open at all. Every failure becomes an `ImageLoadError`.
"""

from __future__ import annotations

import io
import re
import sys
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, ImageCms

from editor.core.budget import check_document
from editor.core.document import Document, Metadata
from editor.core.layers import PixelLayer
from editor.core.pixels import from_float, to_rgba
from editor.io.errors import ImageLoadError, ImageTooLarge
from editor.io.pngcheck import check_png

DEFAULT_MAX_PIXELS = 250_000_000
ORIENTATION_TAG = 0x0112
EXIF_IFD_TAG = 0x8769
# ImageDescription, Make, Model, Software, DateTime, Artist, Copyright
_TIFF_DESCRIPTIVE_TAGS = (270, 271, 272, 305, 306, 315, 33432)

_PIL_LIMIT_LOCK = threading.Lock()
_SPLIT16 = re.compile(r"^(RGB|RGBA|RGBa|RGBX);16([BLN]?)$")
_LA16 = re.compile(r"^LA;16([BLN]?)$")


@dataclass(frozen=True)
class _Source:
    """A file on disk or bytes in memory (an ORA member), re-openable for each decoder pass."""

    name: str
    path: Path | None = None
    data: bytes | None = None

    def target(self) -> Path | io.BytesIO:
        """What Image.open gets: the path (Pillow closes it) or a fresh in-memory stream."""
        return self.path if self.path is not None else io.BytesIO(self.data or b"")

    def open(self) -> BinaryIO:
        return self.path.open("rb") if self.path is not None else io.BytesIO(self.data or b"")

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()


@dataclass
class LoadedImage:
    """Decoded pixels (H×W×4 RGBA, straight alpha) plus what export must keep."""

    pixels: np.ndarray
    depth: int
    icc_profile: bytes | None = None
    exif: bytes | None = None
    format: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def load_image(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Decode the first image/page/frame of `path`, upright (EXIF orientation applied).

    Raises `ImageTooLarge` when the header declares more than `max_pixels` pixels (checked before
    any pixel is decoded) and `ImageLoadError` for anything else that goes wrong.
    """
    path = Path(path)
    name = path.name
    if not path.exists():
        raise ImageLoadError(f"{name}: file not found", str(path))
    if not path.is_file():
        raise ImageLoadError(f"{name}: not a file", str(path))
    return _guarded(_Source(name, path=path), max_pixels)


def decode_image_bytes(data: bytes, name: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """`load_image` for an image held in memory (an OpenRaster member); `name` is for messages."""
    return _guarded(_Source(name, data=bytes(data)), max_pixels)


def _guarded(src: _Source, max_pixels: int) -> LoadedImage:
    try:
        return _load(src, max_pixels)
    except ImageLoadError:
        raise
    except Image.DecompressionBombError as exc:  # raised by some plugins when they seek frames
        raise ImageTooLarge(f"{src.name}: the image is too large to open safely", str(exc)) from exc
    except MemoryError as exc:
        raise ImageLoadError(f"{src.name}: not enough memory to decode this image", str(exc)) from exc
    except Exception as exc:  # Pillow/tifffile/zlib/struct raise many types on damaged input
        raise ImageLoadError(f"{src.name}: {_explain(exc)}", f"{type(exc).__name__}: {exc}") from exc


def header_size(data: bytes | Path, name: str = "") -> tuple[int, int, int] | None:
    """(width, height, depth 8|16) from the header alone — nothing is decoded — or None if the header
    cannot be read this way (the full loader then decides). `data` may be the first bytes only."""
    if isinstance(data, bytes) and data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        return width, height, 16 if data[24] == 16 else 8
    src = _Source(name or "image", data=data) if isinstance(data, bytes) else _Source(data.name, path=data)
    try:
        with _open(src, DEFAULT_MAX_PIXELS) as im:
            raw = _rawmode(im) or ""
            sixteen = im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F") or ";16" in raw
            return im.width, im.height, 16 if sixteen else 8
    except Exception:  # damaged or partial header: not for this function to report
        return None


def describe_header(path: Path) -> dict[str, Any] | None:
    """What the header says (format, size, mode, depth, ICC/EXIF present, frames) without decoding any
    pixel, for images too large to decode within the memory budget; None if Pillow cannot open it."""
    header = header_size(path)
    if header is None:
        return None
    try:
        with _open(_Source(path.name, path=path), DEFAULT_MAX_PIXELS) as im:
            return {"format": im.format or path.suffix.lstrip(".").upper(), "mode": im.mode,
                    "width": header[0], "height": header[1], "depth": header[2],
                    "icc": bool(im.info.get("icc_profile")), "exif": bool(im.info.get("exif")),
                    "frames": getattr(im, "n_frames", 1)}
    except Exception:  # the full loader reports what is wrong
        return None


def load_document(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Document:
    """One-layer document from an image file, named after the file, not modified.

    The memory budget is checked from the header before any pixel is decoded."""
    path = Path(path)
    if path.is_file():
        header = header_size(path)
        if header is not None and header[0] * header[1] <= max_pixels:
            check_document(*header, f"{path.name}: opening it")
    img = load_image(path, max_pixels=max_pixels)
    check_document(img.width, img.height, img.depth, f"{path.name}: opening it")
    meta = Metadata(icc_profile=img.icc_profile, exif=img.exif, source_format=img.format,
                    extra={k: v for k, v in img.info.get("text", {}).items() if isinstance(v, str)})
    doc = Document(img.width, img.height, depth=img.depth, metadata=meta)
    layer = PixelLayer(path.stem or path.name, img.pixels)
    doc.root.children.append(layer)
    doc.active_layer = layer
    doc.path = path
    doc.modified = False
    return doc


# ---------------------------------------------------------------------------------------------

def _explain(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, Image.UnidentifiedImageError):
        return "not an image file Lucid can read (unknown or damaged format)"
    if "truncated" in text.lower():
        return "the file is truncated (incomplete download or damaged file)"
    if isinstance(exc, (OSError, SyntaxError, EOFError)):
        return f"the file is damaged or uses an unsupported variant ({text or type(exc).__name__})"
    return f"could not decode the image ({text or type(exc).__name__})"


def _open(src: _Source, max_pixels: int) -> Image.Image:
    """Image.open reads the header only; Pillow's own bomb check is switched off for that call
    because `_check_size` applies our configurable limit right after, with a clearer message."""
    with _PIL_LIMIT_LOCK:
        old = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            return Image.open(src.target())
        finally:
            Image.MAX_IMAGE_PIXELS = old


def _let_pillow_decode(max_pixels: int) -> None:
    """Raise Pillow's own bomb limit to ours (never lower it). Some decoders (TIFF's load_prepare)
    check it again at decode time; our header check has already applied `max_pixels`, and one limit
    must hold for every format (a 225 MP TIFF opens when a 225 MP PNG does)."""
    with _PIL_LIMIT_LOCK:
        current = Image.MAX_IMAGE_PIXELS
        if current is not None and current < max_pixels:
            Image.MAX_IMAGE_PIXELS = max_pixels


def _check_size(src: _Source, width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageLoadError(f"{src.name}: the image has no pixels ({width}×{height})")
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"{src.name}: {width}×{height} is {width * height / 1e6:.0f} megapixels, over the limit of "
            f"{max_pixels / 1e6:.0f} megapixels")
    _let_pillow_decode(max_pixels)


def _load(src: _Source, max_pixels: int) -> LoadedImage:
    with src.open() as fh:
        head = fh.read(16)
        if head.startswith(b"\x89PNG") or src.suffix == ".png":
            fh.seek(0)
            problem = check_png(fh)
            if problem:
                raise ImageLoadError(f"{src.name}: damaged PNG ({problem})")
    try:
        im = _open(src, max_pixels)
    except Image.UnidentifiedImageError:
        if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
            return _load_tifffile(src, max_pixels, [])
        raise
    with im:
        _check_size(src, im.width, im.height, max_pixels)
        fmt = im.format or src.suffix.lstrip(".").upper()
        notes: list[str] = []
        icc = im.info.get("icc_profile") or None
        pixels, depth, icc = _decode(im, src, icc, notes)
        orientation, exif = _exif(im, notes)
        text = {k: v for k, v in getattr(im, "text", {}).items() if isinstance(v, str)} \
            if im.format == "PNG" else {}
        info: dict[str, Any] = {"mode": im.mode, "size": im.size, "frames": getattr(im, "n_frames", 1)}
    pixels = apply_orientation(pixels, orientation)
    if orientation in range(2, 9):
        info["orientation_applied"] = orientation
    if notes:
        info["notes"] = notes
    if text:
        info["text"] = text
    return LoadedImage(np.ascontiguousarray(pixels), depth, icc, exif, fmt, info)


def _decode(im: Image.Image, src: _Source, icc: bytes | None,
            notes: list[str]) -> tuple[np.ndarray, int, bytes | None]:
    """Pixels as RGBA uint8/uint16 plus the ICC profile that now describes them."""
    raw = _rawmode(im)
    if raw and _SPLIT16.match(raw):
        return _split16(src, im, raw), 16, icc
    if raw and _LA16.match(raw):
        return _la16(src, im, raw), 16, icc
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        gray = np.asarray(im).astype(np.uint16)
        return _gray16_rgba(gray, im.info.get("transparency")), 16, icc
    if mode == "I":
        values = np.asarray(im)
        if values.min(initial=0) < 0 or values.max(initial=0) > 65535:
            notes.append("32-bit integer samples were clipped to 0…65535")
        return _gray16_rgba(np.clip(values, 0, 65535).astype(np.uint16), None), 16, icc
    if mode == "F":
        values = np.nan_to_num(np.asarray(im, dtype=np.float32), nan=0.0)
        if values.min(initial=0) < 0 or values.max(initial=0) > 1:
            notes.append("floating-point samples outside 0…1 were clipped")
        gray = np.round(np.clip(values, 0, 1) * 65535).astype(np.uint16)
        return _gray16_rgba(gray, None), 16, icc
    if mode == "CMYK" or mode == "LAB":
        rgb, icc = _to_srgb(im, icc, notes)
        return np.asarray(rgb.convert("RGBA")), 8, icc
    if mode == "1":
        im = im.convert("L")
    elif mode == "La":
        im = im.convert("LA")
    elif mode not in ("L", "LA", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX"):
        im = im.convert("RGB")  # YCbCr, HSV, …
    out = np.asarray(im.convert("RGBA"))
    if out.dtype != np.uint8 or out.shape[2] != 4:
        raise ImageLoadError(f"{src.name}: unsupported colour mode {mode}")
    return out, 8, icc


def _rawmode(im: Image.Image) -> str | None:
    if not im.tile:
        return None
    args = im.tile[0].args
    raw = args[0] if isinstance(args, tuple) and args else args
    return raw if isinstance(raw, str) else None


def _decode_with(src: _Source, rawmode: str) -> np.ndarray:
    """Re-run Pillow's decoder on `src` with another rawmode (same decompression, other unpacker)."""
    with Image.open(src.target()) as im:
        tiles = []
        for tile in im.tile:
            args = (rawmode, *tile.args[1:]) if isinstance(tile.args, tuple) else rawmode
            tiles.append(tile._replace(args=args))
        im.tile = tiles
        im.load()
        return np.asarray(im)


def _byte_order(suffix: str) -> str:
    if suffix == "B":
        return "big"
    if suffix == "N":
        return sys.byteorder
    return "little"


def _split16(src: _Source, im: Image.Image, raw: str) -> np.ndarray:
    base, suffix = _SPLIT16.match(raw).groups()  # type: ignore[union-attr]
    unassoc = "RGBA" if base == "RGBa" else base
    big = _byte_order(suffix) == "big"
    hi = _decode_with(src, f"{unassoc};16{'B' if big else 'L'}").astype(np.uint16)
    lo = _decode_with(src, f"{unassoc};16{'L' if big else 'B'}")
    values = (hi << 8) | lo
    if values.shape[2] == 3:
        alpha = np.full((*values.shape[:2], 1), 65535, np.uint16)
        trns = im.info.get("transparency")
        if isinstance(trns, tuple) and len(trns) == 3:
            alpha[np.all(values == np.asarray(trns, np.uint16), axis=2)] = 0
        values = np.concatenate([values, alpha], axis=2)
    elif base == "RGBX":
        values[..., 3] = 65535
    elif base == "RGBa":
        values = unpremultiply16(values)
    return values


def _la16(src: _Source, im: Image.Image, raw: str) -> np.ndarray:
    """16-bit gray+alpha has 4 bytes per pixel: decode as 8-bit RGBA and reinterpret the bytes."""
    (suffix,) = _LA16.match(raw).groups()  # type: ignore[union-attr]
    dtype = ">u2" if _byte_order(suffix) == "big" else "<u2"
    raw_bytes = np.ascontiguousarray(_decode_with(src, "RGBA"))
    ga = raw_bytes.view(dtype).reshape(im.height, im.width, 2).astype(np.uint16)
    gray, alpha = ga[..., 0], ga[..., 1]
    return np.stack([gray, gray, gray, alpha], axis=2)


def convert_depth(pixels: np.ndarray, dtype: type | np.dtype) -> np.ndarray:
    """uint8 ⇄ uint16 exactly (k·257) and rounded (16 → 8), so 8 → 16 → 8 is lossless."""
    dtype = np.dtype(dtype)
    if pixels.dtype == dtype:
        return pixels
    if dtype == np.uint16:
        return pixels.astype(np.uint16) * np.uint16(257)
    return ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)


def unpremultiply16(values: np.ndarray) -> np.ndarray:
    """Associated (premultiplied) 16-bit RGBA to straight alpha, rounded."""
    alpha = values[..., 3:4].astype(np.float64)
    rgb = values[..., :3].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        straight = np.where(alpha > 0, rgb * 65535.0 / alpha, 0.0)
    out = values.copy()
    out[..., :3] = np.clip(np.round(straight), 0, 65535).astype(np.uint16)
    return out


def _gray16_rgba(gray: np.ndarray, transparency: object) -> np.ndarray:
    alpha = np.full_like(gray, 65535)
    if isinstance(transparency, int):
        alpha[gray == transparency] = 0
    return np.stack([gray, gray, gray, alpha], axis=2)


def _to_srgb(im: Image.Image, icc: bytes | None, notes: list[str]) -> tuple[Image.Image, bytes | None]:
    """CMYK/LAB to sRGB through the embedded profile when there is one (LittleCMS)."""
    srgb = ImageCms.createProfile("sRGB")
    if im.mode == "LAB":
        transform = ImageCms.buildTransform(ImageCms.createProfile("LAB"), srgb, "LAB", "RGB")
        notes.append("converted from CIE L*a*b* to sRGB")
        return ImageCms.applyTransform(im, transform), None
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            out = ImageCms.profileToProfile(im, source, srgb, outputMode="RGB")
            notes.append("converted from CMYK to sRGB with the embedded ICC profile")
            return out, None  # the pixels are sRGB now; the CMYK profile no longer describes them
        except (ImageCms.PyCMSError, OSError) as exc:
            notes.append(f"embedded CMYK profile unusable ({exc}); used a plain CMYK→RGB conversion")
    else:
        notes.append("CMYK without an ICC profile: used a plain CMYK→RGB conversion")
    return im.convert("RGB"), None


def _exif(im: Image.Image, notes: list[str]) -> tuple[int | None, bytes | None]:
    """Orientation value and the EXIF bytes to keep, minus the orientation tag (now applied).

    Damaged EXIF never stops a load; every failure to read it lands in `notes` the same way
    (`_damaged_exif`), so the user learns that the orientation or the metadata was not kept.
    """
    orientation: int | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = im.getexif().get(ORIENTATION_TAG)
            orientation = int(value) if value is not None else None
        except Exception as exc:  # Pillow raises many types for malformed EXIF
            _damaged_exif(notes, "its orientation was not applied", exc)
        if orientation is not None and orientation not in range(1, 9):
            _damaged_exif(notes, "its orientation was not applied", ValueError(f"orientation {orientation}"))
            orientation = None
        raw = im.info.get("exif")
        if im.format == "TIFF":
            return orientation, _tiff_exif(im, notes)
        if not isinstance(raw, bytes) or not raw:
            return orientation, None
        try:
            exif = Image.Exif()
            exif.load(raw)
            exif.pop(ORIENTATION_TAG, None)
            return orientation, exif.tobytes()
        except Exception as exc:
            _damaged_exif(notes, "it was dropped", exc)
            return orientation, None


def _damaged_exif(notes: list[str], consequence: str, exc: BaseException) -> None:
    """The one wording for an unreadable EXIF block, whichever part of it failed."""
    note = f"the EXIF block is damaged and {consequence} ({type(exc).__name__}: {exc})"
    if note not in notes:
        notes.append(note)


def _tiff_exif(im: Image.Image, notes: list[str]) -> bytes | None:
    """TIFF keeps EXIF in its own directory: copy the descriptive tags and the EXIF sub-directory,
    not the tags that describe the TIFF's layout (those belong to whatever file we write next)."""
    try:
        source = im.getexif()
        exif = Image.Exif()
        for tag in _TIFF_DESCRIPTIVE_TAGS:
            if tag in source:
                exif[tag] = source[tag]
        sub = source.get_ifd(EXIF_IFD_TAG)
        if sub:
            exif[EXIF_IFD_TAG] = dict(sub)
        return exif.tobytes() if len(exif) else None
    except Exception as exc:
        _damaged_exif(notes, "it was dropped", exc)
        return None


def apply_orientation(pixels: np.ndarray, orientation: int | None) -> np.ndarray:
    """Turn pixels upright for an EXIF orientation (1–8), as Pillow's `exif_transpose` does."""
    if orientation == 2:
        return pixels[:, ::-1]
    if orientation == 3:
        return pixels[::-1, ::-1]
    if orientation == 4:
        return pixels[::-1]
    if orientation == 5:
        return pixels.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(pixels, -1)
    if orientation == 7:
        return pixels[::-1, ::-1].swapaxes(0, 1)
    if orientation == 8:
        return np.rot90(pixels, 1)
    return pixels


def _load_tifffile(src: _Source, max_pixels: int, notes: list[str]) -> LoadedImage:
    """TIFFs Pillow cannot open (float RGB, unusual sample layouts): first page through tifffile."""
    import tifffile

    with src.open() as fh, tifffile.TiffFile(fh) as tif:
        page = tif.pages.first
        shape = page.shape
        if page.planarconfig == tifffile.PLANARCONFIG.SEPARATE and len(shape) == 3:
            height, width = shape[1], shape[2]
        else:
            height, width = shape[0], shape[1]
        _check_size(src, int(width), int(height), max_pixels)
        data = page.asarray()
        if page.planarconfig == tifffile.PLANARCONFIG.SEPARATE and data.ndim == 3:
            data = np.moveaxis(data, 0, 2)
        icc = page.tags.get(34675)
        icc_bytes = bytes(icc.value) if icc is not None else None
        orient_tag = page.tags.get(274)
        orientation = int(orient_tag.value) if orient_tag is not None else None
    pixels, depth = array_to_rgba(data, notes)
    pixels = apply_orientation(pixels, orientation)
    info: dict[str, Any] = {"mode": str(data.dtype), "size": (width, height), "reader": "tifffile"}
    if notes:
        info["notes"] = notes
    return LoadedImage(np.ascontiguousarray(pixels), depth, icc_bytes, None, "TIFF", info)


def array_to_rgba(data: np.ndarray, notes: list[str] | None = None) -> tuple[np.ndarray, int]:
    """Gray/GA/RGB/RGBA array of any common dtype to RGBA uint8 or uint16 (floats assumed 0…1)."""
    notes = notes if notes is not None else []
    if data.dtype == np.uint8:
        depth = 8
    elif data.dtype == np.uint16:
        depth = 16
    elif data.dtype.kind == "f":
        values = np.nan_to_num(data.astype(np.float32))
        if values.min(initial=0) < 0 or values.max(initial=0) > 1:
            notes.append("floating-point samples outside 0…1 were clipped")
        data, depth = from_float(values, np.uint16), 16
    elif data.dtype.kind in "iu":
        if data.min(initial=0) < 0 or data.max(initial=0) > 65535:
            notes.append("integer samples were clipped to 0…65535")
        data, depth = np.clip(data, 0, 65535).astype(np.uint16), 16
    else:
        raise ImageLoadError(f"unsupported sample type {data.dtype}")
    try:
        return to_rgba(data), depth
    except ValueError as exc:
        raise ImageLoadError(f"unsupported sample layout {data.shape}") from exc
