"""How a single-file command offers itself to `lucid batch`: one `BATCH = FileCommand(...)` in its module.

Why a declaration instead of a list in the batch code: a command added later (`lucid edit --preset`)
becomes a batch task by declaring how its one-file function is called, with no change here.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class FileCommand:
    """A headless command that turns one input file into one output file.

    `process(args)` does the whole job for the file named by `args.<input>` and writes `args.<output>`
    (atomically, through `editor.io.export`); it returns the one-line message the command prints.
    The single-file command and every batch worker call this same function.
    """

    process: Callable[[argparse.Namespace], str]
    input: str = "image"  # dest of the input positional
    output: str = "output"  # dest of the output option/positional
    output_flag: str | None = "-o"  # None: the output is the second positional (as in `convert IN OUT`)
    # Options that may name a folder: each file then gets the file of the same relative name (any suffix)
    matched: tuple[str, ...] = ()
    # Loads what every file needs (a model) once per worker process, before the first file.
    warm_up: Callable[[argparse.Namespace], None] | None = None
    # Working memory one worker needs in MB (a model manifest's memory_mb), for choosing worker counts.
    memory_mb: Callable[[argparse.Namespace], int | None] | None = None
    # Whether the work runs on args.device (a GPU) when there is one.
    uses_device: bool = False
    default_suffix: str | None = None  # output suffix when --format is not given (else the input's)

    def argv(self, input: str, output: str) -> list[str]:
        """The command-line words that name one input and one output for this command."""
        return [input, self.output_flag, output] if self.output_flag else [input, output]
