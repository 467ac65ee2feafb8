"""Which `lucid` commands can run as batch tasks, and their options parsed exactly as the command does."""

from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass

from editor.cli.batch.spec import FileCommand
from editor.core.errors import LucidError

PLACEHOLDER_IN = "__lucid_batch_input__"
PLACEHOLDER_OUT = "__lucid_batch_output__.png"


def batch_tasks() -> dict[str, FileCommand]:
    """Every command module that declares `BATCH = FileCommand(...)`, by command name."""
    from editor.cli import _command_modules

    found: dict[str, FileCommand] = {}
    for name in _command_modules():
        spec = getattr(importlib.import_module(f"editor.cli.commands.{name}"), "BATCH", None)
        if isinstance(spec, FileCommand):
            found[name.replace("_", "-")] = spec
    return found


@dataclass(frozen=True)
class TaskArgs:
    """A task with its options, parsed once; `for_file` gives the namespace for one file."""

    name: str
    spec: FileCommand
    options: tuple[str, ...]
    namespace: argparse.Namespace

    def for_file(self, input: str, output: str, matched: dict[str, str]) -> argparse.Namespace:
        from pathlib import Path

        ns = argparse.Namespace(**vars(self.namespace))
        setattr(ns, self.spec.input, Path(input))
        setattr(ns, self.spec.output, Path(output))
        for dest, path in matched.items():
            setattr(ns, dest, Path(path))
        return ns

    def matched_folders(self) -> dict[str, str]:
        """Options of the `matched` kind whose value is a folder (each file gets its namesake in it)."""
        from pathlib import Path

        out = {}
        for dest in self.spec.matched:
            value = getattr(self.namespace, dest, None)
            if value is not None and Path(value).is_dir():
                out[dest] = str(value)
        return out


def parse_task(name: str, options: list[str] | tuple[str, ...]) -> TaskArgs:
    """Parse `options` with the command's own parser, so checks and defaults are the command's."""
    from editor.cli import build_parser

    tasks = batch_tasks()
    if name not in tasks:
        raise LucidError(f"'{name}' cannot run as a batch; tasks: {', '.join(sorted(tasks))}")
    spec = tasks[name]
    try:
        namespace = build_parser().parse_args([name, *spec.argv(PLACEHOLDER_IN, PLACEHOLDER_OUT), *options])
    except SystemExit as exc:  # argparse already printed the usage line and the reason (or the help)
        if not exc.code:
            raise
        raise LucidError(f"invalid options for {name}: {' '.join(options) or '(none)'}") from exc
    return TaskArgs(name, spec, tuple(options), namespace)
