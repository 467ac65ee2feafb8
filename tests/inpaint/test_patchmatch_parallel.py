"""The row-parallel PatchMatch kernels: the fill does not depend on how many threads ran it."""

from __future__ import annotations

import numba
import numpy as np

from editor.infer.inpaint import _nnf
from editor.infer.inpaint.patchmatch import fill


def test_same_fill_with_one_thread_and_with_all(textured) -> None:
    img, mask = textured
    hole = mask > 0
    one = fill(img, hole, seed=5, threads=1)
    many = fill(img, hole, seed=5, threads=numba.config.NUMBA_NUM_THREADS)
    assert np.array_equal(one, many)
    assert np.array_equal(one[~hole], img[~hole]) and not np.array_equal(one[hole], img[hole])


def test_the_fill_leaves_a_core_for_the_gui_and_restores_numbas_setting(textured, monkeypatch) -> None:
    """By default the kernels run on cores − 1 threads (the torch worker's policy; on a busy 2-core
    machine two spinning OpenMP threads made the fill 3× slower), and the caller's setting comes back."""
    from editor.infer import device

    img, mask = textured
    seen: list[int] = []
    monkeypatch.setattr(device, "default_cpu_threads", lambda: 1)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    fill(img, mask > 0, seed=5, progress=lambda _p: seen.append(numba.get_num_threads()))
    assert seen and set(seen) == {1}
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS


def test_vectorised_distance_matches_a_plain_sum() -> None:
    rng = np.random.default_rng(0)
    F = rng.random((20, 24, 5)).astype(np.float32)
    ty, tx = np.array([5, 9], np.int32), np.array([6, 15], np.int32)
    ny, nx = np.array([12, 4], np.int32), np.array([17, 8], np.int32)
    out = np.empty(2, np.float32)
    _nnf.distances(F.reshape(20, -1), 5, ty, tx, ny, nx, 3, out)
    for i in range(2):
        a = F[ty[i] - 3 : ty[i] + 4, tx[i] - 3 : tx[i] + 4]
        b = F[ny[i] - 3 : ny[i] + 4, nx[i] - 3 : nx[i] + 4]
        assert abs(out[i] - float(((a - b) ** 2).sum())) < 1e-3
