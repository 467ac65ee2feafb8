"""Helpers that make large OpenRaster saves and opens fast: content boxes and parallel PNG work.

Why threads: PNG encoding (OpenCV, zlib) and decoding (Pillow) release the GIL, so on a 2-core
machine two layers encode at once; the zip itself is written afterwards in order, from one thread.
Why content boxes: an inpaint result is a canvas-sized layer whose mask covers a few hundred pixels;
storing only the box where its mask is non-zero (with the OpenRaster x/y offsets) turns four full
canvas PNGs (raw + baked, per result) into four small ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

T = TypeVar("T")
K = TypeVar("K")


def content_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(y0, x0, y1, x1), half-open, of where `mask` > 0; None if it is zero everywhere."""
    rows = np.flatnonzero(mask.max(axis=1) > 0)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask[rows[0] : rows[-1] + 1].max(axis=0) > 0)
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def run_parallel(jobs: Iterable[tuple[K, Callable[[], T]]]) -> list[tuple[K, T]]:
    """Run each (key, thunk) on a thread pool; results in the jobs' order. The first error is raised."""
    jobs = list(jobs)
    if len(jobs) <= 1:
        return [(key, fn()) for key, fn in jobs]
    with ThreadPoolExecutor(max_workers=min(workers(), len(jobs)), thread_name_prefix="ora") as pool:
        futures = [(key, pool.submit(fn)) for key, fn in jobs]
        return [(key, fut.result()) for key, fut in futures]
