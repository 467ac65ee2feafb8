"""Batch files as tasks on an existing Dask distributed cluster (the optional `cluster` extra).

Why Dask distributed rather than Ray: a batch here is thousands of independent "read a file, run the
model, write a file" calls on a shared filesystem. Dask runs plain functions on plain processes
(pure-Python wheels, a few MB, no object store or raylet daemons), its LocalCluster starts in a
second for tests, and per-process state (our model cache) survives between tasks, which is all the
"load the model once per worker" needs. Ray's strengths (actors, a shared object store, autoscaling)
serve pipelines that pass big arrays between tasks; here only paths and one-line outcomes travel.

Files are named by absolute path: IN_DIR and OUT_DIR must be visible at the same paths on every
worker (a shared or network filesystem), as is usual for cluster batch jobs.
"""

from __future__ import annotations

from collections.abc import Iterator

from editor.cli.batch.worker import FileJob, Outcome, WorkerConfig, run_file
from editor.core.errors import LucidError

INSTALL_HINT = ("--cluster needs Dask distributed, an optional part of Lucid: "
                "pip install 'lucid-editor[cluster]' (or: pip install 'distributed>=2024.8')")


def scheduler_address(spec: str) -> str:
    """`dask://HOST:PORT` or `tcp://HOST:PORT` (or bare HOST:PORT) → Dask's `tcp://HOST:PORT`."""
    if spec.startswith("ray://"):
        raise LucidError("Lucid runs batches on Dask distributed, not Ray: start `dask scheduler` and "
                         "`dask worker tcp://HOST:8786` on the machines and pass --cluster dask://HOST:8786.")
    for prefix in ("dask://", "tcp://"):
        if spec.startswith(prefix):
            spec = spec[len(prefix):]
            break
    host, sep, port = spec.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise LucidError(f"--cluster wants dask://HOST:PORT (the Dask scheduler), got {spec!r}")
    return f"tcp://{host}:{port}"


def _distributed():
    try:
        import distributed
    except ImportError as exc:
        raise LucidError(INSTALL_HINT) from exc
    return distributed


class DaskExecutor:
    """Submits `worker.run_file` per file to the scheduler at `address`; outcomes as they complete."""

    def __init__(self, address: str, config: WorkerConfig, *, timeout_s: float = 10) -> None:
        self._address = scheduler_address(address)  # a wrong address is reported before a missing extra
        distributed = _distributed()
        self.config = config
        try:
            self._client = distributed.Client(self._address, timeout=timeout_s)
        except (OSError, TimeoutError) as exc:
            raise LucidError(f"Cannot reach the Dask scheduler at {self._address} ({exc}).") from exc
        workers = self._client.scheduler_info().get("workers", {})
        if not workers:
            self._client.close()
            raise LucidError(f"The Dask scheduler at {self._address} has no workers.")
        threads = sum(w.get("nthreads", 1) for w in workers.values())
        self.description = f"Dask cluster {self._address}: {len(workers)} workers, {threads} threads"
        self._futures: list = []

    def run(self, jobs: list[FileJob]) -> Iterator[Outcome]:
        distributed = _distributed()
        # pure=False: a re-submitted file (resume) must run again, not return a remembered result
        futures = {self._client.submit(run_file, self.config, job, pure=False,
                                       key=f"lucid-batch-{job.key}-{id(self)}"): job for job in jobs}
        self._futures = list(futures)
        for fut in distributed.as_completed(futures):
            job = futures[fut]
            try:
                yield fut.result()
            except Exception as exc:  # the worker died (KilledWorker) or the task could not be sent
                yield Outcome(job.key, False, f"the cluster could not run it ({type(exc).__name__}: {exc})")
            finally:
                fut.release()

    def close(self, *, cancel: bool = False) -> None:
        if cancel and self._futures:
            self._client.cancel(self._futures)
        self._client.close()
