"""Shared fixtures: where the third-party test data lives, a clean Qt state per test, and a private
home for everything the app would otherwise keep in the user's own folders.

Tests never read or write the user's models folder, settings or caches: each test gets empty ones
in its temporary folder through the environment the app honours (LUCID_MODELS_DIR, LUCID_CONFIG_DIR,
and the XDG base folders platformdirs resolves when those are unset). Real weights that quality
tests need are fetched once into a test models cache (TEST_MODELS_DIR, beside the repo's other tool
caches; LUCID_TEST_MODELS_DIR overrides it, e.g. for a CI cache), never into the user's folder.
Numba's compiled-code cache is set here, before anything imports numba, to a test cache as well.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Autosave/recovery files of apps started by tests go to a throwaway folder, never the user's (where a
# crash-recovery dialog would then wait for an answer at the next app start).
os.environ.setdefault("LUCID_RECOVERY_DIR", tempfile.mkdtemp(prefix="lucid-recovery-tests-"))

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()
TEST_CACHE = REPO / ".pytest_cache"  # git-ignored; survives between runs, unlike tmp_path
TEST_MODELS_DIR = Path(os.environ.get("LUCID_TEST_MODELS_DIR") or TEST_CACHE / "lucid-models")
os.environ["LUCID_TEST_MODELS_DIR"] = str(TEST_MODELS_DIR)  # for helper modules (tests/segment/mp_helpers.py)
os.environ.setdefault("NUMBA_CACHE_DIR", str(TEST_CACHE / "lucid-numba"))  # read once, at numba import

USER_DIR_ENV = ("LUCID_MODELS_DIR", "LUCID_CONFIG_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")


@pytest.fixture(autouse=True)
def _private_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty models, settings and cache folders for this test, so no test sees or changes the user's."""
    home = tmp_path_factory.mktemp("user")
    for name in USER_DIR_ENV:
        monkeypatch.setenv(name, str(home / name.lower()))
    return home


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` beside the repository; skip with a reason when it is absent."""
    if not SHARED_DATA.is_dir():
        reason = f"third-party test data not found at {SHARED_DATA} (clone with ../shared beside the repo)"
        pytest.skip(reason)
    return SHARED_DATA


@pytest.fixture(scope="session")
def fetched_model() -> Callable[..., Path | None]:
    """`fetched_model(model_id)`: a shipped model fetched (once) into the test models cache, as the path
    the store loads. Skips with the reason when the index cannot be reached; with `required=False`
    returns None instead, for tests that fall back to random weights (plumbing only)."""
    from editor.core.errors import LucidError
    from editor.infer.store import ModelStore

    def fetch(model_id: str, *, required: bool = True) -> Path | None:
        store = ModelStore(TEST_MODELS_DIR)
        try:
            return store.fetch(model_id)
        except LucidError as exc:
            if not required:
                return None
            pytest.skip(f"{model_id} could not be fetched into {TEST_MODELS_DIR} (offline?): {exc}")

    return fetch
