"""Executors run `worker.run_file` over many files and yield outcomes as they finish, in any order.

The local one is a process pool (spawn start method: a forked child would inherit torch's thread
pools and any CUDA state half-initialised); the cluster one (`cluster.DaskExecutor`) has the same
shape, so the runner does not care where the files are processed.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Protocol

from editor.cli.batch.worker import FileJob, Outcome, WorkerConfig, initializer, run_file


class Executor(Protocol):
    description: str

    def run(self, jobs: list[FileJob]) -> Iterator[Outcome]:
        """Yield one outcome per job as each finishes."""
        ...

    def close(self, *, cancel: bool = False) -> None:
        """Release the workers; `cancel` stops work in flight (outputs are atomic, so this is safe)."""
        ...


class LocalExecutor:
    """`workers` spawned processes, each loading the model once in the pool's initializer."""

    def __init__(self, config: WorkerConfig, workers: int) -> None:
        self.config = config
        self.workers = workers
        self.description = f"{workers} local worker process{'es' if workers != 1 else ''}, " \
                           f"{config.threads} thread{'s' if config.threads != 1 else ''} each"
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=initializer, initargs=(config,))

    def run(self, jobs: list[FileJob]) -> Iterator[Outcome]:
        futures: dict[Future[Outcome], FileJob] = {self._pool.submit(run_file, self.config, j): j
                                                   for j in jobs}
        for fut in as_completed(futures):
            job = futures[fut]
            try:
                yield fut.result()
            except Exception as exc:  # the worker process itself died (killed, out of memory)
                yield Outcome(job.key, False, f"the worker process stopped ({type(exc).__name__}: {exc})")

    def close(self, *, cancel: bool = False) -> None:
        if cancel:
            # Workers may be in the middle of a long file; their writes are atomic, so stop them now.
            # ProcessPoolExecutor has no public way to do that, hence the private process table.
            for proc in list(getattr(self._pool, "_processes", {}).values()):
                proc.terminate()
        self._pool.shutdown(wait=True, cancel_futures=cancel)
