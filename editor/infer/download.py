"""Resumable, verified downloads with plain urllib (no extra dependency).

Bytes go to `<dest>.part`; an interrupted download resumes from there with an HTTP Range request.
Only a file whose sha256 matches is renamed into place (atomically), so a half or wrong file is
never mistaken for an installed model. Proxies come from the environment (HTTP(S)_PROXY, NO_PROXY)
through urllib's ProxyHandler, built explicitly so that stays true whatever opener is installed.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from editor.core.atomic import atomic_replace
from editor.infer.api import CancelToken, InferenceError

ByteProgress = Callable[[int, int | None], None]
CHUNK = 1 << 16
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class OfflineError(InferenceError):
    """The server could not be reached (no network, DNS failure, refused). A normal state, not a bug."""


class DownloadError(InferenceError):
    """The server answered but the download did not succeed (HTTP error, interrupted, wrong size)."""


class ChecksumError(DownloadError):
    """The downloaded bytes are not the published file; they were deleted."""


def _no_bytes(_done: int, _total: int | None) -> None:
    pass


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def sha256_file(path: Path, cancel: CancelToken | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            if cancel is not None:
                cancel.check()
            h.update(chunk)
    return h.hexdigest()


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler(urllib.request.getproxies()))


def _host(url: str) -> str:
    return urllib.request.urlparse(url).netloc or url


def _offline(url: str, reason: object) -> OfflineError:
    return OfflineError(
        f"Could not reach {_host(url)} — you seem to be offline. Try again when connected, or use "
        "Import file… with a copy of the file.",
        detail=f"{url}: {reason}",
    )


def _is_network_failure(reason: object) -> bool:
    # DNS failure, refused, unreachable, timeout: all OSErrors. A TLS failure is not "offline".
    return isinstance(reason, OSError) and not isinstance(reason, ssl.SSLError)


def _fetch_once(
    url: str,
    part: Path,
    *,
    size: int | None,
    progress: ByteProgress,
    cancel: CancelToken | None,
    timeout: float,
) -> None:
    """One HTTP request appending to `part` from its current length. Raises on a short body."""
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have >= size and have > 0:
        return  # complete already (e.g. the connection dropped right after the last byte)
    req = urllib.request.Request(url, headers={"User-Agent": "Lucid", "Accept-Encoding": "identity"})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        resp = _opener().open(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # our range starts at/after the end: restart cleanly
            part.unlink(missing_ok=True)
            raise DownloadError(f"The server refused to resume {part.name}; starting over.") from exc
        raise DownloadError(
            f"Download failed: the server answered {exc.code} {exc.reason} for {url}", detail=str(exc)
        ) from exc
    except urllib.error.URLError as exc:
        if _is_network_failure(exc.reason):
            raise _offline(url, exc.reason) from exc
        raise DownloadError(f"Download failed: {exc.reason}", detail=url) from exc
    except (TimeoutError, ConnectionError) as exc:
        raise _offline(url, exc) from exc
    with resp:
        start = 0
        if resp.status == 206:
            m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
            if not m or int(m.group(1)) != have:
                raise DownloadError(
                    f"The server sent an unexpected range for {url}.",
                    detail=resp.headers.get("Content-Range"),
                )
            start = have
        # A 200 answer to a Range request means "here is the whole file": start from zero.
        length = resp.headers.get("Content-Length")
        expected = int(length) if length is not None else None
        total = (start + expected) if expected is not None else size
        got = 0
        with open(part, "r+b" if start else "wb") as out:
            out.seek(start)
            out.truncate()
            progress(start, total)
            while True:
                if cancel is not None:
                    cancel.check()
                try:
                    chunk = resp.read(CHUNK)
                except (http.client.IncompleteRead, ConnectionError, TimeoutError) as exc:
                    raise DownloadError(
                        f"The connection dropped while downloading {part.name[:-5]}.", detail=str(exc)
                    ) from exc
                if not chunk:
                    break
                out.write(chunk)
                got += len(chunk)
                progress(start + got, total)
        if expected is not None and got < expected:
            raise DownloadError(
                f"The connection dropped while downloading {part.name[:-5]}.",
                detail=f"got {got} of {expected} bytes",
            )


def read_url(url: str, *, limit: int = 8 << 20, timeout: float = 30.0) -> bytes:
    """A small document (an index page) in memory, at most `limit` bytes; errors as for downloads."""
    req = urllib.request.Request(url, headers={"User-Agent": "Lucid"})
    try:
        with _opener().open(req, timeout=timeout) as resp:
            body = resp.read(limit + 1)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"The server answered {exc.code} {exc.reason} for {url}",
                            detail=str(exc)) from exc
    except urllib.error.URLError as exc:
        if _is_network_failure(exc.reason):
            raise _offline(url, exc.reason) from exc
        raise DownloadError(f"Could not read {url}: {exc.reason}") from exc
    except (TimeoutError, ConnectionError) as exc:
        raise _offline(url, exc) from exc
    if len(body) > limit:
        raise DownloadError(f"{url} is larger than {limit >> 20} MB; not a package index page.")
    return body


def download(
    url: str,
    dest: Path,
    *,
    sha256: str,
    size: int | None = None,
    progress: ByteProgress = _no_bytes,
    cancel: CancelToken | None = None,
    timeout: float = 30.0,
    retries: int = 3,
) -> Path:
    """Fetch `url` to `dest`, resuming `dest.part` if present; verify sha256; rename atomically.

    Interrupted transfers are retried `retries` times (each resuming where it stopped); if they
    still fail, `.part` stays for a later call to resume. A checksum mismatch deletes `.part`.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    attempt = 0
    while True:
        try:
            _fetch_once(url, part, size=size, progress=progress, cancel=cancel, timeout=timeout)
            break
        except OfflineError:
            raise
        except DownloadError:
            attempt += 1
            if attempt > retries:
                raise
    return commit_part(part, dest, sha256_file(part, cancel), sha256=sha256, size=size, what=dest.name)


def commit_part(part: Path, dest: Path, digest: str, *, sha256: str, size: int | None, what: str) -> Path:
    """Rename `part` to `dest` if its digest and size match; otherwise delete it and raise."""
    actual_size = part.stat().st_size
    if digest != sha256.lower() or (size is not None and actual_size != size):
        part.unlink(missing_ok=True)
        raise ChecksumError(
            f"The downloaded file {what} is not the expected one (checksum mismatch); it was deleted.",
            detail=f"expected sha256 {sha256} ({size} bytes), got {digest} ({actual_size} bytes)",
        )
    return atomic_replace(part, dest)
