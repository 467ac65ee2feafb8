"""`lucid warm-caches`: PatchMatch's kernels cache in the per-user numba folder, filled ahead of time."""

from __future__ import annotations

from pathlib import Path

from editor.cli import main
from editor.infer.numba_cache import configure_numba_cache


def test_patchmatch_kernels_cache_in_the_user_folder_and_warm_caches_fills_it(capsys) -> None:
    from editor.infer.inpaint import _nnf

    folder = configure_numba_cache()
    for kernel in (_nnf.patchmatch, _nnf.vote, _nnf.vote_best, _nnf.distances):
        assert Path(kernel._cache._cache_path).is_relative_to(folder)  # not next to the source
    assert main(["warm-caches", "--only", "inpaint"]) == 0
    out = capsys.readouterr().out
    assert "inpaint: ready in" in out and str(folder) in out
    names = {p.name.split("-")[0] for p in folder.rglob("_nnf.*.nbi")}
    assert {"_nnf.patchmatch", "_nnf.vote", "_nnf.vote_best", "_nnf.distances"} <= names
