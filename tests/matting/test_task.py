"""The "matting" task through the registry, as the service and the CLI call it."""

from __future__ import annotations

import numpy as np
import pytest

from editor.infer.api import Cancelled, CancelToken, InferenceError, Progress, Request
from editor.infer.registry import get_task

pytestmark = pytest.mark.usefixtures("matting_warm")


def _trimap_request(plate_scene: dict, **params) -> Request:
    alpha = plate_scene["alpha"]
    trimap = np.full(alpha.shape, 0.5, np.float32)
    trimap[alpha > 0.999] = 1.0
    trimap[alpha < 0.001] = 0.0
    return Request(task="matting", image=plate_scene["photo"], inputs={"trimap": trimap}, params=params)


@pytest.mark.parametrize("engine", ["cf", "knn", "lkm"])
def test_trimap_mode_returns_cutout_and_alpha(plate_scene: dict, engine: str) -> None:
    seen: list[Progress] = []
    result = get_task("matting")(_trimap_request(plate_scene, engine=engine), seen.append, CancelToken())
    alpha, rgba = result.images["alpha"], result.image
    h, w = plate_scene["alpha"].shape
    assert rgba.shape == (h, w, 4) and rgba.dtype == np.float32 and alpha.shape == (h, w)
    np.testing.assert_array_equal(rgba[..., 3], alpha)
    assert float(np.abs(alpha - plate_scene["alpha"]).mean()) < 0.02
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert result.info["engine"] == engine and result.info["mode"] == "trimap"


def test_plate_mode_with_corrections(plate_scene: dict) -> None:
    user = np.full(plate_scene["alpha"].shape, 0.5, np.float32)
    user[:32, 40:80] = 0.0
    request = Request(
        task="matting",
        image=plate_scene["photo"],
        inputs={"plate": plate_scene["plate"], "trimap": user},
        params={"mode": "plate"},
    )
    result = get_task("matting")(request, lambda p: None, CancelToken())
    assert result.info["mode"] == "plate" and "homography" in result.info
    assert np.all(result.images["alpha"][:32, 40:80] == 0)
    assert result.images["alpha"][50, 60] > 0.95


def test_cancel_and_bad_requests(plate_scene: dict) -> None:
    run = get_task("matting")
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        run(_trimap_request(plate_scene), lambda p: None, token)
    with pytest.raises(InferenceError, match="mode"):
        run(_trimap_request(plate_scene, mode="magic"), lambda p: None, CancelToken())
    with pytest.raises(InferenceError, match="engine"):
        run(_trimap_request(plate_scene, engine="bayes"), lambda p: None, CancelToken())
    with pytest.raises(InferenceError, match="needs a trimap"):
        run(Request(task="matting", image=plate_scene["photo"]), lambda p: None, CancelToken())
    with pytest.raises(InferenceError, match="plate"):
        run(
            Request(task="matting", image=plate_scene["photo"], params={"mode": "plate"}),
            lambda p: None,
            CancelToken(),
        )


def test_cancel_during_solve_stops_the_job(plate_scene: dict) -> None:
    token = CancelToken()

    def progress(p: Progress) -> None:
        if p.stage == "Solving alpha":
            token.cancel()

    with pytest.raises(Cancelled):
        get_task("matting")(_trimap_request(plate_scene), progress, token)
