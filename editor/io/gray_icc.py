"""A linear-gray ICC profile for Lucid's mask and selection PNGs inside projects.

Why: every PNG in a project carries a profile, so no reader has to guess (Krita asks in a dialog when a
16-bit PNG has none). Masks hold coverage, a linear quantity, so their profile is gray with an identity
tone curve. Pillow's ImageCms can only *create* sRGB/Lab/XYZ profiles, so the few tags an ICC v2 gray
display profile needs (ICC.1:2001-04: desc, cprt, wtpt, kTRC) are laid out here as data, and LittleCMS
parses the result (`tests/io/test_gray_icc.py`) — no colour maths is done here.
"""

from __future__ import annotations

import struct
from functools import lru_cache

_D50 = (0x0000F6D6, 0x00010000, 0x0000D32D)  # the PCS illuminant, s15Fixed16 (0.9642, 1.0, 0.8249)
_DATE = struct.pack(">6H", 2026, 1, 1, 0, 0, 0)  # fixed, so the bytes are the same in every process
DESCRIPTION = b"Lucid linear gray (mask coverage)"


def _pad4(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _tags() -> list[tuple[bytes, bytes]]:
    desc = (b"desc" + b"\0" * 4 + struct.pack(">I", len(DESCRIPTION) + 1) + DESCRIPTION + b"\0"
            + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\0" * 67)
    cprt = b"text" + b"\0" * 4 + b"No copyright, use freely\0"
    wtpt = b"XYZ " + b"\0" * 4 + struct.pack(">3I", *_D50)
    ktrc = b"curv" + b"\0" * 4 + struct.pack(">I", 0)  # no entries: the identity curve (linear)
    return [(b"desc", desc), (b"cprt", cprt), (b"wtpt", wtpt), (b"kTRC", ktrc)]


@lru_cache(maxsize=1)
def linear_gray_profile() -> bytes:
    """The serialised profile (a few hundred bytes)."""
    tags = _tags()
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table, body = [struct.pack(">I", len(tags))], []
    for sig, data in tags:
        table.append(struct.pack(">4sII", sig, offset, len(data)))
        body.append(_pad4(data))
        offset += len(body[-1])
    size = offset
    header = (struct.pack(">I4sI4s4s4s", size, b"lcms", 0x02100000, b"mntr", b"GRAY", b"XYZ ") + _DATE
              + b"acsp" + struct.pack(">4sI4sI", b"\0\0\0\0", 0, b"\0\0\0\0", 0) + b"\0" * 8
              + struct.pack(">I", 0) + struct.pack(">3I", *_D50) + b"\0" * 4 + b"\0" * 16 + b"\0" * 28)
    assert len(header) == 128
    return header + b"".join(table) + b"".join(body)
