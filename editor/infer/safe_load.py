"""The only way Lucid opens weight files: loaders that cannot run code hidden in a file.

- `.safetensors` → safetensors (plain tensors, no pickle at all);
- `.pth/.pt/.ckpt` → `torch.load(weights_only=True)`, torch's allow-list unpickler: a checkpoint that
  names any other Python object (the classic `__reduce__` payload) is refused *before* anything runs;
- architectures → spandrel's registry (never `spandrel_extra_arches`), plus our own architectures in
  `editor.infer.archs`, which register a detector here so every model loads through `load_model`.
"""

from __future__ import annotations

import importlib
import pickle
import pkgutil
import re
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from editor.infer.api import InferenceError, UnsafeModelFile

if TYPE_CHECKING:
    import torch
    from spandrel import ModelDescriptor

StateDict = dict[str, "torch.Tensor"]
_PICKLE_EXTS = {".pth", ".pt", ".ckpt", ".bin"}


def torch_load_checked(path: Path, *, allowed: tuple[type, ...] = ()) -> Any:
    """`torch.load(weights_only=True)` with Lucid's errors: code-carrying pickles become UnsafeModelFile.

    `allowed` adds plain-data classes a known checkpoint format carries (e.g. argparse.Namespace).
    """
    import torch

    try:
        with torch.serialization.safe_globals(list(allowed)):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        if "global" not in text.lower() and "reduce" not in text.lower():  # not code: just not a pickle
            raise InferenceError(
                f"{path.name} is not a readable weights file (damaged or incomplete?).", detail=text
            ) from exc
        found = re.search(r"GLOBAL (\S+) was not an allowed global", text)
        what = f" ({found.group(1)})" if found else ""
        raise UnsafeModelFile(
            f"{path.name} was refused: it contains Python objects{what} that could run code when loaded. "
            "Use a .safetensors version of the model, or one saved as a plain state dict.",
            detail=text,
        ) from exc


def load_state_dict(path: Path | str) -> StateDict:
    """Tensors of a weights file, unwrapped from common checkpoint wrappers, on the CPU."""
    import torch
    from spandrel import canonicalize_state_dict

    path = Path(path)
    if not path.is_file():
        raise InferenceError(f"Model file {path} does not exist.")
    ext = path.suffix.lower()
    try:
        if ext == ".safetensors":
            from safetensors.torch import load_file

            raw: Any = load_file(str(path), device="cpu")
        elif ext in _PICKLE_EXTS:
            raw = torch_load_checked(path)
        else:
            raise InferenceError(
                f"{path.name}: unsupported weights format '{ext}'. Use .safetensors, .pth, .pt or .ckpt."
            )
    except InferenceError:
        raise
    except (RuntimeError, OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InferenceError(
            f"{path.name} is not a readable weights file (damaged or incomplete?).",
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc
    except Exception as exc:  # safetensors raises its own SafetensorError
        raise InferenceError(
            f"{path.name} is not a readable weights file.", detail=f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(raw, dict):
        raise InferenceError(f"{path.name} does not hold a state dict (found {type(raw).__name__}).")
    sd = canonicalize_state_dict(raw)
    tensors = {k: v for k, v in sd.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
    if not tensors:
        raise InferenceError(f"{path.name} contains no weights.")
    return tensors


# --- our own architectures --------------------------------------------------------------------


@dataclass(frozen=True)
class ArchEntry:
    name: str
    detect: Callable[[StateDict], bool]
    build: Callable[[StateDict], Any]  # nn.Module (weights loaded by the descriptor) or a descriptor
    purpose: str = "SR"
    scale: int | Callable[[StateDict], int] = 1
    input_channels: int = 3
    output_channels: int = 3
    supports_half: bool = False
    multiple_of: int = 1
    task: str | None = None  # Lucid's task, where spandrel's purposes have no word for it ("salient")


_ARCHS: dict[str, ArchEntry] = {}
_archs_imported = False
_lock = threading.Lock()


def register_arch(
    name: str,
    detect: Callable[[StateDict], bool],
    build: Callable[[StateDict], Any],
    *,
    purpose: str = "SR",
    scale: int | Callable[[StateDict], int] = 1,
    input_channels: int = 3,
    output_channels: int = 3,
    supports_half: bool = False,
    multiple_of: int = 1,
    task: str | None = None,
) -> None:
    """Teach `load_model` an architecture spandrel lacks (call at import of `editor.infer.archs.X`).

    `detect(state_dict)` says whether the keys/shapes are this architecture; `build(state_dict)`
    returns an `nn.Module` with matching hyperparameters (the descriptor loads the weights strictly)
    or a ready spandrel descriptor. `purpose` is a spandrel purpose ("SR", "Restoration", ...);
    `task` is Lucid's task for a file of it imported without a manifest, where no purpose fits.
    """
    _ARCHS[name] = ArchEntry(
        name, detect, build, purpose, scale, input_channels, output_channels, supports_half, multiple_of, task
    )


def arch_task(name: str) -> str | None:
    """Lucid's task for one of our own architectures, if it named one (`register_arch(task=...)`)."""
    _import_archs()
    entry = _ARCHS.get(name)
    return entry.task if entry is not None else None


def registered_archs() -> list[str]:
    _import_archs()
    return list(_ARCHS)


def _import_archs() -> None:
    """Import every module of `editor.infer.archs` once so their `register_arch` calls run."""
    global _archs_imported
    with _lock:
        if _archs_imported:
            return
        import editor.infer.archs as archs

        for m in pkgutil.iter_modules(archs.__path__):
            if not m.name.startswith("_"):
                importlib.import_module(f"editor.infer.archs.{m.name}")
        _archs_imported = True


def _describe(entry: ArchEntry, sd: StateDict) -> ModelDescriptor:
    from spandrel import Architecture, ImageModelDescriptor, ModelBase, SizeRequirements

    built = entry.build(sd)
    if isinstance(built, ModelBase):
        return built

    class _Own(Architecture):  # spandrel wants an Architecture object on every descriptor
        def load(self, state_dict: StateDict) -> ImageModelDescriptor:  # pragma: no cover - unused
            raise NotImplementedError

    scale = entry.scale(sd) if callable(entry.scale) else entry.scale
    return ImageModelDescriptor(
        built,
        sd,
        architecture=_Own(id=entry.name, detect=entry.detect),
        purpose=entry.purpose,  # type: ignore[arg-type]
        tags=[],
        supports_half=entry.supports_half,
        supports_bfloat16=False,
        scale=scale,
        input_channels=entry.input_channels,
        output_channels=entry.output_channels,
        size_requirements=SizeRequirements(multiple_of=entry.multiple_of),
    )


def load_model(path: Path | str) -> ModelDescriptor:
    """A model descriptor for a weights file, on the CPU in eval mode.

    The state dict is read by `load_state_dict` (safe), then our own architectures get the first
    look, then spandrel's main registry (which excludes `spandrel_extra_arches`).
    """
    from spandrel import ModelLoader, UnsupportedModelError

    path = Path(path)
    sd = load_state_dict(path)
    _import_archs()
    try:
        for entry in _ARCHS.values():
            if entry.detect(sd):
                return _describe(entry, sd).eval()
        return ModelLoader(device="cpu").load_from_state_dict(sd).eval()
    except UnsupportedModelError as exc:
        raise InferenceError(
            f"{path.name}: the model architecture is not supported.", detail=str(exc)
        ) from exc
    except (RuntimeError, KeyError, ValueError, AssertionError) as exc:
        raise InferenceError(
            f"{path.name}: the weights do not fit the detected architecture.",
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc
