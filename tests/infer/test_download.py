"""Resumable, verified downloads against a local HTTP server (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_download_server import LocalServer, free_port, sha, tiny_model_bytes

from editor.infer.api import Cancelled, CancelToken
from editor.infer.download import ChecksumError, DownloadError, OfflineError, download, part_path


@pytest.fixture
def model_bytes(tmp_path: Path) -> bytes:
    return tiny_model_bytes(tmp_path)


@pytest.fixture
def server():
    s = LocalServer().start()
    yield s
    s.stop()


def test_fresh_download_verifies_and_reports_bytes(server: LocalServer, model_bytes: bytes,
                                                   tmp_path: Path) -> None:
    server.files["/m.safetensors"] = model_bytes
    seen: list[tuple[int, int | None]] = []
    dest = tmp_path / "out" / "m.safetensors"
    out = download(server.url("/m.safetensors"), dest, sha256=sha(model_bytes), size=len(model_bytes),
                   progress=lambda d, t: seen.append((d, t)))
    assert out == dest and dest.read_bytes() == model_bytes
    assert not part_path(dest).exists()
    assert seen[-1] == (len(model_bytes), len(model_bytes))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_resume_after_dropped_connection_uses_range(server: LocalServer, tmp_path: Path) -> None:
    data = bytes(range(256)) * 800  # 200 KiB
    server.files["/big.bin"] = data
    server.cut_once["/big.bin"] = 70_000
    dest = tmp_path / "big.bin"
    with pytest.raises(DownloadError, match="connection dropped"):
        download(server.url("/big.bin"), dest, sha256=sha(data), size=len(data), retries=0)
    part = part_path(dest)
    assert 0 < part.stat().st_size < len(data) and not dest.exists()
    kept = part.stat().st_size
    download(server.url("/big.bin"), dest, sha256=sha(data), size=len(data))
    assert dest.read_bytes() == data
    assert server.log[-1].range == f"bytes={kept}-"


def test_dropped_connection_is_retried_automatically(server: LocalServer, tmp_path: Path) -> None:
    data = b"abc" * 50_000
    server.files["/f"] = data
    server.cut_once["/f"] = 10_000
    dest = download(server.url("/f"), tmp_path / "f", sha256=sha(data), size=len(data))
    assert dest.read_bytes() == data
    assert [entry.range for entry in server.log] == [None, "bytes=10000-"]


def test_server_ignoring_range_restarts_from_zero(server: LocalServer, tmp_path: Path) -> None:
    data = b"xyz" * 10_000
    server.files["/f"] = data
    server.ignore_range = True
    dest = tmp_path / "f"
    part_path(dest).write_bytes(b"garbage-from-an-older-attempt")
    download(server.url("/f"), dest, sha256=sha(data), size=len(data))
    assert dest.read_bytes() == data


def test_checksum_mismatch_refused_and_partial_removed(server: LocalServer, model_bytes: bytes,
                                                       tmp_path: Path) -> None:
    server.files["/m"] = model_bytes
    dest = tmp_path / "m.safetensors"
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        download(server.url("/m"), dest, sha256="0" * 64, size=len(model_bytes))
    assert not dest.exists() and not part_path(dest).exists()


def test_connection_refused_is_offline(tmp_path: Path) -> None:
    dest = tmp_path / "m"
    with pytest.raises(OfflineError, match="offline") as info:
        download(f"http://127.0.0.1:{free_port()}/m", dest, sha256="0" * 64, timeout=5)
    assert "Import file" in info.value.message
    assert not dest.exists()


def test_http_error_is_not_offline(server: LocalServer, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="404") as info:
        download(server.url("/missing"), tmp_path / "m", sha256="0" * 64, retries=0)
    assert not isinstance(info.value, OfflineError)


def test_proxy_from_environment_is_used(server: LocalServer, tmp_path: Path, monkeypatch) -> None:
    data = b"through the proxy"
    server.files["/via-proxy"] = data
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{server.port}")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.port}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    dest = download("http://models.example.invalid/via-proxy", tmp_path / "p", sha256=sha(data))
    assert dest.read_bytes() == data
    assert server.log[-1].proxied


def test_cancel_keeps_partial_for_resume(server: LocalServer, tmp_path: Path) -> None:
    data = bytes(300_000)
    server.files["/f"] = data
    token = CancelToken()

    def progress(done: int, _total: int | None) -> None:
        if done > 100_000:
            token.cancel()

    dest = tmp_path / "f"
    with pytest.raises(Cancelled):
        download(server.url("/f"), dest, sha256=sha(data), progress=progress, cancel=token)
    assert part_path(dest).exists() and not dest.exists()
