"""Which model serves "person" / "auto", and the segment task on a general (U²-Net) model — plumbing with
random weights; the person path is checked on real photos in test_person_and_faces."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from editor.core.errors import LucidError  # noqa: E402
from editor.infer.api import Request, TaskContext  # noqa: E402
from editor.infer.registry import get_task  # noqa: E402
from editor.infer.subject import PERSON_MODEL, band_px, subject_model  # noqa: E402


def _info(mid: str, task: str, installed: bool, default: bool = True, commercial: bool = True):
    m = SimpleNamespace(default=default, commercial_use=commercial, get=lambda _key, fallback=None: fallback)
    return SimpleNamespace(id=mid, task=task, installed=installed, manifest=m)


def test_auto_prefers_an_installed_general_model_else_the_person_model() -> None:
    store = SimpleNamespace(
        list=lambda: [_info("u2netp", "salient", False), _info(PERSON_MODEL, "segment", True)]
    )
    assert subject_model(store, "auto") == PERSON_MODEL
    store = SimpleNamespace(
        list=lambda: [_info("u2netp", "salient", True), _info(PERSON_MODEL, "segment", True)]
    )
    assert subject_model(store, "auto") == "u2netp"
    assert subject_model(store, "person") == PERSON_MODEL
    with pytest.raises(LucidError, match="Unknown subject"):
        subject_model(store, "cat")


def test_band_grows_with_the_image() -> None:
    assert band_px((100, 80)) == 2 and band_px((1080, 1920)) == 19 and band_px((3000, 4000)) == 40


def test_segment_task_runs_a_general_u2net_model_at_image_size() -> None:
    from editor.infer.archs.u2net import U2Net, u2netp_widths

    torch.manual_seed(0)
    net = U2Net(u2netp_widths()).eval()
    img = np.random.default_rng(0).random((90, 130, 3), dtype=np.float32)
    req = Request(
        task="segment", image=img, model_id="u2netp", context=TaskContext(load_model=lambda _id: net)
    )
    result = get_task("segment")(req, lambda _p: None, SimpleNamespace(check=lambda: None))
    assert result.mask.shape == (90, 130) and 0.0 <= result.mask.min() <= result.mask.max() <= 1.0
    assert result.info["model_id"] == "u2netp"
