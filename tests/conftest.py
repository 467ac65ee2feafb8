"""Shared fixtures: where the third-party test data lives, and a clean Qt state per test."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Autosave/recovery files of apps started by tests go to a throwaway folder, never the user's (where a
# crash-recovery dialog would then wait for an answer at the next app start).
os.environ.setdefault("LUCID_RECOVERY_DIR", tempfile.mkdtemp(prefix="lucid-recovery-tests-"))

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` beside the repository; skip with a reason when it is absent."""
    if not SHARED_DATA.is_dir():
        reason = f"third-party test data not found at {SHARED_DATA} (clone with ../shared beside the repo)"
        pytest.skip(reason)
    return SHARED_DATA
