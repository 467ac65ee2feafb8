"""`lucid --self-test`: prove an installation works end to end, offscreen, in under a minute.

It exercises what a frozen build most often loses (Qt plugins, data files, hidden imports, torch and
numba at run time) along the path a user takes: load every registered task (one line each), start Qt,
open the sample photo in the real main window with its AI services, check every registered AI panel
was built into the AI dock (one line each: `[ok] panel Inpaint`), paint a mask, fill it with the
classical PatchMatch engine through the inference service, upscale a small image with an installed
super-resolution model, save and reopen an OpenRaster project.

One line per step (`[ok] step (1.23 s)` or `[FAIL] step: reason`); the exit status is non-zero when
any step failed. It writes only to a temporary folder (settings, window state, project, and the
random-weight model used when no upscaler is installed), never to the user's folders or the bundle.
The inpainting runs on a small crop of the photo so the check stays fast on a slow machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from editor.core.errors import LucidError

CROP = 96  # side of the inpainting crop (px): PatchMatch on 96² takes a fraction of a second
SR_INPUT = 32  # side of the image the upscaler gets
JOB_TIMEOUT_S = 600.0


class SelfTestError(Exception):
    """A check that did not hold; its message is the one-line reason printed after [FAIL]."""


@dataclass
class _State:
    """What the steps hand each other (a failed step leaves its fields None and later steps say so)."""

    tmp: Path
    device: str = "auto"
    app: Any = None
    window: Any = None
    doc: Any = None
    crop: Any = None  # editor.core.geometry.Rect of the inpainting crop
    service: Any = None
    services: Any = None  # the main window's AI bundle (editor.ui.ai.services.Services)

    def need(self, name: str) -> Any:
        value = getattr(self, name)
        if value is None:
            raise SelfTestError(f"skipped: needs the {name} from an earlier step")
        return value


class _HeadlessPrompts:
    """Answers the window's questions without dialogs (a modal box offscreen would wait forever)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def unsaved_changes(self, name: str) -> str:
        return "discard"

    def error(self, message: str, detail: str | None = None) -> None:
        self.errors.append(message)

    def open_paths(self, start: Path | None) -> list[Path]:
        return []

    def save_path(self, suggested: Path) -> Path | None:
        return None

    def export_path(self, suggested: Path) -> Path | None:
        return None

    def new_size(self) -> tuple[int, int] | None:
        return None

    def about(self, text: str) -> None:
        pass


# --- the steps ----------------------------------------------------------------------------------------


def step_commands(st: _State) -> str:
    """Every CLI command module loads and is registered (pkgutil finds them, which a frozen build only
    sees when the spec collects them)."""
    import argparse

    from editor.cli import _command_modules, build_parser

    commands = _command_modules()
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = sorted({c.replace("_", "-") for c in commands} - set(sub.choices))
    if not commands or missing:
        raise SelfTestError(f"commands {commands}, not registered: {missing}")
    return f"{len(commands)} commands"


def step_task(name: str) -> Callable[[_State], str]:
    """A registered task's module (editor/modules.py) is in this installation and loads."""

    def check(st: _State) -> str:
        from editor.infer.registry import get_task

        fn = get_task(name)  # InferenceError "missing from this installation" when it is not
        return f"{fn.__module__}.{fn.__name__}"

    return check


def step_qt(st: _State) -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    st.app = QApplication.instance() or QApplication(["lucid", "--self-test"])
    return f"platform {st.app.platformName()}"


def step_open_sample(st: _State) -> str:
    from editor.io.ora import open_any
    from editor.resources import sample_photo

    path = sample_photo()
    if not path.is_file():
        raise SelfTestError(f"sample photo missing: {path}")
    st.doc = open_any(path)
    if st.doc.width < CROP or st.doc.height < CROP or not st.doc.layers:
        raise SelfTestError(f"sample photo opened as {st.doc.width}×{st.doc.height} with no usable layer")
    return f"{path.name} {st.doc.width}×{st.doc.height}"


def step_window(st: _State) -> str:
    """The real main window with its AI services (store, inference service, job runner), as the app
    builds it, including the panels it builds after the window is shown."""
    doc = st.need("doc")
    from editor.app import build_services
    from editor.core.settings import Settings
    from editor.ui.main_window import MainWindow
    from editor.ui.window_state import WindowState

    prompts = _HeadlessPrompts()
    st.services = build_services(Settings())
    st.window = MainWindow(prompts=prompts, window_state=WindowState(st.tmp / "window.ini"),
                           services=st.services)
    st.window.add_document(doc)
    st.window.resize(1000, 700)
    st.window.show()
    st.app.processEvents()
    deferred = getattr(st.window.ai, "deferred", None)
    if deferred is not None:  # the app builds all but the first panel once the window is idle
        deferred.start()
        deadline = time.monotonic() + 120
        while not deferred.loaded and time.monotonic() < deadline:
            st.app.processEvents()
            time.sleep(0.01)
        if not deferred.loaded:
            raise SelfTestError("the deferred tool panels were not built within 120 s")
    shot = st.window.grab()
    if shot.isNull() or shot.width() < 100:
        raise SelfTestError("the main window did not render")
    if st.window.current_doc() is not doc:
        raise SelfTestError("the sample photo is not the window's current document")
    if prompts.errors:
        raise SelfTestError("the window reported: " + "; ".join(prompts.errors))
    return f"{shot.width()}×{shot.height()} px rendered"


def step_panel(title: str) -> Callable[[_State], str]:
    """A registered AI panel was built into the window's AI dock."""

    def check(st: _State) -> str:
        ai = st.need("window").ai
        if ai is None:
            raise SelfTestError("the window has no AI tools")
        if title in ai.panel_failures:
            exc = ai.panel_failures[title]
            raise SelfTestError(f"{type(exc).__name__}: {exc}")
        panel = ai.panels.get(title)
        if panel is None or ai.dock_tabs is None or ai.dock_tabs.indexOf(panel) < 0:
            raise SelfTestError(f"no {title} tab in the AI dock")
        return type(panel).__name__

    return check


def step_paint_mask(st: _State) -> str:
    from editor.core.brush import Brush, Stroke
    from editor.core.geometry import Rect

    doc = st.need("doc")
    # A short stroke in the middle of a crop of the photo, well inside it so PatchMatch has context.
    x0 = max(0, (doc.width - CROP) // 2)
    y0 = max(0, (doc.height - CROP) // 2)
    st.crop = Rect(x0, y0, CROP, CROP)
    steps_before = len(doc.history.labels)
    with Stroke(doc, None, "selection", Brush(size=14, hardness=1.0)) as stroke:
        for i in range(5):
            stroke.add_point(x0 + 34 + 7 * i, y0 + 40 + 3 * i)
    sel = doc.selection
    inside = sel[y0:y0 + CROP, x0:x0 + CROP]
    painted = int((inside > 0).sum())
    if painted < 100:
        raise SelfTestError(f"the stroke selected only {painted} px")
    if int((sel > 0).sum()) != painted:
        raise SelfTestError("the stroke selected pixels outside its crop")
    if len(doc.history.labels) != steps_before + 1:
        raise SelfTestError("the stroke did not make exactly one undo step")
    return f"{painted} px selected"


def _wait(job: Any) -> Any:
    try:
        return job.future.result(timeout=JOB_TIMEOUT_S)
    except TimeoutError as exc:
        job.cancel()
        raise SelfTestError(f"the {job.request.task} job took longer than {JOB_TIMEOUT_S:.0f} s") from exc


def step_inpaint(st: _State) -> str:
    from editor.core.compositor import composite
    from editor.core.layers import ResultLayer
    from editor.core.pixels import from_float
    from editor.core.recipe import Recipe
    from editor.infer.api import Request
    from editor.infer.service import InferenceService

    doc, crop = st.need("doc"), st.need("crop")
    st.service = InferenceService(store=None, device="cpu")
    rgba = composite(doc, crop)
    image = np.ascontiguousarray(rgba[..., :3])
    mask = np.ascontiguousarray(doc.selection[crop.y:crop.bottom, crop.x:crop.right])
    request = Request(task="inpaint", image=image, mask=mask, params={"engine": "patchmatch"}, seed=0)
    result = _wait(st.service.submit(request))
    fill = result.image
    if fill.shape[:2] != image.shape[:2] or not np.isfinite(fill).all():
        raise SelfTestError(f"fill has shape {fill.shape} or non-finite values")
    if fill.min() < 0 or fill.max() > 1:
        raise SelfTestError(f"fill out of range [{fill.min():.3f}, {fill.max():.3f}]")
    hole = mask > 0
    outside = ~hole & (result.mask == 0) if result.mask is not None else ~hole
    if not np.array_equal(fill[outside], image[outside]):
        raise SelfTestError("the fill changed pixels outside the mask")
    # The hole must now look like its surroundings: its mean colour near that of a 6 px ring around it
    # (a loose bound: this proves the engine ran on real pixels, the inpainting tests judge quality).
    from scipy.ndimage import binary_dilation

    ring = binary_dilation(hole, iterations=6) & ~hole
    err = float(np.abs(fill[hole].mean(axis=0) - image[ring].mean(axis=0)).max())
    if err > 0.2:
        raise SelfTestError(f"the fill's colour is far from its surroundings (Δ {err:.2f})")
    cache = os.environ.get("NUMBA_CACHE_DIR")
    if getattr(sys, "frozen", False) and cache and not any(Path(cache).rglob("_nnf.*.nbi")):
        raise SelfTestError(f"PatchMatch's compiled kernels were not cached in {cache}")
    pixels = from_float(np.concatenate([fill, np.ones_like(fill[..., :1])], axis=2), doc.dtype)
    layer_mask = result.mask if result.mask is not None else mask
    recipe = Recipe(task="inpaint", params={"engine": "patchmatch"}, seed=0)
    doc.add_layer(ResultLayer("Self-test fill", pixels, layer_mask, recipe, offset=(crop.x, crop.y)))
    return f"{CROP}×{CROP} crop, {int(hole.sum())} px filled, engine {result.info.get('engine')}"


def _random_compact_model(folder: Path, feat: int = 16, convs: int = 2, scale: int = 2) -> Path:
    """A 2× SRVGGNetCompact ("Compact" in spandrel) with seeded random weights, as safetensors.

    Plumbing only, not quality. Written from numpy in the layout spandrel detects (conv, PReLU, …,
    conv to 3·scale² channels) so this module needs no torch; the service's loader reads it back.
    """
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    tensors: dict[str, np.ndarray] = {}
    chans = [3] + [feat] * (convs + 1) + [3 * scale * scale]
    for i in range(convs + 2):
        cin, cout = chans[i], chans[i + 1]
        tensors[f"body.{2 * i}.weight"] = rng.normal(0, 0.1, (cout, cin, 3, 3)).astype(np.float32)
        tensors[f"body.{2 * i}.bias"] = np.zeros(cout, np.float32)
        if i < convs + 1:
            tensors[f"body.{2 * i + 1}.weight"] = np.full(cout, 0.25, np.float32)  # PReLU slopes
    path = folder / "lucid-selftest-compact.safetensors"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path))
    return path


def _superres_model(st: _State) -> tuple[Any, str, str]:
    """(store, model id, note): the smallest installed upscaler, else a random-weight one in tmp."""
    from editor.infer.store import ModelStore

    store = ModelStore()
    installed = [i for i in store.list() if i.task == "superres" and i.installed]
    if installed:
        best = min(installed, key=lambda i: i.size_bytes or 0)
        return store, best.id, "installed"
    tmp_store = ModelStore(st.tmp / "models")
    info = tmp_store.import_file(_random_compact_model(st.tmp / "import"))
    return tmp_store, info.id, "random weights: no upscaler installed"


def step_upscale(st: _State) -> str:
    from editor.infer.api import Request
    from editor.infer.service import InferenceService

    doc = st.need("doc")
    store, model_id, note = _superres_model(st)
    from editor.core.compositor import composite
    from editor.core.geometry import Rect

    small = np.ascontiguousarray(composite(doc, Rect(0, 0, SR_INPUT, SR_INPUT))[..., :3])
    service = InferenceService(store=store, device=st.device)
    try:
        result = _wait(service.submit(Request(task="superres", image=small, model_id=model_id)))
    finally:
        service.shutdown()
    out = result.image
    scale = int(result.info.get("model_scale", 0))
    if scale < 1 or out.shape != (SR_INPUT * scale, SR_INPUT * scale, 3) or not np.isfinite(out).all():
        raise SelfTestError(f"upscaled to {out.shape} at model scale {scale}")
    where = f"{result.info.get('device')}, {result.info.get('backend')}"
    return f"{model_id} ({note}) {SR_INPUT}→{out.shape[1]} px on {where}"


def step_ncnn(st: _State) -> str:
    """The ncnn runtime (a CPU backend of Real-ESRGAN models, used where it was measured faster than
    torch) and its native library load; without it upscaling still works, in torch, so a build that
    lost it must say so rather than quietly run slower where ncnn was the faster."""
    import ncnn

    net = ncnn.Net()
    if net.load_param_mem("7767517\n2 2\nInput data 0 1 data\nReLU relu 1 1 data output\n") != 0:
        raise SelfTestError("ncnn could not read a one-layer graph")
    return f"ncnn {ncnn.__version__}"


def step_ora(st: _State) -> str:
    from editor.core.compositor import composite
    from editor.io.ora import load_project, save_project

    doc = st.need("doc")
    path = st.tmp / "self-test.ora"
    save_project(doc, path)
    again = load_project(path)
    if (again.width, again.height) != (doc.width, doc.height):
        raise SelfTestError(f"reopened as {again.width}×{again.height}")
    names = [layer.name for layer in doc.all_layers()]
    names_again = [layer.name for layer in again.all_layers()]
    if names_again != names:
        raise SelfTestError(f"layers {names} came back as {names_again}")
    fills = [layer for layer in again.all_layers() if getattr(layer, "recipe", None) is not None]
    if len(fills) != len([layer for layer in doc.all_layers() if getattr(layer, "recipe", None)]):
        raise SelfTestError("a result layer lost its recipe")
    for a, b in zip(doc.all_layers(), again.all_layers(), strict=True):
        if not hasattr(a, "pixels"):
            continue
        # A result layer is stored only where its mask shows anything (io.ora: content boxes).
        keep = a.mask > 0 if getattr(a, "recipe", None) is not None and a.mask is not None else ...
        if a.pixels.shape != b.pixels.shape or not np.array_equal(a.pixels[keep], b.pixels[keep]):
            raise SelfTestError(f"layer {a.name!r} changed pixels in the round trip")
    # Masks are stored as 16-bit PNG, so the composite may move by a fraction of an 8-bit step.
    diff = float(np.abs(composite(again) - composite(doc)).max())
    if diff > 0.5 / 255:
        raise SelfTestError(f"the reopened project composites differently (max Δ {diff:.4f})")
    return f"{path.stat().st_size / 1024:.0f} KiB, {len(names)} layers"


def steps() -> list[tuple[str, Callable[[_State], str]]]:
    """The checks in order: one line per registered task and AI panel (editor/modules.py), so a build
    that lost one says which."""
    from editor.modules import PANELS, TASKS

    return [
        ("load commands", step_commands),
        *[(f"task {name}", step_task(name)) for name in TASKS],
        ("start Qt", step_qt),
        ("open sample photo", step_open_sample),
        ("main window", step_window),
        *[(f"panel {entry.title}", step_panel(entry.title)) for entry in PANELS],
        ("paint mask", step_paint_mask),
        ("inpaint (PatchMatch via service)", step_inpaint),
        ("ncnn runtime", step_ncnn),
        ("upscale", step_upscale),
        ("save and reopen .ora", step_ora),
    ]


def _close(st: _State) -> None:
    if st.service is not None:
        st.service.shutdown()
    if st.window is not None:
        st.window.close()
        st.window.deleteLater()
    if st.services is not None:
        st.services.shutdown()
    if st.app is not None:
        st.app.processEvents()


def run(verbose: bool = False, device: str = "auto", out=sys.stdout) -> int:
    """Run every step; return the number that failed."""
    failed = 0
    plan = steps()
    with tempfile.TemporaryDirectory(prefix="lucid-selftest-") as tmp:
        os.environ["LUCID_CONFIG_DIR"] = str(Path(tmp) / "config")  # never touch the user's settings
        st = _State(Path(tmp), device=device)
        start = time.perf_counter()
        try:
            for name, fn in plan:
                t0 = time.perf_counter()
                try:
                    detail = fn(st)
                except Exception as exc:
                    failed += 1
                    reason = str(exc) or type(exc).__name__
                    if not isinstance(exc, SelfTestError | LucidError):  # a Lucid error is its own message
                        reason = f"{type(exc).__name__}: {reason}"
                    print(f"[FAIL] {name}: {reason}", file=out, flush=True)
                    if verbose:
                        traceback.print_exc()
                    continue
                dt = time.perf_counter() - t0
                extra = f" — {detail}" if detail else ""
                print(f"[ok] {name} ({dt:.2f} s){extra}", file=out, flush=True)
        finally:
            _close(st)
        total = time.perf_counter() - start
    verdict = "passed" if not failed else f"{failed} of {len(plan)} steps failed"
    print(f"self-test {verdict} in {total:.1f} s", file=out, flush=True)
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lucid --self-test", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="print a traceback for each failure")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"],
                        help="where the upscaler runs (auto: the GPU if any, which checks its libraries)")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    return 1 if run(verbose=args.verbose, device=args.device) else 0


if __name__ == "__main__":
    sys.exit(main())
