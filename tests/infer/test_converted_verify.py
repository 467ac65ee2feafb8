"""Converted models are verified on every load: the sha256 recorded at conversion must match, else
the store re-converts from the verified sources, or refuses (and says how to fetch again)."""

from __future__ import annotations

from pathlib import Path

import pytest

from editor.infer.api import ModelNotInstalled
from editor.infer.converted import record_path
from editor.infer.download import sha256_file
from editor.infer.store import ModelStatus, ModelStore

SOURCE = b"source weights \x00\x01\x02" * 100


@pytest.fixture
def store(tmp_path: Path, monkeypatch) -> ModelStore:
    import editor.infer.convert as convert_pkg

    def doubling(manifest, files: dict[str, Path], out_dir: Path) -> Path:
        out = out_dir / "conv.safetensors"
        out.write_bytes(files["src.bin"].read_bytes() * 2)
        return out

    monkeypatch.setattr(convert_pkg, "get_converter", lambda kind: doubling)
    src = tmp_path / "src.bin"
    src.write_bytes(SOURCE)
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "c.toml").write_text(f'''
id = "conv"
name = "Converted (test)"
task = "superres"
architecture = "Compact"
code_license = "MIT"
weights_license = "MIT"
commercial_use = true
[[files]]
name = "src.bin"
sha256 = "{sha256_file(src)}"
size = {len(SOURCE)}
[convert]
kind = "doubling"
output = "conv.safetensors"
''')
    s = ModelStore(tmp_path / "models", manifest_dirs=[manifests])
    assert s.import_file(src).status is ModelStatus.INSTALLED
    return s


def _flip(path: Path, at: int = 7) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x40
    path.write_bytes(bytes(data))


def test_conversion_records_the_sha256(store):
    path = store.path("conv")
    assert record_path(path).is_file() and sha256_file(path) in record_path(path).read_text()


def test_byte_flipped_converted_file_is_never_used(store):
    path = store.path("conv")
    _flip(path)
    fresh = ModelStore(store.models_dir, manifest_dirs=store._manifest_dirs)  # a new session
    info = fresh.verify("conv")
    assert info.status is ModelStatus.CORRUPT and "recorded when it was converted" in info.problem
    # Loading re-converts from the verified source: the file handed out is the good one again.
    assert fresh.path("conv").read_bytes() == SOURCE * 2
    # Same session, flipped again (size and mtime change): caught again, not served from a cache.
    _flip(path, 11)
    assert store.path("conv").read_bytes() == SOURCE * 2


def test_flipped_file_without_sources_is_refused_with_a_fetch_hint(store):
    path = store.path("conv")
    _flip(path)
    (store.models_dir / "conv" / "src.bin").unlink()
    fresh = ModelStore(store.models_dir, manifest_dirs=store._manifest_dirs)
    with pytest.raises(ModelNotInstalled, match="Download or Import"):
        fresh.path("conv")
    assert fresh.status("conv") is ModelStatus.CORRUPT


def test_sources_deleted_means_not_installed_even_if_converted_is_intact(store):
    (store.models_dir / "conv" / "src.bin").unlink()
    info = store.verify("conv")
    assert info.status is ModelStatus.CORRUPT and "src.bin is missing" in info.problem


def test_swapped_file_and_damaged_source_are_refused(store):
    path = store.path("conv")
    path.write_bytes(b"other model weights")  # e.g. another model's file renamed in its place
    _flip(store.models_dir / "conv" / "src.bin")
    fresh = ModelStore(store.models_dir, manifest_dirs=store._manifest_dirs)
    with pytest.raises(ModelNotInstalled) as exc:
        fresh.path("conv")
    assert "wrong checksum" in exc.value.message + str(exc.value.detail)


def test_missing_record_is_rebuilt_from_verified_sources(store):
    path = store.path("conv")
    record_path(path).unlink()
    fresh = ModelStore(store.models_dir, manifest_dirs=store._manifest_dirs)
    assert fresh.status("conv") is ModelStatus.CORRUPT
    assert fresh.path("conv") == path and record_path(path).is_file()
