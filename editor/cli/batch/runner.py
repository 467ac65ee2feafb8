"""`lucid batch`: plan the files, keep the manifest, run an executor, report; resumable at any point.

Order of safety: the manifest is written before any work starts and after every result (at most once
a second, and always at the end); an output counts as done only once its atomic write has finished,
so a batch killed at any moment is resumed by re-running what the manifest does not call done.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from editor.cli.batch import files
from editor.cli.batch.manifest import MANIFEST_NAME, FileEntry, FileState, Manifest, load_manifest
from editor.cli.batch.tasks import TaskArgs, parse_task
from editor.cli.batch.worker import FileJob, Outcome, WorkerConfig
from editor.core.errors import LucidError

SAVE_EVERY_S = 1.0


@dataclass
class BatchOptions:
    task: str
    in_dir: Path
    out_dir: Path
    task_options: list[str] = field(default_factory=list)
    pattern: str | None = None
    workers: int | None = None
    threads: int | None = None
    resume: bool = False
    on_exists: str = "skip"
    format: str | None = None
    json: bool = False
    cluster: str | None = None


def _suffix(fmt: str | None, task: TaskArgs) -> str | None:
    if fmt:
        return "." + fmt.lower().lstrip(".")
    return task.spec.default_suffix


def open_manifest(opts: BatchOptions, task: TaskArgs) -> Manifest:
    """The manifest to continue (with --resume) or a new one; refuses to mix two different batches."""
    existing = load_manifest(opts.out_dir)
    if existing is None:
        return Manifest(task=task.name, options=list(task.options), input_dir=str(opts.in_dir.resolve()),
                        pattern=opts.pattern, on_exists=opts.on_exists, format=_suffix(opts.format, task))
    if not opts.resume:
        raise LucidError(f"{opts.out_dir} already holds a batch ({existing.task}); pass --resume to "
                         "continue it, or choose another output folder.")
    if (existing.task, existing.options) != (task.name, list(task.options)):
        was = " ".join([existing.task, *existing.options])
        raise LucidError(f"This batch was started as `{was}`; resume it with the same task and options.")
    if opts.format and _suffix(opts.format, task) != existing.format:
        raise LucidError(f"This batch writes {existing.format or 'the inputs’ formats'}; resume it without "
                         "a different --format.")
    if opts.pattern is not None:
        existing.pattern = opts.pattern
    return existing


def plan_files(manifest: Manifest, opts: BatchOptions) -> None:
    """Add new inputs; re-queue changed inputs and done files whose output vanished; apply --on-exists."""
    from editor.infer.download import sha256_file

    taken = {e.output for e in manifest.files.values()}
    for rel in files.scan(opts.in_dir, manifest.pattern, exclude=opts.out_dir):
        src = opts.in_dir / rel
        st = src.stat()
        entry = manifest.files.get(rel)
        if entry is not None:
            if (entry.size, entry.mtime) != (st.st_size, st.st_mtime):
                sha = sha256_file(src)
                if sha != entry.sha256:
                    entry.state, entry.error = FileState.PENDING, None
                entry.size, entry.mtime, entry.sha256 = st.st_size, st.st_mtime, sha
            if entry.state is FileState.DONE and not (opts.out_dir / entry.output).is_file():
                entry.state = FileState.PENDING
            continue
        out = files.output_name(rel, manifest.format)
        state = FileState.PENDING
        if out in taken:  # a.jpg and a.png both → a.png: the later one gets a-1.png
            out = files.renamed(out, taken, opts.out_dir)
        elif (opts.out_dir / out).exists():
            if manifest.on_exists == "skip":
                state = FileState.SKIPPED
            elif manifest.on_exists == "rename":
                out = files.renamed(out, taken, opts.out_dir)
        taken.add(out)
        manifest.files[rel] = FileEntry(output=out, size=st.st_size, mtime=st.st_mtime,
                                        sha256=sha256_file(src), state=state)


def jobs_for(manifest: Manifest, task: TaskArgs, opts: BatchOptions) -> tuple[list[FileJob], list[Outcome]]:
    """Jobs for every file not done; files whose matched mask/trimap is missing fail right away."""
    folders = task.matched_folders()
    jobs, missing = [], []
    for rel, entry in manifest.files.items():
        if entry.state not in (FileState.PENDING, FileState.FAILED):
            continue
        if not (opts.in_dir / rel).is_file():
            continue  # gone from the input folder since the batch started
        matched = {}
        for dest, folder in folders.items():
            found = files.matched_file(Path(folder), rel)
            if found is None:
                missing.append(Outcome(rel, False, f"no --{dest} file named like {rel} in {folder}"))
                break
            matched[dest] = str(found.resolve())
        else:
            out = opts.out_dir / entry.output
            entry.matched = dict(matched)
            jobs.append(FileJob(rel, str((opts.in_dir / rel).resolve()), str(out.resolve()), matched))
    return jobs, missing


def make_executor(opts: BatchOptions, task: TaskArgs, n_files: int):
    """A Dask executor for --cluster, else local processes sized by `plan.plan_workers`."""
    if opts.cluster:
        from editor.cli.batch.cluster import DaskExecutor

        config = WorkerConfig(task.name, task.options, threads=opts.threads or 0)
        return DaskExecutor(opts.cluster, config)
    from editor.cli.batch.executor import LocalExecutor
    from editor.cli.batch.plan import available_memory_mb, machine_cores, plan_workers

    on_device = task.spec.uses_device and hasattr(task.namespace, "device")
    device = "cpu"
    if on_device:
        from editor.infer.device import resolve_device

        device = resolve_device(task.namespace.device)  # "auto" once here, not per worker
    memory = task.spec.memory_mb(task.namespace) if task.spec.memory_mb else None
    plan = plan_workers(files=n_files, cores=machine_cores(), available_mb=available_memory_mb(),
                        memory_mb=memory, device=device, workers=opts.workers, threads=opts.threads)
    config = WorkerConfig(task.name, task.options, plan.threads, device if on_device else None)
    executor = LocalExecutor(config, plan.workers)
    executor.description += f" ({plan.reason})"
    return executor


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (the app's Cancel, a scheduler's stop) ends the batch like Ctrl+C: tidily, resumable."""
    def handler(_sig, _frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_batch(opts: BatchOptions) -> int:
    from editor.cli.batch.progress import BarReporter, JsonReporter, Tally

    if opts.on_exists not in files.ON_EXISTS:
        raise LucidError(f"--on-exists must be one of {', '.join(files.ON_EXISTS)}")
    files.check_folders(opts.in_dir, opts.out_dir)
    task = parse_task(opts.task, opts.task_options)
    manifest = open_manifest(opts, task)
    plan_files(manifest, opts)
    if not manifest.files:
        raise LucidError(f"No input files in {opts.in_dir}"
                         + (f" match {manifest.pattern}" if manifest.pattern else "") + ".")
    jobs, missing = jobs_for(manifest, task, opts)
    # The executor may refuse (cluster unreachable, extra missing) before anything is written.
    executor = make_executor(opts, task, len(jobs)) if jobs else None
    manifest.save(opts.out_dir)
    # a run killed while writing an output or the manifest itself left its temp file beside it
    files.remove_stale_temps(opts.out_dir, [MANIFEST_NAME, *(e.output for e in manifest.files.values())])
    for job in jobs:
        Path(job.output).parent.mkdir(parents=True, exist_ok=True)
    counts = manifest.counts()
    tally = Tally(todo=len(jobs) + len(missing), skipped=counts["skipped"] + counts["done"])
    reporter = JsonReporter() if opts.json else BarReporter()
    last_save = [time.monotonic()]

    def record(outcome: Outcome) -> None:
        entry = manifest.files[outcome.key]
        entry.state = FileState.DONE if outcome.ok else FileState.FAILED
        entry.error = None if outcome.ok else outcome.message
        entry.seconds = round(outcome.seconds, 3)
        tally.add(outcome)
        reporter.file(outcome, tally)
        if time.monotonic() - last_save[0] >= SAVE_EVERY_S:
            manifest.save(opts.out_dir)
            last_save[0] = time.monotonic()

    interrupted = False
    with _sigterm_as_interrupt():
        try:
            reporter.start(tally, len(manifest.files), executor.description if executor else "nothing to run")
            for outcome in missing:
                record(outcome)
            for outcome in executor.run(jobs) if executor else ():
                if outcome.setup_failed:
                    raise LucidError(outcome.message)
                record(outcome)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if executor is not None:
                executor.close(cancel=interrupted or tally.finished < tally.todo)
            manifest.save(opts.out_dir)
    reporter.finish(tally, task.name, interrupted=interrupted)
    if interrupted:
        if not opts.json:
            print(f"run the same command with --resume to continue ({os.fspath(opts.out_dir)})",
                  file=sys.stderr)
        return 130
    return 1 if tally.failed else 0
