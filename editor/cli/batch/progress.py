"""What a batch tells the person (a tqdm bar on stderr, a summary line, the failures) or a script (--json).

JSON lines go to stdout, one object per event: `start` (total, todo, workers), `file` (path, state,
output or error, done/failed/todo counts, rate in files/s, eta_s), and `summary` at the end.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from editor.cli.batch.worker import Outcome


@dataclass
class Tally:
    todo: int
    skipped: int = 0
    done: int = 0
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> int:
        return self.done + self.failed

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        return self.finished / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        return (self.todo - self.finished) / self.rate if self.rate > 0 else None

    def add(self, outcome: Outcome) -> None:
        if outcome.ok:
            self.done += 1
        else:
            self.failed += 1
            name = outcome.key.rsplit("/", 1)[-1]  # messages usually start with the file's name already
            self.failures.append((outcome.key, outcome.message.removeprefix(f"{name}: ")))

    def summary(self, task: str, *, interrupted: bool = False) -> str:
        head = f"{task}: interrupted after" if interrupted else f"{task}:"
        return (f"{head} {self.done} done, {self.skipped} skipped, {self.failed} failed in "
                f"{self.elapsed:.1f} s ({self.rate:.2f} files/s)")


class BarReporter:
    """A tqdm bar with count, rate and ETA; failures printed above it as they happen."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.bar = None

    def start(self, tally: Tally, total: int, where: str) -> None:
        from tqdm import tqdm

        print(f"{total} files: {tally.todo} to do, {tally.skipped} kept from before; {where}",
              file=self.stream)
        self.bar = tqdm(total=tally.todo, unit="file", file=self.stream, dynamic_ncols=True, smoothing=0.1)

    def file(self, outcome: Outcome, tally: Tally) -> None:
        if not outcome.ok:
            key, message = tally.failures[-1]
            self.bar.write(f"failed: {key}: {message}", file=self.stream)
        self.bar.update(1)

    def finish(self, tally: Tally, task: str, *, interrupted: bool = False) -> None:
        if self.bar is not None:
            self.bar.close()
        print(tally.summary(task, interrupted=interrupted), file=self.stream)
        if tally.failures:
            print("failed:", file=self.stream)
            for key, message in tally.failures:
                print(f"  {key}: {message}", file=self.stream)


class JsonReporter:
    """Machine-readable progress: one JSON object per line on stdout, flushed at once."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def _emit(self, **event) -> None:
        print(json.dumps(event, ensure_ascii=False), file=self.stream, flush=True)

    def start(self, tally: Tally, total: int, where: str) -> None:
        self._emit(event="start", total=total, todo=tally.todo, skipped=tally.skipped, workers=where)

    def file(self, outcome: Outcome, tally: Tally) -> None:
        eta = tally.eta_s
        self._emit(event="file", path=outcome.key, state="done" if outcome.ok else "failed",
                   message=outcome.message, seconds=round(outcome.seconds, 3), worker=outcome.worker,
                   done=tally.done,
                   failed=tally.failed, todo=tally.todo, rate=round(tally.rate, 3),
                   eta_s=None if eta is None else round(eta, 1))

    def finish(self, tally: Tally, task: str, *, interrupted: bool = False) -> None:
        self._emit(event="summary", done=tally.done, skipped=tally.skipped, failed=tally.failed,
                   seconds=round(tally.elapsed, 2), rate=round(tally.rate, 3), interrupted=interrupted,
                   failures=[{"path": k, "error": m} for k, m in tally.failures],
                   text=tally.summary(task, interrupted=interrupted))
