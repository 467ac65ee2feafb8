"""`lucid batch TASK IN_DIR -o OUT_DIR [task options…] [batch options]`: one command over a folder."""

from __future__ import annotations

import argparse
from pathlib import Path


def _options_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lucid batch TASK IN_DIR", add_help=False)
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder (mirrors IN_DIR's tree)")
    p.add_argument("--pattern", help="which files, e.g. '*.jpg' or '2024/*.tif' (default: every image)")
    p.add_argument("--workers", type=int, help="worker processes (default: from cores, memory and device)")
    p.add_argument("--threads", type=int, help="torch threads per worker (default: cores / workers)")
    p.add_argument("--resume", action="store_true",
                   help="continue the batch in OUT_DIR: skip finished files, retry failed ones")
    p.add_argument("--on-exists", choices=("skip", "overwrite", "rename"), default="skip",
                   help="an output that existed before the batch: keep it (default), overwrite it, "
                   "or write NAME-1.EXT")
    p.add_argument("--format", help="output type: png, jpg, tif, webp (default: the input's; matte: png)")
    p.add_argument("--json", action="store_true", help="progress as JSON lines on stdout, for scripts")
    p.add_argument("--cluster", metavar="dask://HOST:PORT",
                   help="run on a Dask distributed cluster (needs the 'cluster' extra); the folders "
                   "must be visible to the workers at the same paths")
    return p


def _batch_options_help() -> str:
    text = _options_parser().format_help()
    return "batch " + text[text.index("options:"):]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "batch", help="run upscale, convert, inpaint, matte, … over a folder (resumable)",
        description="Run a single-file command over every photo in IN_DIR. Options the batch does not "
        "know go to the task (e.g. --scale 2 for upscale). An option that names a file per photo "
        "(inpaint --mask, matte --trimap/--plate) may name a folder: each photo gets the file with "
        "its name there (any image suffix). Progress is kept in OUT_DIR/.lucid-batch.json.",
        usage="lucid batch TASK IN_DIR -o OUT_DIR [task options…] [batch options]",
        epilog=_batch_options_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", metavar="TASK", help="a single-file command: upscale, convert, inpaint, …")
    parser.add_argument("in_dir", type=Path, metavar="IN_DIR")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from editor.cli.batch.runner import BatchOptions, run_batch

    opts, task_options = _options_parser().parse_known_args(args.rest)
    return run_batch(BatchOptions(
        task=args.task, in_dir=args.in_dir, out_dir=opts.output, task_options=task_options,
        pattern=opts.pattern, workers=opts.workers, threads=opts.threads, resume=opts.resume,
        on_exists=opts.on_exists, format=opts.format, json=opts.json, cluster=opts.cluster))
