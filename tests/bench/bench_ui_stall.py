"""Bench (by hand): does a CPU-heavy job on the inference worker stall the Qt main loop?

A QApplication runs a qasync loop with a 5 ms precise QTimer; each tick records how late it fired.
Phases, in one run: no job (baseline); a torch conv job saturating the worker for N s with the
default thread policy (cores − 1); the same with torch using every core; a job that holds the GIL
in pure Python. Progress events flow through JobRunner to the main thread as in the app.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/bench/bench_ui_stall.py [--seconds 10]

Target: p99 lateness ≤ 8 ms with the default policy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

import numpy as np

INTERVAL_MS = 5


def torch_job(seconds: float):
    def run(request, progress, cancel):
        import torch

        from editor.infer.api import Progress, Result

        x = torch.rand(1, 32, 256, 256)
        w = torch.rand(32, 32, 3, 3) * 0.01
        t0 = time.perf_counter()
        n = 0
        with torch.no_grad():
            while (elapsed := time.perf_counter() - t0) < seconds:
                cancel.check()
                x = torch.nn.functional.conv2d(x, w, padding=1).clamp_(0, 1) + 0.01
                n += 1
                progress(Progress(min(elapsed / seconds, 1.0), f"conv {n}"))
        return Result(info={"iterations": n, "threads": torch.get_num_threads()})

    return run


def python_job(seconds: float):
    def run(request, progress, cancel):
        from editor.infer.api import Progress, Result

        t0 = time.perf_counter()
        n = 0
        while (elapsed := time.perf_counter() - t0) < seconds:
            cancel.check()
            s = 0
            for i in range(20000):  # pure Python: holds the GIL between switch intervals
                s += i * i
            n += 1
            progress(Progress(min(elapsed / seconds, 1.0), f"loop {n}"))
        return Result(info={"iterations": n})

    return run


class StallMeter:
    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.samples: list[float] | None = None
        self.last = 0.0
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.samples is not None:
            self.samples.append((now - self.last) * 1000 - INTERVAL_MS)
        self.last = now

    def start(self) -> None:
        self.samples = []
        self.last = time.perf_counter()

    def stop(self) -> np.ndarray:
        out = np.array(self.samples or [0.0])
        self.samples = None
        return np.maximum(out, 0.0)


async def measure(
    runner, meter: StallMeter, label: str, task: str | None, seconds: float, rows: list
) -> None:
    from editor.infer.api import Request

    meter.start()
    info: dict = {}
    if task is None:
        await asyncio.sleep(seconds)
    else:
        info = (await runner.run(Request(task=task))).info
    late = meter.stop()
    rows.append((label, len(late), *np.percentile(late, [50, 99]), late.max(), info.get("threads", "")))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0, help="duration of each job phase")
    ap.add_argument("--baseline", type=float, default=5.0, help="duration of the no-job phase")
    args = ap.parse_args()

    import qasync
    from PySide6.QtWidgets import QApplication

    from editor.infer.api import Request
    from editor.infer.device import default_cpu_threads
    from editor.infer.service import InferenceService
    from editor.ui.jobs import JobRunner

    app = QApplication.instance() or QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    cores = os.cpu_count() or 1
    tasks = {"torch": torch_job(args.seconds), "python": python_job(args.seconds), "warm": torch_job(0.01)}
    rows: list = []

    async def run_all() -> None:
        meter = StallMeter()
        meters.append(meter)
        await measure(None, meter, "no job (baseline)", None, args.baseline, rows)
        # First job of a session: the worker imports torch (holds the GIL); measured on its own.
        service = InferenceService(None, device="cpu", task_resolver=tasks.__getitem__)
        runner = JobRunner(service)
        await measure(runner, meter, "first job: torch import on the worker", "warm", 0, rows)
        service.shutdown()
        runner.close()
        phases = (
            (f"torch conv, {default_cpu_threads()} threads (default)", None, 5),
            (f"torch conv, {cores} threads (all cores)", cores, 5),
            (f"torch conv, {default_cpu_threads()} thr, switch 1 ms", None, 1),
        )
        for label, threads, switch_ms in phases:
            sys.setswitchinterval(switch_ms / 1000)
            service = InferenceService(
                None, device="cpu", cpu_threads=threads, task_resolver=tasks.__getitem__
            )
            runner = JobRunner(service)
            await runner.run(Request(task="warm"))
            await measure(runner, meter, label, "torch", args.seconds, rows)
            service.shutdown()
            runner.close()
        sys.setswitchinterval(0.005)
        service = InferenceService(None, device="cpu", task_resolver=tasks.__getitem__)
        runner = JobRunner(service)
        await measure(runner, meter, "pure-Python job (GIL-bound)", "python", args.seconds, rows)
        service.shutdown()
        runner.close()

    meters: list[StallMeter] = []
    with loop:
        loop.run_until_complete(run_all())
    for m in meters:  # tear Qt objects down while the interpreter is still whole
        m.timer.stop()
        m.timer.deleteLater()
    meters.clear()
    app.processEvents()
    print(
        f"\nMain-loop lateness of a {INTERVAL_MS} ms QTimer (ms; {cores} cores, "
        "GIL switch interval 5 ms unless noted)\n"
    )
    print(f"{'phase':44} {'ticks':>6} {'p50':>7} {'p99':>7} {'max':>7} {'torch thr':>9}")
    for label, n, p50, p99, mx, thr in rows:
        print(f"{label:44} {n:6d} {p50:7.2f} {p99:7.2f} {mx:7.2f} {thr!s:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
