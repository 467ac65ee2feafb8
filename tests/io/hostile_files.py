"""Builders for hostile OpenRaster files (tests and tests/bench/bench_hostile.py share them)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from PIL import Image


def png_bytes(w: int, h: int, colour: tuple[int, int, int, int] = (1, 2, 3, 255)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (w, h), colour).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def ora_with_layers(path: Path, w: int, h: int, layers: list[str], members: dict[str, bytes]) -> Path:
    """A plain .ora: canvas w×h, one <layer> per entry of `layers` (its src), the given members."""
    stack = "".join(f'<layer name="l{i}" src="{src}"/>' for i, src in enumerate(layers))
    xml = f'<?xml version="1.0"?><image version="0.0.6" w="{w}" h="{h}"><stack>{stack}</stack></image>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), b"image/openraster", compress_type=zipfile.ZIP_STORED)
        zf.writestr("stack.xml", xml)
        for name, data in members.items():
            zf.writestr(name, data)
    return path
