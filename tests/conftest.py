"""Shared fixtures: where the third-party test data lives, and a clean Qt state per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` beside the repository; skip with a reason when it is absent."""
    if not SHARED_DATA.is_dir():
        reason = f"third-party test data not found at {SHARED_DATA} (clone with ../shared beside the repo)"
        pytest.skip(reason)
    return SHARED_DATA
