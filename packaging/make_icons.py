#!/usr/bin/env python3
"""Generate Lucid's app icon files from `resources/icons/app/lucid.svg`.

    .venv/bin/python packaging/make_icons.py          # rewrite the PNGs, .ico and .icns
    .venv/bin/python packaging/make_icons.py --check  # exit 1 if any generated file is missing or stale

Qt's QSvgRenderer (PySide6.QtSvg, part of PySide6-Essentials) draws the SVG once at 1024 px, then
Pillow makes every smaller PNG (Lanczos), the Windows `.ico` (16–256) and the macOS `.icns`
(16–1024). The generated files are committed so a build needs neither step; run this again after
editing the SVG. Works offscreen (no display needed).

"Stale" means the files *show* something else: every size decoded (each frame of the .ico and
.icns) and compared as premultiplied RGBA within a small tolerance. Bytes are no test: another
Pillow release encodes the same pixels differently (Pillow 13 rewrote the .icns writer).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
APP_ICONS = ROOT / "resources" / "icons" / "app"
SVG = APP_ICONS / "lucid.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
MASTER = 1024


def render_master(svg: Path = SVG, size: int = MASTER):
    """The SVG drawn by QSvgRenderer at `size`², as a Pillow RGBA image (straight alpha)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(["make_icons"])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"Qt cannot read {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    buf.close()
    return Image.open(io.BytesIO(bytes(data))).convert("RGBA")


def outputs(master) -> dict[str, bytes]:
    """File name → bytes of every generated icon file."""
    from PIL import Image

    files: dict[str, bytes] = {}
    scaled = {}
    for size in sorted({*PNG_SIZES, *ICO_SIZES}):
        scaled[size] = master.resize((size, size), Image.Resampling.LANCZOS)
    for size in PNG_SIZES:
        files[f"lucid-{size}.png"] = _save(scaled[size], "PNG", optimize=True)
    big = scaled[max(ICO_SIZES)]
    files["lucid.ico"] = _save(big, "ICO", sizes=[(s, s) for s in ICO_SIZES],
                               append_images=[scaled[s] for s in ICO_SIZES if s != max(ICO_SIZES)])
    files["lucid.icns"] = _save(master, "ICNS")
    return files


MEAN_TOLERANCE = 1.0  # mean |difference| per channel, 0–255 levels
PEAK_TOLERANCE = 24.0  # 99.9th percentile: antialiased edges may move a little between Qt releases


def decode_frames(data: bytes) -> dict[tuple[int, ...], np.ndarray]:
    """Every image an icon file holds, by its size key, as premultiplied float RGBA (0–255)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        if im.format == "ICO":
            frames = {s: im.ico.getimage(s) for s in im.ico.sizes()}
        elif im.format == "ICNS":
            frames = {s: im.icns.getimage(s) for s in im.icns.itersizes()}
        else:
            frames = {im.size: im.copy()}
    out = {}
    for size, frame in frames.items():
        rgba = np.asarray(frame.convert("RGBA"), np.float32)
        rgba[..., :3] *= rgba[..., 3:] / 255.0  # hidden colour under alpha 0 shows nothing
        out[tuple(size)] = rgba
    return out


def icon_difference(expected: bytes, actual: bytes) -> str | None:
    """Why `actual` does not show what `expected` shows (a missing size, other pixels), or None."""
    want, got = decode_frames(expected), decode_frames(actual)
    if sorted(want) != sorted(got):
        return f"sizes {sorted(got)} instead of {sorted(want)}"
    for size, a in want.items():
        b = got[size]
        if a.shape != b.shape:
            return f"size {size} decodes to {b.shape[:2]} instead of {a.shape[:2]}"
        diff = np.abs(a - b)
        mean, peak = float(diff.mean()), float(np.percentile(diff, 99.9))
        if mean > MEAN_TOLERANCE or peak > PEAK_TOLERANCE:
            return f"size {size} differs (mean {mean:.2f}, 99.9th percentile {peak:.1f} levels)"
    return None


def stale_files(files: dict[str, bytes]) -> dict[str, str]:
    """Generated file name → why the committed one is missing or shows something else."""
    stale = {}
    for name, data in files.items():
        path = APP_ICONS / name
        if not path.is_file():
            stale[name] = "missing"
        elif (why := icon_difference(data, path.read_bytes())) is not None:
            stale[name] = why
    return stale


def _save(image, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kw)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check that the generated files are current")
    args = ap.parse_args(argv)
    files = outputs(render_master())
    stale = stale_files(files)
    if args.check:
        for name, why in stale.items():
            print(f"stale or missing: resources/icons/app/{name} ({why})", file=sys.stderr)
        return 1 if stale else 0
    for name in stale:
        (APP_ICONS / name).write_bytes(files[name])
        print(f"wrote resources/icons/app/{name} ({len(files[name]):,} bytes)")
    if not stale:
        print("icons are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
