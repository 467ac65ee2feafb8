"""Task "faces": every face with its box, score, eye centres (image-left first), mouth centre and
468 mesh points, from MediaPipe's detector and face mesh (`editor.infer.faces`).

Inputs: `request.image` float32 RGB(A); `request.model_id` (default "mediapipe-face-mesh").
Result: `info["faces"]`, a list of `Face.as_json(all_points=True)` dicts in image pixels, best first.
"""

from __future__ import annotations

from editor.infer.api import CancelToken, Progress, ProgressFn, Request, Result
from editor.infer.faces import find_faces
from editor.infer.subject import FACE_MODEL, rgb_and_model


def run(request: Request, progress: ProgressFn, cancel: CancelToken) -> Result:
    image, model_id, model = rgb_and_model(request, progress, cancel, default_model=FACE_MODEL,
                                           purpose="find faces")
    progress(Progress(0.3, "Finding faces"))
    faces = find_faces(model, image, check=cancel.check)
    progress(Progress(1.0, "Done"))
    return Result(info={"model_id": model_id, "faces": [f.as_json(all_points=True) for f in faces]})
