"""ncnn as a CPU runtime for models that came from ncnn files (the Real-ESRGAN family).

Why: on some CPUs ncnn runs Real-ESRGAN x4plus faster than torch does on the same threads (torch with
oneDNN and channels_last reached 0.87× ncnn's speed where issue 19 was measured; `torch.compile` took
41 s to compile, more than a whole one-off 256² upscale, and 12 s even from its disk cache; bf16 lost
precision for no speed) — see tests/bench/bench_superres.py, speed and bar. On others torch is faster,
so which one runs is measured per machine (`editor.infer.cpu_runtime`, at set-up).
The store keeps and verifies the very .param/.bin the converted safetensors were made from, so ncnn
runs the same weights. torch stays the runtime on GPUs, for every other model, and whenever the
`ncnn` module is missing or refuses the files (the reason is logged and the job goes on in torch).

fp32 storage and arithmetic, pinned: ncnn's defaults switch to fp16/bf16 storage where a CPU supports it
(ARM, some x86), which is not what the converted model and the fidelity bar compute. On this bench
machine its defaults wrote the same file as fp32 at the same speed, so pinning costs nothing here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from editor.infer.api import InferenceError

log = logging.getLogger(__name__)

NCNN_KIND = "ncnn"  # a manifest's `[convert] kind` for models whose sources are ncnn files
_LOW_PRECISION = ("use_fp16_storage", "use_fp16_packed", "use_fp16_arithmetic", "use_bf16_storage",
                  "use_bf16_packed", "use_int8_inference", "use_vulkan_compute")


# The head's reach is 2 trunk rows (nearest ×2, 3×3 conv, nearest ×2, three 3×3 convs); a halo of 1
# changed the output by 0.06, 2 leaves it bit-identical. 32-row strips recompute 4 of every 32 rows of
# the head (16-row strips with a halo of 4 cost 3-5 % of the whole call) and need 13.0 kB per input
# pixel at 256² (30.1 kB at 128², where a tile holds under 0.5 GB).
HEAD_ROWS = 32  # trunk rows per strip of the upsampling head
HEAD_HALO = 2  # rows of context on each side of a strip


class NcnnRunError(InferenceError):
    """ncnn refused a tile (a non-zero status from extract)."""


def ncnn_sources(manifest: Any, files: Mapping[str, Path]) -> tuple[Path, Path] | None:
    """(param, bin) of a model whose manifest converts from ncnn files and whose files are all here."""
    convert = getattr(manifest, "convert", None)
    if convert is None or getattr(convert, "kind", None) != NCNN_KIND:
        return None
    param = [p for name, p in files.items() if name.endswith(".param")]
    weights = [p for name, p in files.items() if name.endswith(".bin")]
    if len(param) != 1 or len(weights) != 1:
        return None
    return param[0], weights[0]


class NcnnNet:
    """A loaded ncnn net with the torch runner's call contract: float32 H×W×3 → (H·s)×(W·s)×3.

    It also answers what the task asks a spandrel descriptor (scale, architecture id, channels, size
    multiple), from the manifest, so this path never loads the torch model: no spandrel/torchvision
    import and no second copy of the weights (seconds and ~70 MB for x4plus).
    """

    backend = "ncnn"
    supports_half = False

    def __init__(self, param: Path, weights: Path, threads: int, manifest: Any = None) -> None:
        import ncnn

        self.scale = int(getattr(manifest, "scale", None) or 1)
        self.architecture = SimpleNamespace(id=str(getattr(manifest, "architecture", "")))
        spec = getattr(manifest, "input", None)
        self.input_channels = self.output_channels = int(getattr(spec, "channels", 3))
        self.size_requirements = SimpleNamespace(multiple_of=int(getattr(spec, "multiple", 1)))
        layers = [ln.split() for ln in param.read_text(encoding="utf-8").splitlines()[2:] if ln.strip()]
        # Compact nets are num_conv body convolutions between a first and a last one; the tiler's
        # overlap follows num_conv (superres.default_overlap).
        self.num_conv = sum(parts[0] == "Convolution" for parts in layers) - 2
        # RRDBNet's head (nearest ×2, conv, nearest ×2, three convs) runs at up to 4× the tile's size with
        # 64 channels: run whole, ncnn needed 58.4 kB per input pixel at 128², 4× torch's 14.1 kB (a 256²
        # tile: 3.8 GB). In strips of the trunk's output (HEAD_ROWS) it needs 13.0 kB at 256², with the
        # same output.
        self.head_input = None
        if self.architecture.id == "ESRGAN":
            self.head_input = next((parts[4] for parts in layers if parts[0] == "Interp"), None)

        self._ncnn = ncnn
        self.net = ncnn.Net()
        for opt in _LOW_PRECISION:
            if hasattr(self.net.opt, opt):
                setattr(self.net.opt, opt, False)
        self.threads = max(1, int(threads))
        self.net.opt.num_threads = self.threads
        if self.net.load_param(str(param)) != 0 or self.net.load_model(str(weights)) != 0:
            raise NcnnRunError(f"ncnn could not load {param.name} / {weights.name}.")
        inputs, outputs = list(self.net.input_names()), list(self.net.output_names())
        if len(inputs) != 1 or len(outputs) != 1:
            raise NcnnRunError(f"{param.name} has inputs {inputs} and outputs {outputs}; one each expected.")
        self.input_name, self.output_name = inputs[0], outputs[0]
        # For the model cache's budget: the fp16 weights become fp32 and ncnn keeps 3×3 kernels in their
        # Winograd form (6×6): x4plus's 32 MB .bin took 288 MB of RSS once loaded.
        self.nbytes = 9 * weights.stat().st_size

    def __call__(self, tile: np.ndarray) -> np.ndarray:
        chw = tile.transpose(2, 0, 1)
        if self.head_input is None:
            out = self._run(self.input_name, chw, self.output_name)
        else:
            feat = self._run(self.input_name, chw, self.head_input)
            rows, s = feat.shape[1], self.scale
            out = np.empty((self.output_channels, rows * s, feat.shape[2] * s), np.float32)
            for y0 in range(0, rows, HEAD_ROWS):
                y1 = min(rows, y0 + HEAD_ROWS)
                a, b = max(0, y0 - HEAD_HALO), min(rows, y1 + HEAD_HALO)
                part = self._run(self.head_input, feat[:, a:b], self.output_name)
                out[:, y0 * s:y1 * s] = part[:, (y0 - a) * s:(y1 - a) * s]
        return np.ascontiguousarray(out.transpose(1, 2, 0))

    def _run(self, source: str, chw: np.ndarray, target: str) -> np.ndarray:
        """Blob `target` computed from `chw` fed as blob `source` (C×H×W float32)."""
        # ncnn.Mat wraps this array's memory without copying: it must be contiguous float32 (a strided
        # view reads as garbage) and stay referenced until extract has returned.
        data = np.ascontiguousarray(chw, dtype=np.float32)
        ex = self.net.create_extractor()
        ex.input(source, self._ncnn.Mat(data))
        status, out = ex.extract(target)
        if status != 0:
            raise NcnnRunError(f"ncnn failed on a {chw.shape[2]}×{chw.shape[1]} tile (status {status}).")
        result = np.array(out, dtype=np.float32)  # a copy, owned by numpy
        del ex, out, data
        return result


def load_ncnn_net(store: Any, model_id: str, threads: int, *, measured: bool = True) -> NcnnNet | None:
    """The model's ncnn net on `threads` CPU threads, or None (reason logged) when it has no ncnn form,
    torch was measured faster on this CPU (`measured`: heed that record, `editor.infer.cpu_runtime`),
    the runtime is not installed, or ncnn refuses the files. The store verifies the files first."""
    manifest = store.manifest(model_id)
    if ncnn_sources(manifest, {f.name: Path(f.name) for f in manifest.files}) is None:
        return None  # decided from the manifest alone: no hashing for models that have no ncnn form
    if measured:
        from editor.infer.cpu_runtime import preferred

        if preferred(model_id, threads) == "torch":
            log.info("%s runs in torch: measured faster than ncnn here on %d threads", model_id, threads)
            return None
    sources = ncnn_sources(manifest, store.source_files(model_id))
    if sources is None:
        return None
    try:
        import ncnn  # noqa: F401
    except ImportError as exc:
        log.warning("ncnn runtime not available (%s); %s runs in torch on the CPU", exc, model_id)
        return None
    try:
        return NcnnNet(*sources, threads, manifest)
    except Exception as exc:  # a damaged install of the runtime must not fail the job: torch can run it
        log.warning("ncnn could not load %s (%s); it runs in torch on the CPU", model_id, exc)
        return None
