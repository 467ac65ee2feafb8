"""`LatentSession`: the whole latent edit of one face, the object a Latent Edit panel drives.

    s = LatentSession.from_photo(gen, photo, eyes=(x1, y1, x2, y2), mouth=(x, y))
    s.invert(steps=300, mode="reconstruct", finetune_steps=100, progress=..., cancel=...)
    s.directions            # name → Direction (sefa0…, pca0…, imported boundaries)
    s.render({"pca0": 1.5}, size=128)     # fast crop preview, H×W×3 float32 [0, 1]
    s.apply({"pca0": 1.5})  # → Composite (whole photo, mask, rect), outside the mask bit-identical
    s.recipe({"pca0": 1.5}) # JSON-safe facts; s.weights_delta() the fine-tuning arrays

It holds torch state (latent, fine-tuned copy), so it lives on the worker side: the UI reaches it
through the "latent" task's actions (see `editor.infer.tasks.latent`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from editor.core.errors import LucidError
from editor.infer.api import CancelToken, ProgressFn, no_progress
from editor.infer.latent import directions as dirs
from editor.infer.latent.align import Alignment, align_face, alignment_for
from editor.infer.latent.composite import Composite, colour_match, composite, face_mask
from editor.infer.latent.generator import Generator, to_image
from editor.infer.latent.invert import Inversion, InvertOptions, invert


class LatentSession:
    def __init__(
        self,
        gen: Generator,
        crop: np.ndarray,
        photo: np.ndarray | None = None,
        alignment: Alignment | None = None,
    ):
        if crop.shape[:2] != (gen.resolution, gen.resolution):
            raise LucidError(f"The face crop must be {gen.resolution}×{gen.resolution} for this generator.")
        self.gen = gen
        self.crop = np.ascontiguousarray(crop[..., :3], np.float32)
        self.photo = photo
        self.alignment = alignment
        self.inversion: Inversion | None = None
        self.directions: dict[str, dirs.Direction] = {}

    @classmethod
    def from_photo(
        cls, gen: Generator, photo: np.ndarray, eyes: Sequence[float], mouth: Sequence[float]
    ) -> LatentSession:
        al = alignment_for(eyes, mouth, gen.resolution, gen.crop)
        return cls(gen, align_face(photo, al), photo, al)

    # --- inversion ----------------------------------------------------------------------------

    def invert(
        self,
        steps: int = 300,
        mode: str = "reconstruct",
        *,
        space: str = "w+",
        finetune_steps: int = 0,
        progress: ProgressFn = no_progress,
        cancel: CancelToken | None = None,
        **options: Any,
    ) -> Inversion:
        """Fit the generator to the crop (see `invert.InvertOptions` for `options`: scale, hole, lr, …)."""
        opts = InvertOptions(steps=steps, mode=mode, space=space, finetune_steps=finetune_steps, **options)
        self.inversion = invert(self.gen, self.crop, opts, progress, cancel)
        return self.inversion

    def _need(self) -> Inversion:
        if self.inversion is None:
            raise LucidError("Invert the face first.")
        return self.inversion

    # --- directions ---------------------------------------------------------------------------

    def add_default_directions(self, n_sefa: int = 8, n_pca: int = 8) -> list[str]:
        new = dirs.sefa(self.gen, n_sefa) + dirs.ganspace(self.gen, n_pca)
        for d in new:
            self.directions.setdefault(d.name, d)
        return [d.name for d in new]

    def import_boundary(self, path: Path | str, name: str | None = None, space: str | None = None) -> str:
        d = dirs.boundary(self.gen, path, name, space)
        self.directions[d.name] = d
        return d.name

    def add_direction(self, d: dirs.Direction) -> None:
        if d.vector.shape[0] != self.gen.latent_dim:
            raise LucidError(
                f"Direction '{d.name}' does not fit this generator ({d.vector.shape[0]} dimensions)."
            )
        self.directions[d.name] = d

    def save_directions(self, path: Path | str) -> None:
        dirs.save_directions(self.directions, path)

    def load_directions(self, path: Path | str) -> list[str]:
        loaded = dirs.load_directions(path)
        for d in loaded:
            self.add_direction(d)
        return [d.name for d in loaded]

    # --- edits --------------------------------------------------------------------------------

    def edited_ws(self, amounts: dict[str, float]) -> torch.Tensor:
        return dirs.apply_directions(self._need().ws, self.directions, amounts, self.gen.w_bounds)

    def render(self, amounts: dict[str, float] | None = None, size: int | None = None) -> np.ndarray:
        """The edited crop, H×W×3 float32 in [0, 1]; `size` asks for a cheaper low-resolution preview."""
        inv = self._need()
        max_res = None
        if size is not None and size < self.gen.resolution:
            max_res = 1 << max(3, int(np.ceil(np.log2(size))))
        img = to_image(inv.render(self.edited_ws(amounts or {}), max_res=max_res))
        if size is not None and img.shape[0] != size:
            interp = cv2.INTER_AREA if img.shape[0] > size else cv2.INTER_LINEAR
            img = cv2.resize(img, (size, size), interpolation=interp)
        return img

    def apply(
        self,
        amounts: dict[str, float] | None = None,
        mask: np.ndarray | None = None,
        match_colour: bool = True,
        keep_detail: bool = True,
    ) -> Composite:
        """The edited face composited into the photo (through the face mask, or `mask` in photo space).

        `keep_detail` pastes only the edit's change onto the photo (its detail stays); otherwise the
        generated face replaces the photo's, colour-matched when `match_colour`.
        """
        if self.photo is None or self.alignment is None:
            raise LucidError("This latent session has no photo to composite into.")
        edited, recon = self.render(amounts), self.render({})
        cmask = face_mask(self.alignment)
        if keep_detail:
            return composite(self.photo, edited, self.alignment, cmask, mask, recon=recon)
        if match_colour:
            edited = colour_match(edited, recon, self.crop, cmask)
        return composite(self.photo, edited, self.alignment, cmask, mask)

    def recipe(self, amounts: dict[str, float]) -> dict[str, Any]:
        inv = self._need()
        used = {k: float(v) for k, v in amounts.items() if v}
        out: dict[str, Any] = {
            "generator_sha256": self.gen.sha256,
            "latent_shape": list(inv.ws.shape),
            "latent": inv.ws[0].cpu().numpy().round(6).tolist(),
            "amounts": used,
            "directions": [self.directions[k].to_json() for k in used if k in self.directions],
            "psnr_latent": round(inv.psnr_latent, 3),
            "psnr_final": round(inv.psnr_final, 3),
            "finetuned": inv.tuned,
        }
        if inv.options is not None:
            o = inv.options
            out["inversion"] = {
                "steps": o.steps,
                "space": o.space,
                "mode": o.mode,
                "scale": o.scale,
                "finetune_steps": o.finetune_steps,
                "seed": o.seed,
            }
        if self.alignment is not None:
            out["eyes"] = self.alignment.eyes.reshape(-1).round(3).tolist()
            out["mouth"] = self.alignment.mouth.round(3).tolist()
        return out

    def weights_delta(self) -> dict[str, np.ndarray]:
        return self._need().weights_delta()
