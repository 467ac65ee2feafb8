"""Batch bench (by hand): `lucid batch upscale` against a shell loop of single `lucid upscale` calls.

    .venv/bin/python tests/bench/bench_batch.py [--files 200] [--loop-files 20] [--size 64]
                                                [--model realesr-animevideov3] [--skip-resume]

200 small photos (64-px crops of the Places2 photos in ../shared/data/inpaint/migan, a set no
batch test uses; synthetic photos when that data is absent) are upscaled with the compact model:
  - a shell loop `for f in …; do lucid upscale "$f" -o …; done` (each call pays Python + torch start-up
    and the model load, as a script over single files does) on the first --loop-files files,
  - `lucid batch upscale` with 1 and 2 worker processes (wall time of the whole command, start-up included),
  - the same on a local two-worker Dask cluster on 127.0.0.1 (the cluster is started first, as a cluster
    is when you use --cluster; its start-up is printed separately).
Every batch output is compared byte for byte with the per-file result (the loop's file where the loop
ran, else the single-file command called in this process). `resume` kills the batch twice (SIGKILL of
its process group), resumes it, and checks the outputs again, locally and through the cluster.
Prints load average: the machine is shared, so only figures from one run compare.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
PHOTOS = REPO.parent / "shared" / "data" / "inpaint" / "migan"
sys.path.insert(0, str(REPO))

from editor.cli import main as lucid  # noqa: E402


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def make_photos(folder: Path, n: int, size: int) -> list[Path]:
    """`n` size×size JPEG crops of real photos (4 per photo, spread over it), or synthetic ones."""
    sources = sorted(PHOTOS.glob("*/images/*"))
    rng = np.random.default_rng(18)
    out = []
    for i in range(n):
        if sources:
            im = np.asarray(Image.open(sources[i % len(sources)]).convert("RGB"))
            y, x = rng.integers(0, im.shape[0] - size), rng.integers(0, im.shape[1] - size)
            crop = im[y : y + size, x : x + size]
        else:
            crop = (rng.random((size, size, 3)) * 255).astype(np.uint8)
        p = folder / f"{'a' if i % 2 else 'b'}" / f"photo{i:04d}.jpg"
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(crop).save(p, quality=92)
        out.append(p)
    return out


def loadavg() -> str:
    p = Path("/proc/loadavg")
    return " ".join(p.read_text().split()[:3]) if p.exists() else "?"


def timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env())
    return time.perf_counter() - t, proc


def shell_loop(files: list[Path], src: Path, out: Path, opts: list[str]) -> float:
    """A bash loop of single `lucid upscale` calls (python -m editor is the `lucid` entry point)."""
    lines = []
    for f in files:
        dest = out / f.relative_to(src)
        dest.parent.mkdir(parents=True, exist_ok=True)
        lines.append(f'"{sys.executable}" -m editor upscale "{f}" -o "{dest}" {" ".join(opts)} >/dev/null')
    script = out / "loop.sh"
    script.write_text("set -e\n" + "\n".join(lines) + "\n")
    t = time.perf_counter()
    subprocess.run(["bash", str(script)], check=True, env=env())
    return time.perf_counter() - t


def references(files: list[Path], src: Path, ref: Path, opts: list[str]) -> dict[str, bytes]:
    """The single-file command's bytes for every file (called in-process: same function, no start-up)."""
    refs = {}
    for f in files:
        rel = f.relative_to(src).as_posix()
        dest = ref / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            assert lucid(["upscale", str(f), "-o", str(dest), *opts]) == 0
        refs[rel] = dest.read_bytes()
    return refs


def compare(out: Path, refs: dict[str, bytes]) -> str:
    missing = [r for r in refs if not (out / r).is_file()]
    differ = [r for r in refs if (out / r).is_file() and (out / r).read_bytes() != refs[r]]
    temps = [p.name for p in out.rglob("*.tmp")]
    if missing or differ or temps:
        return f"FAIL: {len(missing)} missing, {len(differ)} differ, {len(temps)} temp files"
    return f"all {len(refs)} identical, no temp files"


def batch_cmd(src: Path, out: Path, opts: list[str], extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "editor", "batch", "upscale", str(src), "-o", str(out), *opts, *extra]


def kill_twice_then_resume(cmd: list[str], out: Path, refs: dict[str, bytes]) -> str:
    kills = []
    for attempt, stop_after in enumerate((len(refs) // 5, len(refs) // 2)):
        proc = subprocess.Popen(cmd + ["--json"] + (["--resume"] if attempt else []), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, env=env(), start_new_session=True)
        seen = 0
        for line in proc.stdout:
            seen += json.loads(line)["event"] == "file"
            if seen >= stop_after:
                break
        time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):  # it may have finished first
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        done = sum(v["state"] == "done" for v in json.loads((out / ".lucid-batch.json").read_text())
                   ["files"].values())
        partial = compare_present(out, refs)
        kills.append(f"kill {attempt + 1}: {done} done in manifest, present outputs {partial}")
    wall, proc = timed([*cmd, "--resume"])
    assert proc.returncode == 0, proc.stderr
    return "; ".join(kills) + f"; resumed in {wall:.1f} s → {compare(out, refs)}"


def compare_present(out: Path, refs: dict[str, bytes]) -> str:
    present = [r for r in refs if (out / r).is_file()]
    bad = [r for r in present if (out / r).read_bytes() != refs[r]]
    return f"{len(present)} whole" if not bad else f"{len(bad)} of {len(present)} WRONG"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--loop-files", type=int, default=20, help="files the shell loop runs on (its rate "
                    "per file is what compares; 200 calls take minutes on a loaded machine)")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--model", default="realesr-animevideov3")
    ap.add_argument("--skip-resume", action="store_true")
    args = ap.parse_args()
    opts = ["--model", args.model]
    tmp = Path(tempfile.mkdtemp(prefix="lucid-bench-batch-"))
    try:
        src = tmp / "in"
        files = make_photos(src, args.files, args.size)
        kind = "Places2 crops" if PHOTOS.is_dir() else "synthetic"
        print(f"{len(files)} photos {args.size}×{args.size} ({kind}), model {args.model}, "
              f"{os.cpu_count()} CPUs; load {loadavg()}", flush=True)
        refs = references(files, src, tmp / "ref", opts)
        rows = []
        loop_files = files[: args.loop_files]
        t = shell_loop(loop_files, src, tmp / "loop", opts)
        loop_rate = len(loop_files) / t
        loop_refs = {f.relative_to(src).as_posix(): refs[f.relative_to(src).as_posix()] for f in loop_files}
        rows.append(("shell loop of `lucid upscale`", len(loop_files), t, loop_rate,
                     compare(tmp / "loop", loop_refs)))
        print(f"  loop done, load {loadavg()}", flush=True)
        for workers in (1, 2):
            out = tmp / f"batch{workers}"
            wall, proc = timed(batch_cmd(src, out, opts, ["--workers", str(workers)]))
            assert proc.returncode == 0, proc.stderr
            rows.append((f"lucid batch --workers {workers}", len(files), wall, len(files) / wall,
                         compare(out, refs)))
            print(f"  batch {workers} done, load {loadavg()}", flush=True)
        from distributed import LocalCluster

        t = time.perf_counter()
        with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                          dashboard_address="127.0.0.1:0", silence_logs=50) as cluster:
            started = time.perf_counter() - t
            address = cluster.scheduler_address.replace("tcp://", "dask://")
            out = tmp / "cluster"
            wall, proc = timed(batch_cmd(src, out, opts, ["--cluster", address]))
            assert proc.returncode == 0, proc.stderr
            rows.append((f"lucid batch --cluster (2 workers; cluster start {started:.1f} s not counted)",
                         len(files), wall, len(files) / wall, compare(out, refs)))
            again = tmp / "cluster-resume"
            resume_cluster = None if args.skip_resume else kill_twice_then_resume(
                batch_cmd(src, again, opts, ["--cluster", address]), again, refs)
        resume_local = None if args.skip_resume else kill_twice_then_resume(
            batch_cmd(src, tmp / "local-resume", opts, ["--workers", "2"]), tmp / "local-resume", refs)
        print("\n| run | files | seconds | files/s | × loop | outputs vs per-file |")
        print("|---|---|---|---|---|---|")
        for name, n, secs, rate, check in rows:
            print(f"| {name} | {n} | {secs:.1f} | {rate:.2f} | {rate / loop_rate:.1f} | {check} |")
        if resume_local:
            print(f"\nresume, local 2 workers: {resume_local}")
            print(f"resume, cluster: {resume_cluster}")
        print(f"\nload average at the end: {loadavg()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
