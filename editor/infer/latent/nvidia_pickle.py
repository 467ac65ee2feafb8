"""Read NVIDIA's network pickles (stylegan2-ada-pytorch, stylegan3) without running the code in them.

Why: those `.pkl` files carry the Python source of the networks. Each network object pickles as
`torch_utils.persistence._reconstruct_persistent_obj(meta)`, where `meta["module_src"]` is source code
that the real hook `exec`s. Here `find_class` hands back only:
- inert placeholders for `torch_utils.*`, `dnnlib.*`, `training.*` and the persistence hooks, which
  just keep their arguments (so `meta["state"]`, the module's `__dict__`, can be walked for tensors);
- real callables from a short allow-list (torch's tensor/parameter rebuild functions, OrderedDict,
  numpy's array/scalar reconstruction), with `torch.storage._load_from_bytes` replaced by a version that
  reads the storage bytes with `torch.load(weights_only=True)`.
Anything else (`os.system`, `builtins.eval`, …) is refused before it is called.
"""

from __future__ import annotations

import collections
import io
import pickle
from pathlib import Path
from typing import Any

from editor.infer.api import InferenceError, UnsafeModelFile

_INERT_ROOTS = ("torch_utils", "dnnlib", "training", "metrics")


class Inert:
    """A stand-in for any class or function the pickle names from NVIDIA's code: stores, never runs."""

    _lucid_name = "?"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __setitem__(self, key: Any, value: Any) -> None:  # dict subclasses (dnnlib.EasyDict) pickle items
        self.__dict__.setdefault("items", {})[key] = value

    def append(self, value: Any) -> None:  # list subclasses pickle APPENDS
        self.__dict__.setdefault("list", []).append(value)

    def extend(self, values: Any) -> None:
        for v in values:
            self.append(v)

    def __call__(self, *args: Any, **kwargs: Any) -> Inert:  # a placeholder function "called" by REDUCE
        return type(self)(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<inert {self._lucid_name}>"


class PersistentObject(Inert):
    """What `_reconstruct_persistent_obj(meta)` would have built: its meta (class name, source, state)."""

    @property
    def meta(self) -> dict[str, Any]:
        return self.args[0] if self.args and isinstance(self.args[0], dict) else {}

    @property
    def class_name(self) -> str:
        return str(self.meta.get("class_name", "?"))


def _inert_class(module: str, name: str) -> type:
    if name.startswith("_reconstruct_persistent_obj"):
        return type("PersistentObject", (PersistentObject,), {"_lucid_name": f"{module}.{name}"})
    return type(name, (Inert,), {"_lucid_name": f"{module}.{name}"})


def _load_storage_bytes(data: bytes) -> Any:
    import torch

    return torch.load(io.BytesIO(data), weights_only=True)


def _allowed() -> dict[tuple[str, str], Any]:
    import numpy as np
    import torch

    allowed: dict[tuple[str, str], Any] = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
        ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): torch._utils._rebuild_parameter_with_state,
        ("torch.storage", "_load_from_bytes"): _load_storage_bytes,
        ("torch", "Size"): torch.Size,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "slice"): slice,
        ("builtins", "complex"): complex,
        ("numpy", "dtype"): np.dtype,
        ("numpy", "ndarray"): np.ndarray,
    }
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray  # type: ignore[no-redef]
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(mod, "_reconstruct")] = multiarray._reconstruct
        allowed[(mod, "scalar")] = multiarray.scalar
    for name in ("float16", "float32", "float64", "bfloat16", "int64", "int32", "uint8", "bool"):
        allowed[("torch", name)] = getattr(torch, name)
    return allowed


class SafeNetworkUnpickler(pickle.Unpickler):
    def __init__(self, file: Any) -> None:
        super().__init__(file)
        self._allowed = _allowed()
        self._inert: dict[tuple[str, str], type] = {}

    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        if key in self._allowed:
            return self._allowed[key]
        if module.split(".")[0] in _INERT_ROOTS:
            if key not in self._inert:
                self._inert[key] = _inert_class(module, name)
            return self._inert[key]
        raise UnsafeModelFile(
            f"This network pickle names {module}.{name}, which could run code; it was refused. "
            "Convert the model to .safetensors, or to a plain state dict, on a machine you trust.",
            detail=f"GLOBAL {module}.{name}",
        )

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("network pickles do not use persistent ids")


def read_network_pickle(path: Path | str) -> dict[str, Any]:
    """The top-level dict of an NVIDIA network pickle, with networks as `PersistentObject`s."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = SafeNetworkUnpickler(f).load()
    except (UnsafeModelFile, InferenceError):
        raise
    except Exception as exc:  # damaged file: a person-readable message, details kept
        raise InferenceError(
            f"{path.name} is not a readable network pickle.", detail=f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(data, dict):
        raise InferenceError(f"{path.name} does not hold NVIDIA networks (found {type(data).__name__}).")
    return data


def module_tensors(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten a pickled module tree into `name → tensor` (parameters and buffers), like `state_dict()`."""
    import torch

    state = obj.meta.get("state") if isinstance(obj, PersistentObject) else getattr(obj, "state", None)
    if not isinstance(state, dict):
        return {}
    out: dict[str, Any] = {}
    for group in ("_parameters", "_buffers"):
        for name, t in (state.get(group) or {}).items():
            if isinstance(t, torch.Tensor):
                out[prefix + name] = t.detach()
    for name, child in (state.get("_modules") or {}).items():
        if child is not None:
            out.update(module_tensors(child, f"{prefix}{name}."))
    return out


def init_kwargs(obj: Any) -> dict[str, Any]:
    state = obj.meta.get("state") if isinstance(obj, PersistentObject) else None
    kw = state.get("init_kwargs") if isinstance(state, dict) else None
    if isinstance(kw, Inert):  # dnnlib.EasyDict pickles as a dict subclass: its items come by SETITEMS
        kw = getattr(kw, "items", {})
    return dict(kw) if isinstance(kw, dict) else {}
