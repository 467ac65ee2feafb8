"""Small synthetic bursts (160×120-ish) shared by the obstruction tests; built once per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import fence_burst, reflection_burst, texture


@pytest.fixture(scope="session")
def fence():
    return fence_burst(texture(144, 192, 0), seed=0, spacing=18, width=1.5)


@pytest.fixture(scope="session")
def reflection():
    return reflection_burst(texture(144, 192, 1), texture(144, 192, 101), seed=1)
