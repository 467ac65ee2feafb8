"""A batch killed at random moments and resumed ends with every output equal to the single-file result,
never a half-written one; the same on a local two-worker Dask cluster (loopback only, torn down after)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import env_with_repo, leftovers, make_photos, manifest, single_file, upscale_options

from editor.cli import main


def _references(src: Path, names: list[str], tmp: Path, opts: list[str]) -> dict[str, bytes]:
    return {rel: single_file("upscale", src / rel, tmp / "single" / rel, opts) for rel in names}


def _check_outputs(out: Path, refs: dict[str, bytes], *, complete: bool) -> None:
    """Every output present is complete and equal to the single-file result (and all present at the end)."""
    for rel, want in refs.items():
        p = out / rel
        if p.exists():
            assert p.read_bytes() == want, f"{rel} differs from the single-file result"
        else:
            assert not complete, f"{rel} missing"


def _run_and_kill(argv: list[str], stop_after: int, delay: float) -> int:
    """Start the batch, SIGKILL its whole process group after `stop_after` finished files (+ `delay`)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env_with_repo(), start_new_session=True)
    seen = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        if json.loads(line)["event"] == "file":
            seen += 1
        if seen >= stop_after:
            break
    time.sleep(delay)  # lands the kill inside the next files' work or their writes
    with contextlib.suppress(ProcessLookupError):  # it may have finished first
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return seen


@pytest.mark.slow
def test_killed_three_times_then_resumed_matches_single_files(tmp_path: Path, sr_model) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    names = make_photos(src, 16, size=(32, 40))
    opts = upscale_options(sr_model)
    refs = _references(src, names, tmp_path, opts)
    argv = [sys.executable, "-m", "editor", "batch", "upscale", str(src), "-o", str(out), *opts,
            "--workers", "2", "--json"]
    rng = random.Random(18)
    for attempt in range(3):
        _run_and_kill(argv + (["--resume"] if attempt else []), rng.randint(1, 5), rng.uniform(0, 0.2))
        _check_outputs(out, refs, complete=False)  # killed: whatever is there is whole and right
    done_before = sum(v["state"] == "done" for v in manifest(out)["files"].values())
    assert 0 < done_before < len(names)  # the kills really landed mid-batch
    final = subprocess.run([*argv, "--resume"], capture_output=True, text=True, env=env_with_repo(),
                           timeout=300)
    assert final.returncode == 0, final.stderr
    summary = json.loads(final.stdout.splitlines()[-1])
    assert summary["done"] + summary["skipped"] == len(names) and summary["skipped"] >= done_before
    _check_outputs(out, refs, complete=True)
    assert leftovers(out) == []
    assert {v["state"] for v in manifest(out)["files"].values()} == {"done"}


@pytest.fixture
def local_cluster(monkeypatch):
    """Two Dask worker processes on 127.0.0.1, one thread each; every port it opens (scheduler, workers,
    nannies, HTTP) listens on loopback only; closed after the test."""
    distributed = pytest.importorskip("distributed")
    monkeypatch.setenv("PYTHONPATH", env_with_repo()["PYTHONPATH"])  # the workers import `editor`
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0", silence_logs=50) as cluster:
        yield cluster.scheduler_address
    # the context manager has stopped the workers and the scheduler


@pytest.mark.slow
def test_cluster_gives_the_same_outputs_and_resumes_after_a_kill(tmp_path: Path, sr_model,
                                                                 local_cluster: str, capsys) -> None:
    assert local_cluster.startswith("tcp://127.0.0.1:")
    src = tmp_path / "in"
    names = make_photos(src, 10, size=(32, 40))
    opts = upscale_options(sr_model)
    refs = _references(src, names, tmp_path, opts)
    address = local_cluster.replace("tcp://", "dask://")
    capsys.readouterr()

    out = tmp_path / "out"
    assert main(["batch", "upscale", str(src), "-o", str(out), *opts, "--cluster", address, "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "2 workers" in events[0]["workers"]
    # the files ran on the cluster's worker processes (which of the two is up to its scheduler)
    assert all(e["worker"] not in (0, os.getpid()) for e in events if e["event"] == "file")
    _check_outputs(out, refs, complete=True)

    out = tmp_path / "out-killed"
    argv = [sys.executable, "-m", "editor", "batch", "upscale", str(src), "-o", str(out), *opts,
            "--cluster", address, "--json"]
    for attempt, stop_after in enumerate((2, 5)):
        _run_and_kill(argv + (["--resume"] if attempt else []), stop_after, 0.05)
        _check_outputs(out, refs, complete=False)
    assert main([*argv[3:], "--resume"]) == 0
    _check_outputs(out, refs, complete=True)
    assert leftovers(out) == []


def test_cluster_without_the_extra_says_how_to_install_it(tmp_path: Path, monkeypatch, capsys) -> None:
    src = tmp_path / "in"
    make_photos(src, 1)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    rc = main(["batch", "convert", str(src), "-o", str(tmp_path / "o"), "--cluster", "dask://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert rc == 1 and "pip install 'lucid-editor[cluster]'" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()  # refused before anything was written
