"""`lucid warm-caches`: compile PatchMatch's and pymatting's numba kernels into the user cache now, and
measure which CPU runtime (torch or ncnn) upscales faster here."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "warm-caches", help="compile the numba kernels ahead of time and measure the faster CPU upscaling "
                            "runtime (set-up and installer builds run it)")
    parser.add_argument("--only", choices=["inpaint", "matting", "upscale"], action="append",
                        help="warm only this part (repeatable); default: all")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from editor.infer.warm_caches import PARTS, cache_dir, warm_caches

    parts = tuple(args.only) if args.only else PARTS
    folder = cache_dir()
    for part, seconds in warm_caches(parts).items():
        print(f"{part}: ready in {seconds:.1f} s")
    print(f"cache: {folder}")
    return 0
