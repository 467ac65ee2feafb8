"""The one list of Lucid's plug-in modules: AI panels, inference tasks and model converters.

Why a list and not discovery: these modules are imported by name from strings, which PyInstaller's
analysis cannot follow, and `pkgutil` in a frozen build only finds what the spec happened to collect —
an installer could ship without a tool and nobody would notice. With one explicit registry, the app
imports exactly these, the spec bundles exactly these (`all_modules()`), the dry run and the test suite
check that the registry and the source tree agree, and a registered module that is missing at run
time is an error, never a silently absent tool.

A leaf module (stdlib only), so core, infer, ui, the CLI, the spec and the self-test can all read it.
"""

from __future__ import annotations

from dataclasses import dataclass

TASKS_PACKAGE = "editor.infer.tasks"
CONVERTERS_PACKAGE = "editor.infer.convert"


@dataclass(frozen=True)
class PanelEntry:
    """A tool panel in the AI dock: its tab title and `module:Class`."""

    title: str
    spec: str

    @property
    def module(self) -> str:
        return self.spec.partition(":")[0]

    @property
    def class_name(self) -> str:
        return self.spec.partition(":")[2]


# In dock order; the first is built with the window, the others just after it is shown.
PANELS: tuple[PanelEntry, ...] = (
    PanelEntry("Inpaint", "editor.ui.ai.inpaint_panel:InpaintPanel"),
    PanelEntry("Matte", "editor.ui.ai.matte_panel:MattePanel"),
    PanelEntry("Obstruction", "editor.ui.ai.obstruction_panel:ObstructionPanel"),
    PanelEntry("Latent Edit", "editor.ui.ai.latent_panel:LatentPanel"),
)

# Task NAME is the function `run` in `editor.infer.tasks.NAME`.
TASKS: tuple[str, ...] = (
    "cutout", "faces", "inpaint", "latent", "matting", "obstruction", "refine", "salient", "segment",
    "superres",
)

# A manifest's `[convert] kind = "NAME"` is the function `convert` in `editor.infer.convert.NAME`.
CONVERTERS: tuple[str, ...] = ("ncnn", "onnx", "tflite", "torchscript")


def task_module(name: str) -> str:
    return f"{TASKS_PACKAGE}.{name}"


def converter_module(kind: str) -> str:
    return f"{CONVERTERS_PACKAGE}.{kind}"


def all_modules() -> list[str]:
    """Every module the registry names (what an installer must contain)."""
    return ([p.module for p in PANELS] + [task_module(t) for t in TASKS]
            + [converter_module(c) for c in CONVERTERS])
