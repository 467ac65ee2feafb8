"""Edit directions: SeFa, GANSpace and imported InterFaceGAN boundaries, named and saveable as JSON.

- SeFa (Shen & Zhou 2021): eigenvectors of AᵀA, A = the style-modulation weights (rows normalised)
  of the chosen layers stacked — closed form, no data. Orthonormal by construction (symmetric eigh).
- GANSpace (Härkönen et al. 2020): PCA of sampled w. When w has no structure (a z-GAN such as BEGAN,
  whose z is uniform), PCA runs on early-layer features and the components are regressed back to w.
- InterFaceGAN (Shen et al. 2020): a `.npy` unit normal of a linear attribute boundary, shape (1, D),
  in Z or W. A Z-space normal is carried into W by averaging mapping(z + n) − mapping(z) over samples
  (exact when the mapping is the identity, a linearisation otherwise).

Amounts are in units of `scale` (for SeFa and GANSpace: the spread of sampled w along the direction),
so "+2" means about two standard deviations on every generator.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from editor.core.atomic import atomic_write_bytes
from editor.core.errors import LucidError
from editor.infer.latent.generator import Generator


@dataclass
class Direction:
    name: str
    vector: np.ndarray  # (D,) unit length, in W
    scale: float = 1.0  # latent distance per unit of amount
    layers: tuple[int, int] | None = None  # [start, stop) of ws rows it moves; None = all
    source: str = ""

    def to_json(self) -> dict:
        d = asdict(self)
        d["vector"] = [float(v) for v in self.vector]
        d["layers"] = list(self.layers) if self.layers else None
        return d

    @classmethod
    def from_json(cls, d: dict) -> Direction:
        layers = tuple(d["layers"]) if d.get("layers") else None
        return cls(
            str(d["name"]),
            np.asarray(d["vector"], np.float32),
            float(d.get("scale", 1.0)),
            layers,
            str(d.get("source", "")),
        )  # type: ignore[arg-type]


def apply_directions(
    ws: Tensor,
    directions: dict[str, Direction],
    amounts: dict[str, float],
    bounds: tuple[float, float] | None = None,
) -> Tensor:
    """ws (N, num_ws, D) moved by Σ amount·scale·vector on each direction's layers."""
    out = ws.clone()
    for name, amount in amounts.items():
        if not amount:
            continue
        d = directions.get(name)
        if d is None:
            raise LucidError(
                f"Unknown edit direction '{name}'. Known: {', '.join(sorted(directions)) or 'none'}."
            )
        if d.vector.shape[0] != ws.shape[-1]:
            raise LucidError(
                f"Direction '{name}' has {d.vector.shape[0]} dimensions; the generator has {ws.shape[-1]}."
            )
        v = torch.from_numpy(np.asarray(d.vector, np.float32)).to(ws) * (float(amount) * d.scale)
        lo, hi = d.layers or (0, ws.shape[1])
        out[:, lo:hi] += v
    if bounds is not None:
        out = out.clamp(*bounds)
    return out


@torch.no_grad()
def _spread(gen: Generator, vectors: np.ndarray, n: int = 2000, seed: int = 7) -> np.ndarray:
    w = gen.mapping(gen.sample_latent(n, seed)).cpu().double().numpy()
    return (w - w.mean(0)) @ vectors.T.astype(np.float64)


def sefa(gen: Generator, k: int = 10, layers: tuple[int, int] | None = None) -> list[Direction]:
    """The top-k SeFa directions over the modulation weights of ws rows `layers` (default all)."""
    weights = gen.style_weights()
    lo, hi = layers or (0, len(weights))
    a = torch.cat([w.double() for w in weights[lo:hi]], 0)  # (Σ out, D)
    a = a / a.norm(dim=1, keepdim=True).clamp_min(1e-12)
    vals, vecs = torch.linalg.eigh(a.T @ a)
    order = torch.argsort(vals, descending=True)[:k]
    v = vecs[:, order].T.cpu().numpy()  # (k, D) rows orthonormal
    stds = _spread(gen, v).std(0)
    span = None if layers is None or gen.num_ws == 1 else (lo, hi)
    return [
        Direction(f"sefa{i}", v[i].astype(np.float32), float(max(stds[i], 1e-6)), span, "SeFa")
        for i in range(v.shape[0])
    ]


@torch.no_grad()
def ganspace(gen: Generator, k: int = 10, n: int = 3000, seed: int = 11) -> list[Direction]:
    """The top-k GANSpace components: PCA of features of sampled w, mapped back to unit w directions."""
    w = gen.mapping(gen.sample_latent(n, seed))
    feats = torch.cat([gen.pca_features(c[:, None]).double() for c in w.split(500)], 0)
    w = w.double()
    if feats.shape[1] == w.shape[1] and torch.equal(feats, w):
        wc = w - w.mean(0)
        _, s, vh = torch.linalg.svd(wc, full_matrices=False)
        comps = vh[:k]
        stds = s[:k] / (n - 1) ** 0.5
    else:
        fc = feats - feats.mean(0)
        _, _, v = torch.pca_lowrank(fc, q=min(k + 10, fc.shape[1]), center=False, niter=4)
        coords = fc @ v[:, :k]  # (n, k) PCA coordinates
        wc = w - w.mean(0)
        # w ≈ coords · U: the w change that moves each PCA coordinate by one unit.
        u = torch.linalg.lstsq(coords, wc).solution  # (k, D)
        comps = u / u.norm(dim=1, keepdim=True).clamp_min(1e-12)
        stds = (wc @ comps.T).std(0)
    v = comps.cpu().numpy().astype(np.float32)
    return [
        Direction(f"pca{i}", v[i], float(max(float(stds[i]), 1e-6)), None, "GANSpace")
        for i in range(v.shape[0])
    ]


@torch.no_grad()
def boundary(
    gen: Generator,
    path: Path | str,
    name: str | None = None,
    space: str | None = None,
    n: int = 1000,
    seed: int = 5,
) -> Direction:
    """An InterFaceGAN boundary `.npy` (1, D). Space from `space` or the file name (`*_w_*` → W, else Z)."""
    path = Path(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise LucidError(f"{path.name} is not a readable .npy direction file.", detail=str(exc)) from exc
    vec = np.asarray(arr, np.float64).reshape(-1)
    if arr.ndim not in (1, 2) or (arr.ndim == 2 and arr.shape[0] != 1) or not np.isfinite(vec).all():
        raise LucidError(f"{path.name}: a boundary must have shape (1, D); found {arr.shape}.")
    if vec.shape[0] != gen.latent_dim:
        raise LucidError(
            f"{path.name} has {vec.shape[0]} dimensions but the generator's latent has {gen.latent_dim}."
        )
    space = (space or ("w" if "_w_" in f"_{path.stem}_" or path.stem.endswith("_w") else "z")).lower()
    if space not in ("w", "z"):
        raise LucidError(f"Unknown latent space '{space}' (use z or w).")
    vec = vec / max(np.linalg.norm(vec), 1e-12)
    scale = 1.0
    if space == "z":
        z = gen.sample_latent(n, seed)
        dz = torch.from_numpy(vec).to(z)
        moved = (gen.mapping(z + dz) - gen.mapping(z)).double().mean(0).cpu().numpy()
        scale = float(np.linalg.norm(moved))
        if scale < 1e-9:
            raise LucidError(f"{path.name}: the direction does not move this generator's w.")
        vec = moved / scale
    return Direction(
        name or path.stem, vec.astype(np.float32), scale, None, f"InterFaceGAN {space.upper()}: {path.name}"
    )


def save_directions(directions: list[Direction] | dict[str, Direction], path: Path | str) -> None:
    items = list(directions.values()) if isinstance(directions, dict) else list(directions)
    text = json.dumps({"lucid_directions": 1, "directions": [d.to_json() for d in items]}, indent=1)
    atomic_write_bytes(path, text.encode("utf-8"))


def load_directions(path: Path | str) -> list[Direction]:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        return [Direction.from_json(d) for d in data["directions"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LucidError(f"{path.name} is not a Lucid directions file.", detail=str(exc)) from exc
