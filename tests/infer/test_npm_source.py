"""The npm-tarball model source against a local HTTP server serving a tarball the test builds."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from test_download_server import LocalServer, free_port, sha

from editor.infer.download import ChecksumError, DownloadError, OfflineError
from editor.infer.manifest import ManifestError, load_manifest
from editor.infer.npm_source import NpmFetcher, pack_table, split_pack
from editor.infer.store import ModelStatus, ModelStore

MODEL = bytes(range(256)) * 40  # a plain member
DET, LMK, META = b"detector" * 300, b"landmarks" * 500, b"geometry" * 7
PACK = LMK + META + DET  # an Emscripten pack: files back to back
_TABLE = {
    "files": [
        {"filename": "/third_party/x/face_landmark.tflite", "start": 0, "end": len(LMK)},
        {"filename": "/third_party/x/meta.binarypb", "start": len(LMK), "end": len(LMK) + len(META)},
        {
            "filename": "/third_party/x/face_detection_short_range.tflite",
            "start": len(LMK) + len(META),
            "end": len(PACK),
        },
    ],
    "remote_package_size": len(PACK),
    "package_uuid": "x",
}
LOADER = f"var Module = {{}}; (function() {{ loadPackage({json.dumps(_TABLE)}); }})();"


def make_tgz(members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tf.addfile(info)
    return buf.getvalue()


TGZ = make_tgz(
    {
        "package/package.json": b'{"name": "@x/pkg", "license": "Apache-2.0"}',
        "package/model.tflite": MODEL,
        "package/assets.data": PACK,
        "package/assets_loader.js": LOADER.encode(),
    }
)


def npm_manifest(folder: Path, tarball_url: str, *, tgz: bytes = TGZ, **over: object) -> None:
    """A manifest with one npm-sourced file; `over` overrides [files.npm] keys or the file's sha256."""
    file_sha = over.pop("file_sha", sha(MODEL))
    npm = {
        "package": "@x/pkg",
        "version": "1.0.0",
        "tarball": tarball_url,
        "tarball_sha256": sha(tgz),
        "tarball_size": len(tgz),
        "member": "package/model.tflite",
        **over,
    }
    size = {"package/model.tflite": len(MODEL)}.get(str(npm["member"]))
    lines = [
        'id = "npm-model"',
        'name = "npm model"',
        'task = "segment"',
        'architecture = "TFLiteGraph"',
        'code_license = "Apache-2.0"',
        'weights_license = "Apache-2.0"',
        "commercial_use = true",
        "",
        "[[files]]",
        'name = "model.tflite"',
        f'sha256 = "{file_sha}"',
        *([f"size = {size}"] if size is not None else []),
        "",
        "[files.npm]",
        *(f"{k} = {json.dumps(v)}" for k, v in npm.items()),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "npm-model.toml").write_text("\n".join(lines) + "\n")


@pytest.fixture
def server():
    s = LocalServer(files={"/pkg/-/pkg-1.0.0.tgz": TGZ}).start()
    yield s
    s.stop()


def make_store(tmp_path: Path, url: str, **over: object) -> ModelStore:
    manifests = tmp_path / "manifests"
    npm_manifest(manifests, url, **over)
    return ModelStore(tmp_path / "models", manifest_dirs=[manifests])


def leftovers(store: ModelStore) -> list[str]:
    folder = store.models_dir / "npm-model"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_member_fetched_verified_and_installed(tmp_path: Path, server: LocalServer) -> None:
    store = make_store(tmp_path, server.url("/pkg/-/pkg-1.0.0.tgz"))
    assert store.get("npm-model").status is ModelStatus.NOT_INSTALLED
    path = store.fetch("npm-model")
    assert path.read_bytes() == MODEL
    assert store.get("npm-model").status is ModelStatus.INSTALLED
    assert leftovers(store) == ["model.tflite"]  # no .part, no tarball beside the model
    assert [entry.path for entry in server.log] == ["/pkg/-/pkg-1.0.0.tgz"]


def test_emscripten_pack_is_split_by_its_loader_table(tmp_path: Path, server: LocalServer) -> None:
    url = server.url("/pkg/-/pkg-1.0.0.tgz")
    with NpmFetcher() as fetcher:
        for name, want in (("face_detection_short_range.tflite", DET), ("face_landmark.tflite", LMK)):
            store = make_store(
                tmp_path / name,
                url,
                member="package/assets.data",
                pack_loader="package/assets_loader.js",
                pack_file=name,
                file_sha=sha(want),
            )
            spec = store.manifest("npm-model").files[0]
            assert spec.npm is not None
            dest = tmp_path / name / "out.tflite"
            fetcher.fetch_member(spec.npm, dest, sha256=sha(want))
            assert dest.read_bytes() == want
    assert len(server.log) == 1  # one tarball download serves every file taken from it


def test_dropped_connection_resumes_with_a_range_request(tmp_path: Path, server: LocalServer) -> None:
    server.cut_once["/pkg/-/pkg-1.0.0.tgz"] = len(TGZ) // 3
    store = make_store(tmp_path, server.url("/pkg/-/pkg-1.0.0.tgz"))
    assert store.fetch("npm-model").read_bytes() == MODEL
    assert len(server.log) == 2
    assert server.log[1].range == f"bytes={len(TGZ) // 3}-"


def test_tarball_checksum_mismatch_installs_nothing(tmp_path: Path, server: LocalServer) -> None:
    store = make_store(tmp_path, server.url("/pkg/-/pkg-1.0.0.tgz"), tarball_sha256="0" * 64)
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        store.fetch("npm-model")
    assert store.get("npm-model").status is ModelStatus.NOT_INSTALLED
    assert leftovers(store) == []


def test_member_checksum_mismatch_installs_nothing(tmp_path: Path, server: LocalServer) -> None:
    store = make_store(tmp_path, server.url("/pkg/-/pkg-1.0.0.tgz"), file_sha="1" * 64)
    with pytest.raises(ChecksumError, match=r"model\.tflite"):
        store.fetch("npm-model")
    assert store.get("npm-model").status is ModelStatus.NOT_INSTALLED
    assert leftovers(store) == []


def test_offline_is_reported_as_offline(tmp_path: Path) -> None:
    store = make_store(tmp_path, f"http://127.0.0.1:{free_port()}/pkg/-/pkg-1.0.0.tgz")
    with pytest.raises(OfflineError, match="offline"):
        store.fetch("npm-model")
    assert store.get("npm-model").status is ModelStatus.NOT_INSTALLED


@pytest.mark.parametrize(
    ("members", "symlinks", "member", "msg"),
    [
        ({"package/a": b"x"}, None, "../etc/passwd", "unsafe path"),
        ({"package/a": b"x"}, None, "/etc/passwd", "unsafe path"),
        ({"../evil.tflite": b"x", "package/model.tflite": MODEL}, None, "package/model.tflite", "unsafe"),
        ({"package/a": b"x"}, {"package/model.tflite": "/etc/passwd"}, "package/model.tflite", "regular"),
        ({"package/a": b"x"}, None, "package/model.tflite", "does not contain"),
    ],
)
def test_hostile_or_wrong_tarballs_are_refused(
    tmp_path: Path, members: dict, symlinks: dict | None, member: str, msg: str
) -> None:
    tgz = make_tgz(members, symlinks)
    s = LocalServer(files={"/p.tgz": tgz}).start()
    try:
        store = make_store(tmp_path, s.url("/p.tgz"), tgz=tgz, member=member)
        with pytest.raises(DownloadError, match=msg):
            store.fetch("npm-model")
    finally:
        s.stop()
    assert leftovers(store) == []


def test_pack_table_is_checked_against_the_pack() -> None:
    assert pack_table(LOADER)["face_landmark.tflite"] == (0, len(LMK))
    assert split_pack(PACK, LOADER, "face_detection_short_range.tflite") == DET
    with pytest.raises(DownloadError, match="size"):
        split_pack(PACK + b"x", LOADER, "face_landmark.tflite")
    with pytest.raises(DownloadError, match="holds no"):
        split_pack(PACK, LOADER, "missing.tflite")
    with pytest.raises(DownloadError, match="no loadPackage"):
        split_pack(PACK, "console.log(1)", "face_landmark.tflite")


def test_manifest_rejects_a_half_pack_or_a_non_tgz(tmp_path: Path) -> None:
    npm_manifest(tmp_path / "a", "https://registry.npmjs.org/x/-/x-1.tgz", pack_file="f.tflite")
    with pytest.raises(ManifestError, match="go together"):
        load_manifest(tmp_path / "a" / "npm-model.toml")
    npm_manifest(tmp_path / "b", "https://registry.npmjs.org/x/-/x-1.zip")
    with pytest.raises(ManifestError, match=r"\.tgz"):
        load_manifest(tmp_path / "b" / "npm-model.toml")


def test_shipped_mediapipe_manifests_parse_with_npm_sources() -> None:
    root = Path(__file__).resolve().parents[2] / "models"
    for name in ("mediapipe-selfie-segmentation", "mediapipe-face-mesh"):
        m = load_manifest(root / f"{name}.toml")
        assert m.downloadable and m.commercial_use and m.weights_license.startswith("Apache-2.0")
        registry = "https://registry.npmjs.org/"
        assert all(f.npm is not None and f.npm.tarball.startswith(registry) for f in m.files)
        assert "Apache" in m.get("notice", "")
