"""`lucid upscale IMAGE -o OUT [--scale S] [--model ID] [--tile N]`: super-resolution without a window.

Runs the same `superres` task the app's Image → Upscale… job runs, on the same store and loaders;
a 16-bit source is processed in float and written back at 16 bits.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
from pathlib import Path

from editor.cli import paths
from editor.cli.batch.spec import FileCommand
from editor.core.errors import LucidError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("upscale", help="enlarge an image 1–4× with a super-resolution model")
    parser.add_argument("image", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True, help="output file (.png .jpg .tif .webp)")
    parser.add_argument("--scale", type=float,
                        help="1–4, fractions allowed (default: the model's)")
    parser.add_argument("--model", help="model id (default: the default super-resolution model); "
                        "see `lucid models list`")
    parser.add_argument("--tile", type=int, help="tile size in input pixels (default: from free memory)")
    parser.add_argument("--alpha", choices=("resize", "model"), default="resize",
                        help="transparency: smooth resize (default) or through the model (slower)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    parser.add_argument("--models-dir", type=Path,
                        help="models folder (default: $LUCID_MODELS_DIR, else per-user)")
    parser.add_argument("--quality", type=paths.quality, default=92,
                        help="JPEG/WebP quality 1–100 (default 92)")
    paths.add_overwrite(parser)
    parser.set_defaults(func=run)


def _model_id(store, requested: str | None) -> str:
    if requested:
        m = store.manifest(requested)  # unknown id → a clear error
        if m.task != "superres":
            raise LucidError(f"Model '{requested}' is a {m.task} model, not an upscaler.")
        return requested
    default = store.default_for("superres")
    if default is None:
        raise LucidError("No default upscaling model is known; pass --model (see `lucid models list`).")
    return default.id


def _input_fits(path: Path) -> tuple[int, int, int] | None:
    """The input, as a document, must fit the memory budget: checked from its header, before decoding
    (a 15000×15000 JPEG of 3.5 MB decodes to 0.9 GB and more). Returns the header (None: unreadable,
    the loader reports why)."""
    from editor.core.budget import check_document
    from editor.io.images import header_size

    header = header_size(path)
    if header is not None:
        check_document(*header, f"{path.name}: opening it")
    return header


def _check_output_memory(header: tuple[int, int, int], model, scale: float | None) -> None:
    """The upscaled output must fit the budget too, before anything is allocated."""
    from editor.infer.tasks.superres import check_output_memory, output_size

    w, h, _ = header
    model_scale = int(getattr(model, "scale", 1))
    out_h, out_w = output_size(h, w, {"scale": scale}, model_scale)
    check_output_memory(h, w, model_scale, out_h, out_w)


@functools.lru_cache(maxsize=4)
def _store(models_dir: Path | None):
    """One store per folder and process: it remembers the files it has hashed."""
    from editor.infer.store import ModelStore

    return ModelStore(models_dir)


@functools.lru_cache(maxsize=4)
def _resolved_id(models_dir: Path | None, requested: str | None) -> str:
    """The model id; looked up once per process (reading the store takes ~0.1 s)."""
    return _model_id(_store(models_dir), requested)


def _installed(model_id: str, get):
    """`get()`, with a missing or damaged model reported as what to run."""
    from editor.infer.api import ModelNotInstalled

    try:
        return get()
    except ModelNotInstalled as exc:
        raise LucidError(f"{exc.message.split(' — ')[0]}. Run `lucid models fetch {model_id}` "
                         "(or `lucid models import FILE`) first.") from exc


@functools.lru_cache(maxsize=4)
def _model_path(models_dir: Path | None, model_id: str) -> Path:
    """The torch weights file, every file of the model verified (once per process)."""
    return _installed(model_id, lambda: _store(models_dir).path(model_id))


@functools.lru_cache(maxsize=1)
def _loaded(path: Path):
    """The model, loaded once per process: a batch worker reuses it for every file."""
    from editor.infer.safe_load import load_model

    return load_model(path)


def _torch_model(models_dir: Path | None, model_id: str):
    return _loaded(_model_path(models_dir, model_id))


@functools.lru_cache(maxsize=4)
def _loaded_ncnn(models_dir: Path | None, model_id: str, threads: int):
    """The model's ncnn net for the CPU (None: torch runs it), loaded once per process like `_loaded`;
    only its ncnn sources are hashed."""
    from editor.infer.ncnn_runtime import load_ncnn_net

    return _installed(model_id, lambda: load_ncnn_net(_store(models_dir), model_id, threads))


def _runnable(args: argparse.Namespace, model_id: str, device: str):
    """What runs the job: on the CPU the model's ncnn net when it has one (no torch model loaded),
    else the torch model."""
    from editor.infer.device import cpu_threads

    net = _loaded_ncnn(args.models_dir, model_id, cpu_threads()) if device == "cpu" else None
    return net if net is not None else _torch_model(args.models_dir, model_id)


def warm_up(args: argparse.Namespace) -> None:
    from editor.infer.device import resolve_device

    _runnable(args, _resolved_id(args.models_dir, args.model), resolve_device(args.device))


def memory_mb(args: argparse.Namespace) -> int | None:
    from editor.infer.store import ModelStore

    store = ModelStore(args.models_dir)
    return store.manifest(_model_id(store, args.model)).memory_mb


def process_file(args: argparse.Namespace, progress=None) -> str:
    """Upscale `args.image` into `args.output`; the one-file job `run` and `lucid batch` share."""
    import numpy as np

    from editor.core.pixels import to_float
    from editor.infer.api import CancelToken, Request, TaskContext, no_progress
    from editor.io.export import export_image
    from editor.io.images import load_image

    if args.scale is not None and not (math.isfinite(args.scale) and 1 <= args.scale <= 4):
        raise LucidError(f"Scale must be between 1 and 4, got {args.scale:g}.")
    if args.tile is not None and args.tile < 16:
        raise LucidError(f"--tile must be at least 16 pixels, got {args.tile}.")
    paths.check_paths([args.image], [args.output], overwrite=args.overwrite, image_outputs=[args.output])
    header = _input_fits(args.image)  # before torch and the model load: a refusal takes a second
    model_id = _resolved_id(args.models_dir, args.model)

    from editor.infer.device import resolve_device
    from editor.infer.tasks.superres import run as superres

    device = resolve_device(args.device)
    model = _runnable(args, model_id, device)
    if header is not None:
        _check_output_memory(header, model, args.scale)
    img = load_image(args.image)
    pixels = to_float(img.pixels)
    if np.all(img.pixels[..., 3] == np.iinfo(img.pixels.dtype).max):
        pixels = pixels[..., :3]  # opaque: no alpha work, and the file stays RGB
    params = {"scale": args.scale, "tile": args.tile, "alpha": args.alpha}
    is_net = getattr(model, "backend", None) == "ncnn"
    context = TaskContext(device=device, load_model=lambda _id: _torch_model(args.models_dir, model_id),
                          load_ncnn=lambda _id: model if is_net else None)
    request = Request(task="superres", image=pixels, model_id=model_id, params=params, context=context)
    result = superres(request, progress or no_progress, CancelToken())
    notes = export_image(result.image, args.output, depth=img.depth, icc_profile=img.icc_profile,
                         exif=img.exif, quality=args.quality)
    for note in notes:
        print(f"lucid: note: {note}", file=sys.stderr)
    out_w, out_h = result.info["size"]
    return (f"wrote {args.output} ({out_w}×{out_h}, {model_id} in {result.info['backend']}, "
            f"{result.info['seconds']:.1f} s)")


def run(args: argparse.Namespace) -> int:
    from editor.cli.commands.models import _ProgressPrinter
    from editor.infer.device import set_cpu_threads_lazily

    set_cpu_threads_lazily()  # the ncnn path never imports torch
    printer = _ProgressPrinter()
    try:
        message = process_file(args, printer)
    finally:
        printer.done()
    print(message)
    return 0


BATCH = FileCommand(process=process_file, warm_up=warm_up, memory_mb=memory_mb, uses_device=True)
