"""Worker counts and threads from cores, memory (the model manifest's memory need) and device."""

from __future__ import annotations

from editor.cli.batch.cluster import scheduler_address
from editor.cli.batch.plan import PROCESS_OVERHEAD_MB, plan_workers


def test_cores_bound_workers_when_memory_is_plenty() -> None:
    p = plan_workers(files=500, cores=8, available_mb=64_000, memory_mb=1030, device="cpu")
    assert (p.workers, p.threads, p.device) == (8, 1, "cpu")


def test_memory_bounds_workers_by_the_manifests_need() -> None:
    need = PROCESS_OVERHEAD_MB + 3000
    p = plan_workers(files=500, cores=16, available_mb=int(3.5 * need / 0.8), memory_mb=3000, device="cpu")
    assert p.workers == 3 and p.threads == 5  # 16 cores shared by the 3 workers memory allows


def test_few_files_few_workers_and_never_zero() -> None:
    assert plan_workers(files=1, cores=8, available_mb=64_000, memory_mb=None, device="cpu").workers == 1
    assert plan_workers(files=50, cores=8, available_mb=10, memory_mb=5000, device="cpu").workers == 1


def test_one_gpu_gets_one_worker_with_the_cores_for_its_cpu_steps() -> None:
    p = plan_workers(files=500, cores=16, available_mb=64_000, memory_mb=1030, device="cuda")
    assert (p.workers, p.threads, p.device) == (1, 16, "cuda")


def test_user_choices_win() -> None:
    p = plan_workers(files=500, cores=16, available_mb=100, memory_mb=9000, device="cpu",
                     workers=6, threads=2)
    assert (p.workers, p.threads) == (6, 2) and p.reason == "--workers"


def test_cluster_addresses() -> None:
    assert scheduler_address("dask://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    assert scheduler_address("tcp://127.0.0.1:1234") == "tcp://127.0.0.1:1234"
    assert scheduler_address("host:99") == "tcp://host:99"
