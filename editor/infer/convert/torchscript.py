"""TorchScript archive (`torch.jit.save`) → safetensors, read as data: nothing in the archive runs.

Why: the official LaMa weights (`big-lama.pt`, the file IOPaint and spandrel use) exist only as a
TorchScript archive. `torch.jit.load` would compile and run the archive's code, and
`torch.load(weights_only=True)` cannot read it, so we read the zip ourselves:

- the zip is checked first (member names must stay inside it, sizes are bounded);
- `<archive>/data.pkl` (the module tree) is unpickled by a restricted unpickler: `__torch__.*` classes
  become inert `ScriptObject` records of their attribute dicts, only the tensor-rebuild functions,
  storage types, `OrderedDict` and TorchScript's list builders are allowed, and every other global is
  refused before anything is called; REDUCE/NEWOBJ/BUILD only ever reach our own objects;
- storages come from `<archive>/data/<key>` as little-endian bytes of the storage type's dtype;
- which tensor attributes are parameters or buffers is read from the class declarations
  (`__parameters__ = [...]`, `__buffers__ = [...]`) in `<archive>/code/…` as text, so the flattened
  names equal `torch.jit.load(path).state_dict()`.

`[convert] layout = "lama"` then renames the tensors to the layout spandrel's LaMa detector loads.
"""

from __future__ import annotations

import ast
import io
import pickle
import re
import sys
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from editor.core.zipguard import unsafe_member_names
from editor.infer.api import InferenceError, UnsafeModelFile

if TYPE_CHECKING:
    import torch

# Bounds on what we read: big-lama.pt is 206 MB with a ~0.3 MB data.pkl and ~1000 storages.
MAX_MEMBERS = 200_000
MAX_TOTAL_BYTES = 16 << 30
MAX_PICKLE_BYTES = 256 << 20
MAX_CODE_BYTES = 64 << 20
MAX_DEPTH = 200  # module nesting; real networks are ~10 deep


class TorchScriptError(InferenceError):
    """The file is not a TorchScript archive we can read (damaged, or a layout we do not know)."""


# --- the zip ------------------------------------------------------------------------------------


class Archive:
    """A checked TorchScript zip: every member name stays inside it, sizes are bounded."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.zf = zipfile.ZipFile(self.path)
        except (OSError, zipfile.BadZipFile) as exc:
            raise TorchScriptError(
                f"{self.path.name} is not a TorchScript archive (not a zip file).", detail=str(exc)
            ) from exc
        try:
            self._check()
        except BaseException:
            self.zf.close()
            raise

    def _check(self) -> None:
        infos = self.zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise TorchScriptError(f"{self.path.name} has too many members ({len(infos)}).")
        bad = unsafe_member_names(i.filename for i in infos)
        if bad:
            raise UnsafeModelFile(
                f"{self.path.name} was refused: it holds paths that point outside the archive.",
                detail=", ".join(repr(b) for b in bad[:5]),
            )
        if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
            raise TorchScriptError(f"{self.path.name} is too large to convert.")
        self.names = {i.filename: i for i in infos}
        pickles = [n for n in self.names if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise TorchScriptError(
                f"{self.path.name} is not a TorchScript archive (no single <archive>/data.pkl)."
            )
        self.prefix = pickles[0][: -len("data.pkl")]  # "<archive>/"
        order = self.names.get(self.prefix + "byteorder")
        if sys.byteorder != "little" or (
            order is not None and self.read(self.prefix + "byteorder", 16).strip() != b"little"
        ):
            raise TorchScriptError(f"{self.path.name} stores big-endian tensors, which are not supported.")

    def read(self, name: str, limit: int) -> bytes:
        info = self.names.get(name)
        if info is None:
            raise TorchScriptError(f"{self.path.name} is incomplete: {name} is missing.")
        if info.file_size > limit:
            raise TorchScriptError(f"{self.path.name}: {name} is too large ({info.file_size} bytes).")
        try:
            with self.zf.open(info) as fh:
                data = fh.read(limit + 1)
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:  # bad CRC, truncated, …
            raise TorchScriptError(f"{self.path.name}: {name} is damaged.", detail=str(exc)) from exc
        if len(data) > limit:
            raise TorchScriptError(f"{self.path.name}: {name} is larger than it says.")
        return data

    def close(self) -> None:
        self.zf.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- the inert objects the unpickler may produce -------------------------------------------------


class ScriptObject:
    """A TorchScript object (module) as plain data: its class name and its `__setstate__` state."""

    qualname = "?"

    def __new__(cls, *_args: Any) -> ScriptObject:  # NEWOBJ passes the (empty) argument tuple
        obj = object.__new__(cls)
        obj.state = None
        return obj

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<ScriptObject {self.qualname}>"


class _Call:
    """An allowed global: calling it runs our own function, and it refuses attribute changes."""

    __slots__ = ("fn", "name")

    def __init__(self, name: str, fn: Callable[..., Any]) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "fn", fn)

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)

    def __setattr__(self, _key: str, _value: Any) -> None:
        raise pickle.UnpicklingError(f"{self.name} cannot be modified")


class _StorageType:
    """`torch.FloatStorage` and friends: only the dtype matters to us."""

    __slots__ = ("dtype", "name")

    def __init__(self, name: str, dtype: str) -> None:
        self.name, self.dtype = name, dtype


_STORAGE_DTYPES = {  # storage class → torch dtype name (itemsize follows)
    "FloatStorage": "float32",
    "DoubleStorage": "float64",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
}


def _rebuild_tensor_v2(
    storage: Any, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_rest: Any
) -> torch.Tensor:
    import torch

    if not isinstance(storage, torch.Tensor) or storage.dim() != 1:
        raise pickle.UnpicklingError("tensor without a storage")
    ints = [offset, *size, *stride]
    if not all(type(v) is int and v >= 0 for v in ints) or len(size) != len(stride):
        raise pickle.UnpicklingError("malformed tensor shape")
    if all(size):
        last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
        if last >= storage.numel():
            raise pickle.UnpicklingError("tensor reaches past the end of its storage")
    return storage.as_strided(size, stride, offset)


def _rebuild_parameter(data: Any, _requires_grad: Any = None, _hooks: Any = None) -> Any:
    return data


def _first(value: Any, *_rest: Any) -> Any:
    return value


_ALLOWED: dict[tuple[str, str], Any] = {
    ("torch._utils", "_rebuild_tensor_v2"): _Call("_rebuild_tensor_v2", _rebuild_tensor_v2),
    ("torch._utils", "_rebuild_parameter"): _Call("_rebuild_parameter", _rebuild_parameter),
    ("collections", "OrderedDict"): OrderedDict,
    # TorchScript's typed-container helpers are identities on plain data.
    **{("torch.jit._pickle", n): _Call(n, _first) for n in (
        "build_intlist", "build_doublelist", "build_boollist", "build_tensorlist", "restore_type_tag"
    )},
    **{("torch", n): _StorageType(n, d) for n, d in _STORAGE_DTYPES.items()},
}

_script_classes: dict[str, type[ScriptObject]] = {}


def _script_class(qualname: str) -> type[ScriptObject]:
    cls = _script_classes.get(qualname)
    if cls is None:
        cls = type("ScriptObject", (ScriptObject,), {"qualname": qualname, "__slots__": ()})
        _script_classes[qualname] = cls
    return cls


class _Unpickler(pickle._Unpickler):  # the Python unpickler: its opcode table can be restricted
    def __init__(self, data: bytes, archive: Archive) -> None:
        super().__init__(io.BytesIO(data))
        self.archive = archive
        self.storages: dict[str, torch.Tensor] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module == "__torch__" or module.startswith("__torch__."):
            return _script_class(f"{module}.{name}")
        found = _ALLOWED.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"GLOBAL {module}.{name} was not an allowed global")
        return found

    def persistent_load(self, pid: Any) -> torch.Tensor:
        import torch

        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r:.80}")
        _, kind, key, _location, numel = pid
        if not isinstance(kind, _StorageType) or not isinstance(key, str) or type(numel) is not int:
            raise pickle.UnpicklingError("malformed storage record")
        cached = self.storages.get(key)
        if cached is not None:
            return cached
        dtype = getattr(torch, kind.dtype)
        itemsize = torch.empty((), dtype=dtype).element_size()
        nbytes = numel * itemsize
        if numel < 0:
            raise pickle.UnpicklingError(f"storage {key} has a negative size")
        raw = self.archive.read(f"{self.archive.prefix}data/{key}", nbytes)
        if len(raw) != nbytes:
            raise pickle.UnpicklingError(f"storage {key} has {len(raw)} bytes, expected {nbytes}")
        # Archives are little-endian, like every machine Lucid runs on (checked in Archive).
        flat = torch.frombuffer(bytearray(raw), dtype=dtype) if nbytes else torch.empty(0, dtype=dtype)
        self.storages[key] = flat
        return flat

    def _load_reduce(self) -> None:
        args = self.stack.pop()
        func = self.stack[-1]
        if not (isinstance(func, _Call) or func is OrderedDict) or not isinstance(args, tuple):
            raise pickle.UnpicklingError(f"REDUCE on {type(func).__name__} is not allowed")
        self.stack[-1] = func(*args)

    def _load_newobj(self) -> None:
        args = self.stack.pop()
        cls = self.stack.pop()
        if not (isinstance(cls, type) and issubclass(cls, ScriptObject)) or args != ():
            what = getattr(cls, "__name__", type(cls).__name__)
            raise pickle.UnpicklingError(f"NEWOBJ of {what} is not allowed")
        self.append(cls.__new__(cls))

    def _load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if not isinstance(inst, ScriptObject):
            raise pickle.UnpicklingError(f"BUILD on {type(inst).__name__} is not allowed")
        inst.__setstate__(state)

    def _refuse(self) -> None:
        raise pickle.UnpicklingError("this pickle opcode is not allowed in a TorchScript archive")

    dispatch: ClassVar[dict[int, Callable[..., None]]] = dict(pickle._Unpickler.dispatch)
    dispatch[pickle.REDUCE[0]] = _load_reduce
    dispatch[pickle.NEWOBJ[0]] = _load_newobj
    dispatch[pickle.BUILD[0]] = _load_build
    for _op in (pickle.NEWOBJ_EX, pickle.OBJ, pickle.INST):
        dispatch[_op[0]] = _refuse
    del _op


def read_module_tree(archive: Archive) -> ScriptObject:
    """The archive's top-level module as `ScriptObject`s holding tensors (nothing is executed)."""
    data = archive.read(archive.prefix + "data.pkl", MAX_PICKLE_BYTES)
    try:
        root = _Unpickler(data, archive).load()
    except pickle.UnpicklingError as exc:
        text = str(exc)
        found = re.search(r"GLOBAL (\S+) was not an allowed global", text)
        if found or "not allowed" in text:
            what = f" ({found.group(1)})" if found else ""
            raise UnsafeModelFile(
                f"{archive.path.name} was refused: it names Python objects{what} that could run code "
                "when loaded. Only plain TorchScript weights can be converted.",
                detail=text,
            ) from exc
        raise TorchScriptError(f"{archive.path.name}: the TorchScript data is damaged.", detail=text) from exc
    except (EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError, RuntimeError) as exc:
        raise TorchScriptError(
            f"{archive.path.name}: the TorchScript data is damaged.", detail=f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(root, ScriptObject) or not isinstance(root.state, dict):
        raise TorchScriptError(f"{archive.path.name} does not hold a TorchScript module.")
    return root


# --- parameters and buffers, from the class declarations ---------------------------------------

_DECL_RE = re.compile(r"^\s+(__parameters__|__buffers__)\s*=\s*(\[.*\])\s*$")


class _Declarations:
    """`__parameters__`/`__buffers__` of each TorchScript class, read from `code/` as text."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.files: dict[str, dict[str, dict[str, list[str]]]] = {}

    def _parse(self, module: str) -> dict[str, dict[str, list[str]]]:
        if module in self.files:
            return self.files[module]
        name = f"{self.archive.prefix}code/{module.replace('.', '/')}.py"
        classes: dict[str, dict[str, list[str]]] = {}
        if name in self.archive.names:
            text = self.archive.read(name, MAX_CODE_BYTES).decode("utf-8", "replace")
            current: dict[str, list[str]] | None = None
            for line in text.splitlines():
                head = re.match(r"^class (\w+)\(", line)
                if head:
                    current = classes.setdefault(head.group(1), {})
                    continue
                if line and not line[0].isspace():
                    current = None
                found = _DECL_RE.match(line)
                if found and current is not None:
                    names = ast.literal_eval(found.group(2))  # a literal list of names, never code
                    if isinstance(names, list) and all(isinstance(n, str) for n in names):
                        current[found.group(1)] = names
        self.files[module] = classes
        return classes

    def state_names(self, qualname: str) -> list[str] | None:
        """Parameter then buffer names of a class, or None when its declaration is not found."""
        module, _, cls = qualname.rpartition(".")
        decl = self._parse(module).get(cls)
        if decl is None or "__parameters__" not in decl:
            return None
        return decl["__parameters__"] + decl.get("__buffers__", [])


def _flatten(
    obj: ScriptObject, decls: _Declarations, prefix: str = "", seen: frozenset[int] = frozenset()
) -> Iterator[tuple[str, torch.Tensor]]:
    """(dotted name, tensor) in `state_dict()` order: own parameters, buffers, then submodules."""
    import torch

    if id(obj) in seen or len(seen) > MAX_DEPTH:
        raise TorchScriptError("The TorchScript module tree is cyclic or too deep.")
    attrs = obj.state if isinstance(obj.state, dict) else {}
    declared = decls.state_names(obj.qualname)
    # Without a declaration (older archives), every tensor attribute counts, as tracing makes them.
    names = declared if declared is not None else [k for k, v in attrs.items() if isinstance(v, torch.Tensor)]
    for name in names:
        value = attrs.get(name)
        if isinstance(value, torch.Tensor):
            yield prefix + name, value
    for name, value in attrs.items():
        if isinstance(value, ScriptObject):
            yield from _flatten(value, decls, f"{prefix}{name}.", seen | {id(obj)})


def read_state_dict(path: Path | str) -> dict[str, torch.Tensor]:
    """The tensors of a TorchScript archive, named as `torch.jit.load(path).state_dict()` names them.

    Each tensor is contiguous, on the CPU, and owns its memory (shared or partial storages are
    copied, so safetensors can write them). Nothing in the archive is compiled or run.
    """
    import torch

    with Archive(Path(path)) as archive:
        root = read_module_tree(archive)
        decls = _Declarations(archive)
        out: dict[str, torch.Tensor] = {}
        owners: set[int] = set()
        for name, tensor in _flatten(root, decls):
            base = tensor.untyped_storage().data_ptr()
            whole = tensor.is_contiguous() and tensor.untyped_storage().nbytes() == tensor.nbytes
            if whole and base not in owners:  # the usual case: one tensor per storage, no copy needed
                owners.add(base)
                out[name] = tensor
            else:
                out[name] = tensor.clone(memory_format=torch.contiguous_format)
    if not out:
        raise TorchScriptError(f"{Path(path).name} holds no weights.")
    return out


# --- layouts ------------------------------------------------------------------------------------

_LAMA_ANCHOR = "model.1.bn_l.running_mean"


def lama_layout(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Keep the LaMa generator's tensors and name them `model.model.*`, as spandrel's LaMa loads.

    The generator (`FFCResNetGenerator`, whose layers are `model.N.*`) may sit under any prefix:
    `model.generator.` (lama's `to_jit.py` wraps the training module), `generator.` (a training
    checkpoint), `model.` (spandrel's own layout) or none. Other tensors (discriminator, losses) go.
    """
    prefixes = {k[: -len(_LAMA_ANCHOR)] for k in sd if k.endswith(_LAMA_ANCHOR)}
    if len(prefixes) != 1:
        why = "no LaMa generator" if not prefixes else f"several generators ({', '.join(sorted(prefixes))})"
        raise TorchScriptError(f"The archive's weights are not a LaMa model: {why} found.")
    head = prefixes.pop() + "model."
    out = {"model.model." + k[len(head):]: v for k, v in sd.items() if k.startswith(head)}
    from spandrel.architectures.LaMa import LaMaArch

    if not LaMaArch().detect(out):
        raise TorchScriptError("The converted weights are not recognised as LaMa.")
    return out


_LAYOUTS: dict[str, Callable[[Mapping[str, torch.Tensor]], dict[str, torch.Tensor]]] = {
    "lama": lama_layout,
    "as-is": dict,
}


def _field(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def convert(manifest: Any, files: Mapping[str, Path], out_dir: Path) -> Path:
    """Store hook (`[convert] kind = "torchscript"`, optional `layout = "lama"`): archive → safetensors.

    Written to a temporary name and renamed, so an interrupted conversion never leaves a half file.
    """
    from safetensors.torch import save_file

    if len(files) != 1:
        raise TorchScriptError(f"TorchScript conversion needs exactly one file, got {sorted(files)}.")
    (name, src), = files.items()
    conv = _field(manifest, "convert") or {}
    layout = str((_field(conv, "options") or {}).get("layout", "as-is"))
    if layout not in _LAYOUTS:
        raise TorchScriptError(f"Unknown TorchScript layout '{layout}' (known: {', '.join(_LAYOUTS)}).")
    state = _LAYOUTS[layout](read_state_dict(src))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / (_field(conv, "output") or f"{_field(manifest, 'id')}.safetensors")
    tmp = target.with_name(target.name + ".part")
    save_file(state, str(tmp), metadata={"converted_from": "torchscript", "layout": layout, "source": name})
    tmp.replace(target)
    return target
