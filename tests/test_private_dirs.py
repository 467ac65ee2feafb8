"""The suite's own guard: every test sees private, empty models/settings/cache folders (conftest)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from editor.core.settings import config_dir
from editor.infer.store import ModelStore, default_models_dir


def test_the_app_folders_are_private_to_this_test(tmp_path: Path, monkeypatch) -> None:
    tmp_root = tmp_path.parent.parent  # pytest's base temporary folder for this run
    store = ModelStore(manifest_dirs=[])
    for folder in (store.models_dir, config_dir(), Path(platformdirs.user_cache_dir("Lucid"))):
        assert tmp_root in folder.parents, folder
    assert not store.models_dir.exists() or not any(store.models_dir.iterdir())
    # Even with the app's own variables unset, platformdirs resolves inside the test's folder.
    monkeypatch.delenv("LUCID_MODELS_DIR")
    monkeypatch.delenv("LUCID_CONFIG_DIR")
    assert tmp_root in default_models_dir().parents and tmp_root in config_dir().parents
    assert Path(os.environ["NUMBA_CACHE_DIR"]) != Path.home() / ".cache" / "Lucid" / "numba"
