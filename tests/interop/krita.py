"""Run Krita headless to export .ora projects to PNG, and compare images the way the interop bar asks.

`krita IN.ora --export --export-filename OUT.png` on a private Xvfb display. One Krita start costs seconds, so
documents are exported by several Krita processes at once, each with its own config folders (no shared
lock, no first-run state). A blocking dialog (e.g. Krita's "which profile?" question for untagged 16-bit
PNGs) would hang the export: every run has a timeout and reports it as such.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

from editor.io.icc import is_srgb, to_srgb_rgba8
from editor.io.images import load_image

KRITA_TIMEOUT_S = 180


def missing_tools() -> str | None:
    """Why the interop check cannot run here, or None."""
    if shutil.which("krita") is None:
        return "Krita is not installed (apt-get install krita): interop checks skipped"
    if shutil.which("Xvfb") is None:
        return "Xvfb is not installed (apt-get install xvfb): Krita needs an X display"
    return None


@contextmanager
def x_display() -> Iterator[str]:
    """One private Xvfb for all Krita runs (xvfb-run -a races when started in parallel)."""
    read, write = os.pipe()
    cmd = ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"]
    server = subprocess.Popen(cmd, pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        with os.fdopen(read) as fh:
            number = fh.readline().strip()
        socket_path = Path(f"/tmp/.X11-unix/X{number}")
        for _ in range(100):  # the socket can lag the display number, and accepting can lag the socket
            if _accepts(socket_path) or server.poll() is not None:
                break
            time.sleep(0.05)
        if not number or server.poll() is not None or not _accepts(socket_path):
            raise RuntimeError(f"Xvfb did not start (display {number!r})")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _accepts(path: Path) -> bool:
    """Whether an X server answers on this socket (a Krita started before that gets "could not
    connect to display" and aborts: the flake seen twice, on a loaded machine)."""
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def export_with_krita(jobs: list[tuple[Path, Path]], workdir: Path) -> dict[Path, str]:
    """Export every (ora, png) pair with Krita, in parallel; returns {ora: problem} for the failures."""
    with x_display() as display:
        problems = _export(jobs, workdir, display)
        # A Krita that could not reach the display aborted before reading anything: once more, alone.
        again = [(src, out) for src, out in jobs if src in problems and _no_display(workdir, jobs, src)]
        for i, job in enumerate(again):
            problems.pop(job[0])
            problems.update(_export([job], workdir / f"again-{i}", display))
        return problems


def _no_display(workdir: Path, jobs: list[tuple[Path, Path]], src: Path) -> bool:
    i = [s for s, _ in jobs].index(src)
    log = workdir / f"krita-{i}.log"
    return log.is_file() and b"could not connect to display" in log.read_bytes()


def _export(jobs: list[tuple[Path, Path]], workdir: Path, display: str) -> dict[Path, str]:
    procs = []
    for i, (src, out) in enumerate(jobs):
        home = workdir / f"krita-home-{i}"
        home.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), DISPLAY=display,
                   XDG_DATA_HOME=str(home / ".local/share"), XDG_CACHE_HOME=str(home / ".cache"))
        env.pop("QT_QPA_PLATFORM", None)
        log = (workdir / f"krita-{i}.log").open("wb")
        cmd = ["krita", "--nosplash", str(src), "--export", "--export-filename", str(out)]
        procs.append((src, out, subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                 start_new_session=True), log))
    problems: dict[Path, str] = {}
    for src, out, proc, log in procs:
        try:
            proc.wait(timeout=KRITA_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            problems[src] = f"Krita did not finish in {KRITA_TIMEOUT_S} s (a dialog may be waiting)"
        log.close()
        if src not in problems and not out.is_file():
            problems[src] = f"Krita wrote no {out.name} (exit {proc.returncode}); see {log.name}"
    return problems


def as_srgb_float(path: Path) -> np.ndarray:
    """An image file as straight float RGBA in sRGB: converted through its embedded profile (LittleCMS)."""
    img = load_image(path)
    px = img.pixels
    if not is_srgb(img.icc_profile):
        px8 = (px >> 8).astype(np.uint8) if px.dtype == np.uint16 else px
        return to_srgb_rgba8(px8, img.icc_profile).astype(np.float64) / 255.0
    top = 65535.0 if px.dtype == np.uint16 else 255.0
    return px.astype(np.float64) / top


def srgb_of(rgba: np.ndarray, icc: bytes | None) -> np.ndarray:
    """Straight float RGBA (0…1) described by `icc` → straight float sRGB, through LittleCMS at 8 bits."""
    px8 = np.clip(np.rint(rgba * 255.0), 0, 255).astype(np.uint8)
    return to_srgb_rgba8(px8, icc).astype(np.float64) / 255.0


def compare(got: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Premultiplied differences in 1/255 units: the share of pixels within 6/255 and the mean."""
    def prem(a):
        return np.concatenate([a[..., :3] * a[..., 3:], a[..., 3:]], axis=-1) * 255.0

    diff = np.abs(prem(got) - prem(truth))
    per_pixel = diff.max(axis=-1)
    return {"within6": float((per_pixel <= 6.0).mean()), "mean": float(diff.mean()), "max": float(diff.max())}


def profile_of(path: Path) -> bytes | None:
    with Image.open(path) as im:
        return im.info.get("icc_profile")

