"""LaMa end to end with random weights: manifest → local HTTP download (sha256) → safe load → task.

Random weights prove the plumbing only (detection, download, masking, crop and paste); quality
claims come from the real model.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from conftest import texture_image
from test_download_server import LocalServer, sha

from editor.infer.api import CancelToken, Request, TaskContext
from editor.infer.inpaint.engines import LAMA_MODEL_ID
from editor.infer.safe_load import load_model
from editor.infer.store import ModelStore
from editor.infer.tasks.inpaint import run as run_task


def _random_lama_bytes(tmp: Path) -> bytes:
    import torch
    from safetensors.torch import save_file
    from spandrel.architectures.LaMa import LaMa

    torch.manual_seed(0)
    net = LaMa(in_nc=4, out_nc=3)
    p = tmp / "lama.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(p))
    return p.read_bytes()


@pytest.mark.slow
def test_lama_random_weights_through_store_and_task(tmp_path: Path) -> None:
    t0 = time.monotonic()
    blob = _random_lama_bytes(tmp_path)
    server = LocalServer(files={"/big-lama.safetensors": blob}).start()
    try:
        manifests = tmp_path / "manifests"
        manifests.mkdir()
        (manifests / "big-lama.toml").write_text(f'''
id = "{LAMA_MODEL_ID}"
name = "LaMa (test, random weights)"
task = "inpaint"
architecture = "LaMa"
code_license = "Apache-2.0"
weights_license = "Apache-2.0"
commercial_use = true
source = "test"
[[files]]
name = "big-lama.safetensors"
sha256 = "{sha(blob)}"
size = {len(blob)}
url = "{server.url('/big-lama.safetensors')}"
''')
        store = ModelStore(tmp_path / "models", manifest_dirs=[manifests])
        path = store.fetch(LAMA_MODEL_ID)
        assert [entry.path for entry in server.log] == ["/big-lama.safetensors"]
    finally:
        server.stop()
    model = load_model(path)
    assert type(model.model).__name__ == "LaMa"
    loaded: list[str] = []

    def loader(model_id: str):
        loaded.append(model_id)
        return model

    img = texture_image(72, 90)
    mask = np.zeros((72, 90), np.float32)
    mask[20:44, 30:60] = 1.0
    res = run_task(Request(task="inpaint", image=img, mask=mask, params={"engine": "lama"}, seed=0,
                           context=TaskContext(load_model=loader)), lambda _p: None, CancelToken())
    assert loaded == [LAMA_MODEL_ID]
    assert res.info["engine"] == "lama" and res.info["model_id"] == LAMA_MODEL_ID
    out = res.image
    assert out.shape == img.shape and np.isfinite(out).all()
    touched = res.mask > 0
    assert np.array_equal(out[~touched], img[~touched])
    assert not np.array_equal(out[20:44, 30:60], img[20:44, 30:60])
    assert time.monotonic() - t0 < 120
