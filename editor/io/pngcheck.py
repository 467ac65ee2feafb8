"""Structural check of a PNG before decoding: signature, chunk CRCs, IHDR first, IDAT, IEND.

Why: Pillow skips the CRC of image data and accepts some broken files (PngSuite `xcsn0g01`),
which would load as silently wrong pixels. Reading the chunks costs one pass of crc32 in C.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_BLOCK = 1 << 20
_VALID_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


def check_png(fh: BinaryIO) -> str | None:
    """None when the stream holds a structurally sound PNG, else a short description of the damage."""
    if fh.read(8) != PNG_SIGNATURE:
        return "bad signature: not a PNG, or damaged by a text-mode transfer"
    seen_idat = first = False
    while True:
        header = fh.read(8)
        if len(header) < 8:
            return "the file is truncated (no IEND chunk)"
        length, ctype = struct.unpack(">I4s", header)
        if not ctype.isalpha() or length > 0x7FFFFFFF:
            return "invalid chunk header (damaged data)"
        if not first:
            first = True
            if ctype != b"IHDR":
                return "the first chunk is not IHDR"
        crc = zlib.crc32(ctype)
        remaining = length
        data = b""
        while remaining:
            block = fh.read(min(remaining, _BLOCK))
            if not block:
                return f"the file is truncated inside the {ctype.decode()} chunk"
            crc = zlib.crc32(block, crc)
            if ctype == b"IHDR":
                data += block
            remaining -= len(block)
        stored = fh.read(4)
        if len(stored) < 4:
            return f"the file is truncated inside the {ctype.decode()} chunk"
        if struct.unpack(">I", stored)[0] != crc & 0xFFFFFFFF:
            return f"checksum error in the {ctype.decode()} chunk"
        if ctype == b"IHDR":
            problem = _check_ihdr(data)
            if problem:
                return problem
        elif ctype == b"IDAT":
            seen_idat = True
        elif ctype == b"IEND":
            return None if seen_idat else "no image data (IDAT chunk missing)"


def _check_ihdr(data: bytes) -> str | None:
    if len(data) != 13:
        return "IHDR chunk has the wrong length"
    width, height, depth, color = struct.unpack(">IIBB", data[:10])
    if width == 0 or height == 0:
        return "zero width or height"
    if color not in _VALID_DEPTHS:
        return f"invalid colour type {color}"
    if depth not in _VALID_DEPTHS[color]:
        return f"invalid bit depth {depth} for colour type {color}"
    return None
