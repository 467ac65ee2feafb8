"""Super-resolution bench (by hand): fidelity and speed against ncnn, memory, quality, seams.

    LUCID_MODELS_DIR=… .venv/bin/python tests/bench/bench_superres.py [--skip-rss] [--only SECTION …]

Needs the Real-ESRGAN models installed (`lucid models fetch realesrgan-x4plus` / `realesr-animevideov3`),
the SRGAN file in ../shared/data, and the `ncnn` package (a dependency) for the reference runtime.
Sections: fidelity, speed (ends with bar), bar, tilemem, rss, quality, seams. CPU only; every number is
from this run.
x4plus on a shared 2-core CPU is slow, so fidelity uses centre crops (conversion is per-pixel
identical math, so a crop tests it as well as the whole image) and the 1024² memory run happens once.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from editor.core.metrics import luma_psnr, luma_ssim, psnr  # noqa: E402
from editor.infer.api import CancelToken, Request, TaskContext, no_progress  # noqa: E402
from editor.infer.cpu_runtime import best_seconds  # noqa: E402
from editor.infer.safe_load import load_model  # noqa: E402
from editor.infer.store import ModelStore  # noqa: E402
from editor.infer.tasks.superres import run as superres  # noqa: E402

NCNN_STEM = {"realesrgan-x4plus": "realesrgan-x4plus", "realesr-animevideov3": "realesr-animevideov3-x4"}


def table(title: str, header: list[str], rows: list[list[object]]) -> None:
    cells = [header] + [[f"{c:.2f}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n## {title}")
    for i, r in enumerate(cells):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    sys.stdout.flush()


def rgb01(path: Path) -> np.ndarray:
    im = Image.open(path)
    arr = np.asarray(im)
    if arr.dtype == np.uint16 or im.mode.startswith("I;16"):
        from editor.io.images import load_image

        return (load_image(path).pixels[..., :3].astype(np.float32) / 65535).copy()
    return np.asarray(im.convert("RGB"), np.float32) / 255


def centre_crop(a: np.ndarray, side: int) -> np.ndarray:
    h, w = a.shape[:2]
    y, x = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return np.ascontiguousarray(a[y:y + side, x:x + side])


class Ncnn:
    """The reference runtime, CPU, fp32 everywhere (so differences are the conversion's, not fp16's)."""

    def __init__(self, param: Path, binf: Path, threads: int) -> None:
        import ncnn

        self.ncnn = ncnn
        self.net = ncnn.Net()
        for opt in ("use_vulkan_compute", "use_fp16_storage", "use_fp16_packed", "use_fp16_arithmetic",
                    "use_bf16_storage"):
            if hasattr(self.net.opt, opt):
                setattr(self.net.opt, opt, False)
        self.net.opt.num_threads = threads
        self.net.load_param(str(param))
        self.net.load_model(str(binf))

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        chw = np.ascontiguousarray(rgb.transpose(2, 0, 1))  # ncnn.Mat wraps this memory: keep it alive
        ex = self.net.create_extractor()
        ex.input("data", self.ncnn.Mat(chw))
        _, out = ex.extract("output")
        result = np.clip(np.array(out), 0, 1).transpose(1, 2, 0)
        del chw
        return result


def torch_fn(desc, channels_last: bool = False):
    model = desc.model
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    else:
        model = model.to(memory_format=torch.contiguous_format)

    def call(rgb: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            return model(x).clamp_(0, 1)[0].permute(1, 2, 0).numpy()

    return call


class Models:
    def __init__(self) -> None:
        self.store = ModelStore()

    def desc(self, model_id: str):
        return load_model(self.store.path(model_id)).eval()

    def ncnn(self, model_id: str, threads: int = 1) -> Ncnn:
        folder = self.store.models_dir / model_id
        stem = NCNN_STEM[model_id]
        return Ncnn(folder / f"{stem}.param", folder / f"{stem}.bin", threads)


def section_fidelity(m: Models) -> None:
    torch.set_num_threads(2)
    rows = []
    inputs = sorted((SHARED / "sr" / "realesrgan_inputs").iterdir())
    for model_id, side in (("realesr-animevideov3", 192), ("realesrgan-x4plus", 64)):
        ours, ref = torch_fn(m.desc(model_id)), m.ncnn(model_id, threads=2)
        for path in inputs:
            x = centre_crop(rgb01(path), side)
            a, b = ours(x), ref(x)
            rows.append([model_id, path.name, f"{x.shape[1]}×{x.shape[0]}", psnr(a, b),
                         f"{np.abs(a - b).max() * 255:.4f}"])
    table("Fidelity: torch (converted) vs ncnn, CPU fp32 (bar ≥ 45 dB each)",
          ["model", "image", "crop", "PSNR dB", "max |diff| (/255)"], rows)


def section_speed(m: Models) -> None:
    x = centre_crop(rgb01(SHARED / "sr" / "realesrgan_inputs" / "OST_009.png"), 256)
    rows = []
    for model_id, repeats in (("realesr-animevideov3", 3), ("srgan-x4", 2), ("realesrgan-x4plus", 1)):
        desc = m.desc(model_id)
        for threads in (1, 2) if model_id == "realesr-animevideov3" else (1,):
            torch.set_num_threads(threads)
            t_ncnn = float("nan")
            if model_id in NCNN_STEM:  # SRGAN has no ncnn form: torch layouts only
                ref = m.ncnn(model_id, threads)
                ref(x[:32, :32])  # warm-up
                t_ncnn = best_seconds(ref, x, repeats, warm=False)
            for cl in (False, True):
                fn = torch_fn(desc, channels_last=cl)
                fn(x[:32, :32])
                t = best_seconds(fn, x, repeats, warm=False)
                rows.append([model_id, threads, "channels_last" if cl else "contiguous", f"{t:.2f}",
                             f"{t_ncnn:.2f}", f"{t_ncnn / t:.2f}"])
    table("Speed: 256² → 1024², CPU, best of N (ratio > 1: torch faster than ncnn)",
          ["model", "threads", "torch layout", "torch s", "ncnn s", "ncnn/torch"], rows)
    section_bar(m)


# The reference process: the ncnn package alone on the same PNG, nothing of Lucid's (argv: param, bin,
# input, output, threads, "fp32" or "defaults"). Prints the seconds of the network call itself.
# Run by hand with "defaults", it wrote the same file as "fp32" (this CPU has no fp16 storage path).
_NCNN_PROCESS = """
import sys, time
import ncnn, numpy as np
from PIL import Image
param, binf, src, dst, threads, precision = sys.argv[1:]
net = ncnn.Net()
net.opt.use_vulkan_compute = False
if precision == "fp32":
    for opt in ("use_fp16_storage", "use_fp16_packed", "use_fp16_arithmetic", "use_bf16_storage"):
        setattr(net.opt, opt, False)
net.opt.num_threads = int(threads)
net.load_param(param)
net.load_model(binf)
chw = np.ascontiguousarray(np.asarray(Image.open(src).convert("RGB"), np.float32).transpose(2, 0, 1) / 255)
t = time.perf_counter()
ex = net.create_extractor()
ex.input("data", ncnn.Mat(chw))
_, out = ex.extract("output")
y = np.clip(np.array(out), 0, 1).transpose(1, 2, 0)
print(time.perf_counter() - t)
Image.fromarray(np.round(y * 255).astype(np.uint8)).save(dst)
"""


def _timed_process(cmd: list[str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the child: user + system, all its threads; less sensitive to other load, stdout)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=os.environ)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed: {proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def section_bar(m: Models, repeats: int = 5) -> None:
    """Issue 19's bar: `lucid upscale --model realesrgan-x4plus` on a 256² crop, end to end as a process,
    against the ncnn package alone doing the same (read PNG, run fp32, write PNG) on the same crop and
    threads; alternated, best of N, wall and CPU time. Also each one's network time (lucid: the task's
    own `seconds`; ncnn: the extract call). Lucid runs whichever runtime `lucid warm-caches` measured
    faster on this CPU (editor.infer.cpu_runtime; printed per sample). ncnn's defaults wrote the same
    8-bit file as fp32 on this CPU (120 dB) at the same speed (1.04×, load 5-6), so the bar compares
    with fp32."""
    from editor.infer.device import default_cpu_threads

    threads = default_cpu_threads()  # what `lucid upscale` hands to ncnn (and would give torch)
    folder = m.store.models_dir / "realesrgan-x4plus"
    param, binf = folder / "realesrgan-x4plus.param", folder / "realesrgan-x4plus.bin"
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "crop256.png"
        x = centre_crop(rgb01(SHARED / "sr" / "realesrgan_inputs" / "OST_009.png"), 256)
        Image.fromarray(np.round(x * 255).astype(np.uint8)).save(src)
        outs = {k: Path(tmp) / f"{k}.png" for k in ("lucid", "ncnn")}
        cmds = {"lucid": [sys.executable, "-m", "editor", "upscale", str(src), "-o", str(outs["lucid"]),
                          "--model", "realesrgan-x4plus", "--overwrite"],
                "ncnn": [sys.executable, "-c", _NCNN_PROCESS, str(param), str(binf), str(src),
                         str(outs["ncnn"]), str(threads), "fp32"]}
        samples: dict[str, list[tuple[float, float, float]]] = {k: [] for k in outs}
        loads = []
        for i in range(repeats):
            loads.append(os.getloadavg()[0])
            for key in (("lucid", "ncnn") if i % 2 == 0 else ("ncnn", "lucid")):
                wall, cpu, out = _timed_process(cmds[key])
                if key == "lucid":
                    backend = re.search(r"realesrgan-x4plus in (\w+)", out).group(1)
                    net = float(re.search(r"([\d.]+) s\)", out).group(1))
                else:
                    net = float(out.strip().splitlines()[-1])
                samples[key].append((wall, cpu, net))
                who = f"lucid ({backend})" if key == "lucid" else key
                print(f"  {who}: wall {wall:.2f} s, CPU {cpu:.2f} s, network {net:.2f} s", flush=True)
        loads.append(os.getloadavg()[0])
        best = {k: [min(s[j] for s in v) for j in range(3)] for k, v in samples.items()}
        ref_img = rgb01(outs["ncnn"])
        rows = [[k, threads, *[f"{best[k][j]:.2f} ({best['ncnn'][j] / best[k][j]:.3f})" for j in range(3)],
                 f"{psnr(rgb01(outs[k]), ref_img):.2f}"] for k in outs]
    table(f"Bar: `lucid upscale --model realesrgan-x4plus` 256² → 1024² vs ncnn alone (fp32), "
          f"best of {repeats}, alternated, load {min(loads):.1f}–{max(loads):.1f}; "
          "(ncnn's time / this one: bar ≥ 1.0)",
          ["who", "threads", "process wall s", "process CPU s", "network s", "PSNR dB vs ncnn (8-bit files)"],
          rows)


_TILE_MEM = """
import sys, psutil, numpy as np
from editor.infer.store import ModelStore
side = int(sys.argv[2])
if sys.argv[3] == "ncnn":
    from editor.infer.ncnn_runtime import load_ncnn_net
    net = load_ncnn_net(ModelStore(), sys.argv[1], 1)
    x = np.random.default_rng(0).random((side, side, 3), dtype=np.float32)
    net(x[:16, :16])
    d = net
else:
    import torch
    from editor.infer.safe_load import load_model
    torch.set_num_threads(1)
    d = load_model(ModelStore().path(sys.argv[1])).eval()
    x = torch.rand(1, 3, side, side)
    with torch.inference_mode():
        d(x[..., :16, :16])
proc = psutil.Process()
base = proc.memory_info().rss
peak = [base]
import threading
stop = threading.Event()
def watch():
    while not stop.is_set():
        peak[0] = max(peak[0], proc.memory_info().rss)
        stop.wait(0.01)
t = threading.Thread(target=watch); t.start()
if sys.argv[3] == "ncnn":
    d(x)
else:
    with torch.inference_mode():
        d(x)
stop.set(); t.join()
print((peak[0] - base) / side / side)
"""


def section_tilemem() -> None:
    rows = []
    cases = (("realesr-animevideov3", 256, "torch"), ("realesrgan-x4plus", 128, "torch"),
             ("realesrgan-x4plus", 128, "ncnn"), ("realesrgan-x4plus", 256, "ncnn"),
             ("srgan-x4", 128, "torch"))
    for model_id, side, runtime in cases:
        out = subprocess.run([sys.executable, "-c", _TILE_MEM, model_id, str(side), runtime],
                             capture_output=True, text=True, cwd=REPO, env=os.environ)
        per_px = float(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else float("nan")
        rows.append([model_id, runtime, f"{side}²", f"{per_px:,.0f}", f"{per_px * 256 * 256 / 2**20:,.0f}"])
    table("Working memory per input pixel while the network runs (RSS growth, CPU fp32)",
          ["model", "runtime", "tile", "bytes / input px", "MiB for a 256² tile"], rows)


def section_rss() -> None:
    src = SHARED / "sr" / "realesrgan_inputs" / "OST_009.png"
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in1024.png", Path(tmp) / "out4096.png"
        im = Image.open(src).convert("RGB")
        im = im.resize((1024, round(im.height * 1024 / im.width)), Image.Resampling.LANCZOS)
        im.crop((0, 0, 1024, 1024)).save(inp)
        cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "editor", "upscale", str(inp), "-o", str(out),
               "--model", "realesrgan-x4plus"]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=os.environ)
        wall = time.perf_counter() - t
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
        size = Image.open(out).size if out.exists() else None
    peak_gb = int(rss.group(1)) * 1024 / 1e9 if rss else float("nan")
    table("Memory: `lucid upscale` 1024² → 4096², realesrgan-x4plus, whole process (bar ≤ 3 GB)",
          ["output", "peak RSS GB", "wall s", "exit"],
          [[size, f"{peak_gb:.2f}", f"{wall:.0f}", proc.returncode]])


def _set5() -> list[tuple[str, np.ndarray, np.ndarray]]:
    folder = SHARED / "sr" / "Set5" / "x4"
    return [(p.name[:7], rgb01(p), rgb01(folder / p.name.replace("_LR", "_HR")))
            for p in sorted(folder.glob("*_LR.png"))]


def section_quality(m: Models) -> None:
    torch.set_num_threads(2)
    data = _set5()
    methods = {"bicubic": None, "srgan-x4": "srgan-x4", "realesrgan-x4plus": "realesrgan-x4plus",
               "realesr-animevideov3": "realesr-animevideov3"}
    rows = []
    for label, model_id in methods.items():
        fn = torch_fn(m.desc(model_id)) if model_id else None
        ps, ss = [], []
        for _, lr, hr in data:
            if fn is None:
                img = Image.fromarray((lr * 255).round().astype(np.uint8))
                out = np.asarray(img.resize(hr.shape[1::-1], Image.Resampling.BICUBIC), np.float32) / 255
            else:
                out = fn(lr)
            out = np.round(out * 255) / 255  # score what a file would hold
            ps.append(luma_psnr(out, hr, border=4))
            ss.append(luma_ssim(out, hr, border=4))
        rows.append([label, *[f"{p:.2f}/{s:.3f}" for p, s in zip(ps, ss, strict=True)],
                     f"{np.mean(ps):.2f}", f"{np.mean(ss):.4f}"])
    table("Quality: Set5 ×4, Y channel (4 px border cropped), PSNR dB / SSIM per image",
          ["method", *[n for n, _, _ in data], "mean PSNR", "mean SSIM"], rows)


def section_seams(m: Models) -> None:
    torch.set_num_threads(2)
    baby = rgb01(SHARED / "sr" / "Set5" / "x4" / "img_001_SRF_4_HR.png")  # 512²
    rows = []
    for model_id, image, tiles in (("realesr-animevideov3", baby, (320, 192)),
                                   ("realesrgan-x4plus", centre_crop(baby, 128), (64,))):
        desc = m.desc(model_id)

        def go(tile: int, image=image, desc=desc, model_id=model_id):
            req = Request(task="superres", image=image, model_id=model_id, params={"tile": tile},
                          context=TaskContext(device="cpu", load_model=lambda _id: desc))
            return superres(req, no_progress, CancelToken())

        whole = go(max(image.shape[:2]))
        for tile in tiles:
            res = go(tile)
            diff = np.abs(res.image - whole.image)
            rows.append([model_id, f"{image.shape[1]}²", tile, res.info["overlap"], f"{diff.max() * 255:.4f}",
                         f"{diff.mean() * 255:.5f}", "yes" if diff.max() <= 1 / 255 else "NO"])
    table("Seams: tiled vs untiled through the task (bar ≤ 1/255 for compact on 512²)",
          ["model", "image", "tile", "overlap", "max |diff| /255", "mean /255", "≤ 1/255"], rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--skip-rss", action="store_true")
    args = ap.parse_args()
    wanted = set(args.only or ["fidelity", "speed", "tilemem", "rss", "quality", "seams"])
    if "bar" in wanted and "speed" in wanted:
        wanted.discard("bar")  # speed ends with it
    if args.skip_rss:
        wanted.discard("rss")
    m = Models()
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    for name in ("fidelity", "speed", "bar", "tilemem", "quality", "seams", "rss"):
        if name in wanted:
            t = time.perf_counter()
            if name in ("tilemem", "rss"):
                globals()[f"section_{name}"]()
            else:
                globals()[f"section_{name}"](m)
            print(f"({name}: {time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
