"""Fast PNG encoding for project members: parallel bands, and bands shared between similar images.

The image is cut into bands of rows; each band is filtered (PNG "Sub", in numpy), checksummed and
deflated on its own with a full flush at its end (as pigz does), so bands encode in parallel
threads (numpy and zlib release the GIL); and since a band's bytes depend only on its rows, a band
that is identical in two images (the photo layer and `mergedimage.png`, which differ only where
small results lie) is encoded once. The zlib stream is the bands' concatenation, an empty final
block and the Adler-32 of all the data (combined from the bands'), so any PNG reader decodes it.

Strategy Z_RLE at level 1, by measurement on a noisy 6 MP photo: 0.5 s and 9.5 MB, against
0.85 s / 10.6 MB for the default strategy at level 1 (levels 3 and 6 with Z_RLE: same size, no
faster) and 0.6 s / 11.2 MB for one `cv2.imencode`. Fully opaque RGBA is written as RGB (a quarter
less to compress); readers give it back opaque. An ICC profile goes in as iCCP right after IHDR.
"""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from editor.io.png16 import _chunk
from editor.io.pngcheck import PNG_SIGNATURE

BAND_BYTES = 1 << 21  # ~2 MB of filtered rows per band: the dictionary reset per band costs ~nothing
LEVEL = 1
_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # channels → PNG colour type (gray, gray+alpha, RGB, RGBA)
_MAX_CHUNK = (1 << 31) - 1  # the PNG limit on one chunk's length
_FINAL_BLOCK = b"\x03\x00"  # an empty final deflate block (fixed Huffman), after a full flush


def sub_filtered(pixels: np.ndarray) -> np.ndarray:
    """H×(1 + W·bpp) uint8: each row prefixed by filter type 1 (Sub), big-endian samples for 16 bits."""
    h, w, c = pixels.shape
    bpp = c * pixels.itemsize
    out = np.empty((h, w * bpp + 1), np.uint8)
    out[:, 0] = 1
    if pixels.dtype == np.uint8:  # two passes, straight from a strided view (RGB of RGBA)
        body = out[:, 1:].reshape(h, w, c)
        body[...] = pixels
        body[:, 1:] -= pixels[:, :-1]
        return out
    rows = np.ascontiguousarray(pixels, dtype=">u2").view(np.uint8).reshape(h, w * bpp)
    out[:, 1:] = rows
    out[:, 1 + bpp :] -= rows[:, :-bpp]
    return out


_ADLER_BASE = 65521


def adler32_combine(adler1: int, adler2: int, len2: int) -> int:
    """Adler-32 of A+B from those of A and B and the length of B (zlib's adler32_combine)."""
    rem = len2 % _ADLER_BASE
    sum1 = adler1 & 0xFFFF
    sum2 = (rem * sum1) % _ADLER_BASE
    sum1 += (adler2 & 0xFFFF) + _ADLER_BASE - 1
    sum2 += ((adler1 >> 16) & 0xFFFF) + ((adler2 >> 16) & 0xFFFF) + _ADLER_BASE - rem
    return (sum1 % _ADLER_BASE) | ((sum2 % _ADLER_BASE) << 16)


def _band_job(band: np.ndarray, level: int) -> tuple[bytes, int, int]:
    """Filter, checksum and deflate one band of rows (in a worker: numpy and zlib release the GIL)."""
    rows = sub_filtered(band)
    comp = zlib.compressobj(level, zlib.DEFLATED, -15, 8, zlib.Z_RLE)
    return comp.compress(rows) + comp.flush(zlib.Z_FULL_FLUSH), zlib.adler32(rows), rows.size


class PngEncoder:
    """Encodes PNGs band by band on `pool`; a band equal to one already seen is not encoded again.

    Thread-safe: several images may be encoded at once from different threads.
    """

    def __init__(self, pool: ThreadPoolExecutor, level: int = LEVEL) -> None:
        self.pool, self.level = pool, level
        self._lock = threading.Lock()
        self._bands: dict[tuple, list[tuple[np.ndarray, Future]]] = {}

    def _band(self, band: np.ndarray, same: np.ndarray, key: tuple) -> Future:
        """`same`: the band's rows as stored (contiguous), what equality is judged on (a fast memcmp)."""
        with self._lock:
            seen = self._bands.setdefault(key, [])
            for arr, fut in seen:
                if np.array_equal(arr, same):
                    return fut
            fut = self.pool.submit(_band_job, band, self.level)
            seen.append((same, fut))
            return fut

    def encode(self, pixels: np.ndarray, *, icc_profile: bytes | None = None,
               patches: Sequence[tuple[int, int, np.ndarray]] = ()) -> bytes:
        """H×W or H×W×{1..4} uint8/uint16 (gray, gray+alpha, RGB, RGBA; straight alpha) → PNG bytes.

        `patches`: (y, x, pixels) pasted over `pixels` first, band by band, so an image that is
        `pixels` but for a few small areas is never copied whole (the merged image over the photo).
        """
        px = pixels[:, :, None] if pixels.ndim == 2 else pixels
        if px.dtype not in (np.uint8, np.uint16) or px.ndim != 3 or px.shape[2] not in _COLOR_TYPE:
            raise ValueError(f"expected H×W×(1..4) uint8/uint16 pixels, got {pixels.shape} {pixels.dtype}")
        stored = np.ascontiguousarray(px)
        top = np.iinfo(px.dtype).max
        c = px.shape[2]
        if c == 4 and px[..., 3].min() == top and all(p[..., 3].min() == top for _y, _x, p in patches):
            c = 3  # opaque: RGB
        h, w = px.shape[:2]
        step = max(1, BAND_BYTES // (w * c * px.itemsize + 1))
        futures = []
        for y in range(0, h, step):
            same = _patched(stored, y, min(h, y + step), patches)
            key = (stored.shape[1:], c, stored.dtype.str, y, y + step)
            futures.append(self._band(same[..., :c], same, key))
        zdata, adler = [b"\x78\x01"], 1
        for fut in futures:
            data, band_adler, size = fut.result()
            zdata.append(data)
            adler = adler32_combine(adler, band_adler, size)
        zdata += [_FINAL_BLOCK, struct.pack(">I", adler)]
        out = [PNG_SIGNATURE,
               _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8 * px.itemsize, _COLOR_TYPE[c], 0, 0, 0))]
        if icc_profile:
            out.append(_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc_profile)))
        out += _idat_chunks(zdata)
        out.append(_chunk(b"IEND", b""))
        return b"".join(out)


def _patched(stored: np.ndarray, y0: int, y1: int,
             patches: Sequence[tuple[int, int, np.ndarray]]) -> np.ndarray:
    """Rows y0:y1 of `stored` with the patches that reach them pasted in (a copy only if any does)."""
    band = stored[y0:y1]
    hits = [(y, x, p) for y, x, p in patches if y < y1 and y + p.shape[0] > y0]
    if hits:
        band = band.copy()
        for y, x, p in hits:
            a, b = max(y, y0), min(y + p.shape[0], y1)
            band[a - y0 : b - y0, x : x + p.shape[1]] = p[a - y : b - y]
    return band


def _idat_chunks(parts: list[bytes]) -> list[bytes]:
    """IDAT chunks holding `parts` in order, without joining them first (one copy, in the caller)."""
    out: list[bytes] = []
    group: list[bytes] = []
    size = 0
    for part in [*parts, None]:
        if part is None or (group and size + len(part) > _MAX_CHUNK):
            crc = zlib.crc32(b"IDAT")
            for g in group:
                crc = zlib.crc32(g, crc)
            out += [struct.pack(">I", size), b"IDAT", *group, struct.pack(">I", crc & 0xFFFFFFFF)]
            group, size = [], 0
        if part is not None:
            group.append(part)
            size += len(part)
    return out


def encode_png(pixels: np.ndarray, *, icc_profile: bytes | None = None) -> bytes:
    """One PNG on a private pool (see `PngEncoder` to share bands between images)."""
    from editor.io.ora_parallel import workers

    with ThreadPoolExecutor(max_workers=workers(), thread_name_prefix="png") as pool:
        return PngEncoder(pool).encode(pixels, icc_profile=icc_profile)
