"""The TFLite → torch converter against Google's own runtime (ai-edge-litert), op by op and end to end,
on the real MediaPipe models (installed at set-up) fed with real photos from ../shared/data.

Tolerance: |torch − litert| ≤ 1e-3 · max(1, max |litert|) per tensor — an absolute 1e-3 for values of
order one (probabilities, activations), relative for the landmark model's pixel coordinates (0…192).
"""

from __future__ import annotations

import numpy as np
import pytest
from mp_helpers import (
    DETECTOR,
    GIRL,
    HEAD,
    LANDMARK,
    MAN,
    SELFIE,
    WOMAN,
    litert,
    litert_run,
    model_file,
    photo,
)

torch = pytest.importorskip("torch")
pytest.importorskip("tflite")

from editor.infer.archs.tflite_graph import TfliteModel, to_internal, to_tflite  # noqa: E402
from editor.infer.convert.tflite import (  # noqa: E402
    TfliteFormatError,
    graph_name,
    graph_state,
    read_tflite,
)


def _module(path) -> TfliteModel:
    state = graph_state(read_tflite(path.read_bytes()), graph_name(path.name))
    return TfliteModel({k: torch.from_numpy(v) for k, v in state.items()}).eval()


def _close(ours: np.ndarray, ref: np.ndarray) -> float:
    """Error in units of the tolerance (≤ 1 passes)."""
    return float(np.abs(ours - ref).max()) / (1e-3 * max(1.0, float(np.abs(ref).max())))


def _inputs(spec: tuple[str, str], rel: str) -> np.ndarray:
    """A real photo prepared as each model's own pipeline prepares it."""
    from editor.infer import faces
    from editor.infer.tasks.segment import person_input

    img = photo(rel)
    if spec == SELFIE:
        return person_input(img)
    if spec == DETECTOR:
        return (faces.letterbox(img)[0] * 2 - 1)[None]
    det = faces.detect(_loaded_faces(), img)
    assert det, f"no face found in {rel}"
    d = det[0][0]
    kps = d[4:].reshape(6, 2)
    corners = faces.roi_corners(
        np.array([(d[0] + d[2]) / 2, (d[1] + d[3]) / 2]),
        faces.ROI_SCALE * max(d[2] - d[0], d[3] - d[1]),
        faces._rotation(kps[0], kps[1]),
    )
    return faces.crop(img, corners)[None]


_FACES = {}


def _loaded_faces():
    if "m" not in _FACES:
        from mp_helpers import loaded

        _FACES["m"] = loaded("mediapipe-face-mesh")
    return _FACES["m"]


CASES = [
    (SELFIE, WOMAN),
    (SELFIE, MAN),
    (DETECTOR, HEAD),
    (DETECTOR, MAN),
    (LANDMARK, WOMAN),
    (LANDMARK, GIRL),
]


@pytest.mark.parametrize(
    ("spec", "rel"), CASES, ids=lambda v: v[1] if isinstance(v, tuple) else v.split("/")[-1]
)
def test_end_to_end_matches_litert_on_real_photos(spec, rel) -> None:
    path = model_file(*spec)
    x = _inputs(spec, rel)
    ref = litert_run(litert(path), x)
    with torch.inference_mode():
        ours = [o.numpy() for o in _module(path)(torch.from_numpy(x))]
    assert [o.shape for o in ours] == [r.shape for r in ref]
    errors = [_close(o, r) for o, r in zip(ours, ref, strict=True)]
    assert max(errors) <= 1.0, errors
    assert max(float(np.ptp(r)) for r in ref) > 1e-2  # the outputs vary: the comparison means something


@pytest.mark.parametrize(("spec", "rel"), [(SELFIE, MAN), (DETECTOR, WOMAN), (LANDMARK, WOMAN)], ids=str)
def test_every_op_matches_litert_given_the_same_inputs(spec, rel) -> None:
    """Each op is fed litert's own values for its inputs, so an error points at that op alone."""
    path = model_file(*spec)
    it = litert(path, preserve=True)
    litert_run(it, _inputs(spec, rel))
    graph = _module(path).graph()
    seen: dict[str, float] = {}
    for i, op in enumerate(graph.ops):
        env = {
            j: to_internal(torch.from_numpy(np.array(it.get_tensor(j), np.float32)))
            for j in op["in"]
            if j >= 0 and graph.const(j) is None and j not in graph._ints
        }
        with torch.inference_mode():
            (y,) = graph.run_op(i, env)
        err = _close(to_tflite(y).numpy(), it.get_tensor(op["out"][0]))
        assert err <= 1.0, f"op {i} {op['op']}: {err:.3f} × tolerance"
        seen[op["op"]] = max(seen.get(op["op"], 0.0), err)
    assert len(seen) >= 5, seen


def test_unsupported_ops_and_junk_are_refused(tmp_path) -> None:
    with pytest.raises(TfliteFormatError, match="Not a TFLite"):
        read_tflite(b"\0" * 64)
    path = model_file(*SELFIE)
    data = bytearray(path.read_bytes())
    with pytest.raises(TfliteFormatError):
        read_tflite(bytes(data[: len(data) // 3]))  # truncated


def test_converted_file_loads_through_the_safe_loader(tmp_path) -> None:
    from editor.infer.convert.tflite import convert
    from editor.infer.manifest import ConvertSpec
    from editor.infer.safe_load import load_model

    path = model_file(*SELFIE)

    class M:
        name = "selfie"
        convert = ConvertSpec(kind="tflite", output="out.safetensors")

    out = convert(M, {path.name: path}, tmp_path)
    desc = load_model(out)
    x = torch.rand(1, 256, 256, 3)
    with torch.inference_mode():
        (y,) = desc.model(x)
    (ref,) = litert_run(litert(path), x.numpy())
    assert _close(y.numpy(), ref) <= 1.0
