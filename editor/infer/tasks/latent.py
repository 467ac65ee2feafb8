"""Task "latent": invert a face into a GAN, edit it along directions, composite it back.

One-shot (CLI, re-run from a recipe): `action="edit"` (default) = align → invert → edit → composite.
Interactive (the Latent Edit panel, through the service, no torch in the UI):
- `action="invert"` → a session kept on the worker side (`info["session"]`), the reconstruction
  (`images["crop"]`), the available directions (`info["directions"]`: name, source);
- `action="render"` with `session` and `edits` → a fast preview crop (`params["size"]`, default 128);
- `action="apply"` with `session` and `edits` → the composite, like "edit" without inverting again;
- `action="close"` → forget the session.

Inputs: `request.image` the photo (H×W×3/4 float32), `request.mask` an optional user mask (photo space,
replaces the face ellipse), `request.inputs["hole"]` the part to fill for `mode="inpaint"` (photo space).
Params: `generator` (a file; or `request.model_id` of an installed model), `eyes` [x1, y1, x2, y2],
`mouth` [x, y], `steps` (200), `space` ("w+"), `mode` ("reconstruct" | "superres" | "inpaint"),
`scale` (superres, 4), `finetune` (fine-tuning steps, 0), `edits` {name: amount}, `directions`
(paths of InterFaceGAN `.npy` or Lucid `.json` files), `n_sefa`/`n_pca` (8), `seed` (0),
`keep_detail` (true: paste only the edit's change, keeping the photo's detail), `colour_match`
(true, when not keeping detail), `weights_delta` (arrays from an earlier result, to re-run without inverting).
Result of edit/apply: `images["image"]` the whole photo (bit-identical outside `mask`), `images["crop"]`
the edited crop, `mask`, `info["recipe"]` (JSON-safe), `info["weights_delta"]` (name → float16 array:
the fine-tuning, for the integrator to save beside the project) and `info["noise"]` (noise maps).
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from editor.infer.api import CancelToken, InferenceError, Progress, ProgressFn, Request, Result

_MAX_SESSIONS = 2
_sessions: OrderedDict[str, Any] = OrderedDict()
_generators: OrderedDict[tuple[str, int, int], Any] = OrderedDict()
_lock = threading.Lock()


def run(request: Request, progress: ProgressFn, cancel: CancelToken) -> Result:
    p = request.params
    action = str(p.get("action", "edit"))
    if action == "edit":
        session = _new_session(request, progress, cancel)
        return _apply(session, request, progress)
    if action == "invert":
        session = _new_session(request, progress, cancel)
        sid = uuid.uuid4().hex[:12]
        with _lock:
            _sessions[sid] = session
            while len(_sessions) > _MAX_SESSIONS:
                _sessions.popitem(last=False)
        inv = session.inversion
        info = {
            "session": sid,
            "directions": [{"name": d.name, "source": d.source} for d in session.directions.values()],
            "psnr_latent": inv.psnr_latent,
            "psnr_final": inv.psnr_final,
        }
        return Result(images={"crop": session.render({}), "aligned": session.crop}, info=info)
    if action == "close":
        with _lock:
            found = _sessions.pop(str(p.get("session")), None) is not None
        return Result(info={"closed": found})
    session = _session(str(p.get("session")))
    if action == "render":
        size = int(p.get("size", 128))
        return Result(images={"crop": session.render(_edits(p), size=size)})
    if action == "apply":
        return _apply(session, request, progress)
    raise InferenceError(f"Unknown latent-edit action '{action}'.")


def _session(sid: str) -> Any:
    with _lock:
        s = _sessions.get(sid)
    if s is None:
        raise InferenceError("This latent edit has expired: invert the face again.")
    return s


def _edits(p: dict[str, Any]) -> dict[str, float]:
    edits = p.get("edits") or {}
    try:
        return {str(k): float(v) for k, v in dict(edits).items()}
    except (TypeError, ValueError) as exc:
        raise InferenceError("Edit amounts must be numbers, e.g. {'pca0': 1.5}.") from exc


def _points(p: dict[str, Any], key: str, n: int) -> list[float]:
    raw = p.get(key)
    try:
        vals = [float(v) for v in (raw or [])]
    except (TypeError, ValueError):
        vals = []
    if len(vals) != n:
        what = "both eyes as x1, y1, x2, y2" if key == "eyes" else "the mouth as x, y"
        raise InferenceError(f"Latent editing needs {what} (click them on the photo).")
    return vals


def _generator_path(request: Request) -> Path:
    g = request.params.get("generator")
    if g:
        return Path(str(g)).expanduser()
    if request.model_id:
        from editor.infer.store import ModelStore

        return ModelStore().path(request.model_id)
    raise InferenceError(
        "Choose a face generator (a StyleGAN2 .pkl/.pt/.safetensors file) for latent editing."
    )


def load_cached(path: Path) -> Any:
    """The generator for a file, kept while the same file is used (loading a 1024 px one takes seconds)."""
    from editor.infer.latent.loaders import load_generator

    st = path.stat() if path.is_file() else None
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size) if st else (str(path), 0, 0)
    with _lock:
        gen = _generators.get(key)
    if gen is None:
        gen = load_generator(path)
        with _lock:
            _generators.clear()
            _generators[key] = gen
    return gen


def _new_session(request: Request, progress: ProgressFn, cancel: CancelToken) -> Any:
    from editor.infer.latent.invert import apply_weights_delta
    from editor.infer.latent.session import LatentSession

    p = request.params
    image = request.image
    if image is None or image.ndim != 3 or image.shape[2] < 3:
        raise InferenceError("Latent editing needs an RGB photo.")
    eyes, mouth = _points(p, "eyes", 4), _points(p, "mouth", 2)
    progress(Progress(0.0, "Loading the face generator"))
    gen = load_cached(_generator_path(request))
    device = request.context.device
    if device != "cpu":
        gen = gen.to(device)
    cancel.check()
    session = LatentSession.from_photo(gen, np.asarray(image, np.float32), eyes, mouth)
    progress(Progress(0.01, "Finding edit directions"))
    session.add_default_directions(int(p.get("n_sefa", 8)), int(p.get("n_pca", 8)))
    for f in p.get("directions") or []:
        path = Path(str(f))
        if path.suffix.lower() == ".json":
            session.load_directions(path)
        else:
            session.import_boundary(path)
    unknown = sorted(set(_edits(p)) - set(session.directions))
    if unknown:  # before the slow part
        known = ", ".join(sorted(session.directions))
        raise InferenceError(f"Unknown edit direction(s) {', '.join(unknown)}. Known: {known}.")
    cancel.check()
    hole = None
    mode = str(p.get("mode", "reconstruct"))
    if mode == "inpaint":
        photo_hole = request.inputs.get("hole")
        if photo_hole is None:
            raise InferenceError("Face inpainting needs a mask of the part to fill.")
        hole = cv2.warpAffine(
            np.asarray(photo_hole, np.float32),
            session.alignment.matrix,
            (gen.resolution, gen.resolution),
            flags=cv2.INTER_LINEAR,
        )
    delta = p.get("weights_delta")
    finetune = int(p.get("finetune", 0) or 0)
    session.invert(
        steps=int(p.get("steps", 200)),
        mode=mode,
        space=str(p.get("space", "w+")),
        finetune_steps=0 if delta else finetune,
        scale=int(p.get("scale", 4)),
        hole=hole,
        seed=int(request.seed if request.seed is not None else p.get("seed", 0)),
        progress=lambda q: progress(Progress(0.02 + 0.9 * q.fraction, q.stage, q.preview)),
        cancel=cancel,
    )
    if delta:  # re-running a recipe: the saved fine-tuning instead of fine-tuning again
        inv = session.inversion
        inv.generator = apply_weights_delta(gen, {k: np.asarray(v) for k, v in dict(delta).items()})
    return session


def _apply(session: Any, request: Request, progress: ProgressFn) -> Result:
    p = request.params
    edits = _edits(p)
    progress(Progress(0.96, "Compositing"))
    out = session.apply(
        edits,
        mask=request.mask,
        match_colour=bool(p.get("colour_match", True)),
        keep_detail=bool(p.get("keep_detail", True)),
    )
    image = out.image
    if image.shape[2] == 4 and request.image is not None:
        image[..., 3] = request.image[..., 3]
    inv = session.inversion
    recipe = session.recipe(edits)
    recipe.update({"task": "latent", "generator": str(p.get("generator") or request.model_id or "")})
    info = {
        "recipe": recipe,
        "weights_delta": session.weights_delta(),
        "noise": {f"noise_{i}": n.cpu().numpy()[0, 0].astype(np.float16) for i, n in enumerate(inv.noises)},
        "psnr_latent": inv.psnr_latent,
        "psnr_final": inv.psnr_final,
        "rect": list(out.rect),
    }
    progress(Progress(1.0, "Done"))
    return Result(images={"image": image, "crop": session.render(edits)}, mask=out.mask, info=info)
