"""The document memory budget: where the limit comes from, one-line messages, and its users outside
.ora (a plain image's header, a new canvas, an upscale's output) checked before anything is allocated."""

from __future__ import annotations

import struct
import time
import zlib

import pytest

from editor.core.budget import (
    ENV_BUDGET,
    BudgetExceeded,
    check_document,
    current_budget,
    machine_memory_bytes,
)
from editor.core.errors import LucidError
from editor.core.settings import Settings, SettingsError


def test_limit_from_env_then_preference_then_a_quarter_of_memory(monkeypatch):
    monkeypatch.setenv(ENV_BUDGET, "300")
    assert current_budget(setting_mb=5000).limit_bytes == 300 << 20
    monkeypatch.delenv(ENV_BUDGET)
    budget = current_budget(setting_mb=5000)
    assert budget.limit_bytes == 5000 << 20 and "Preferences" in budget.origin
    assert current_budget(setting_mb=0).limit_bytes == max(1 << 30, machine_memory_bytes() // 4)
    monkeypatch.setenv(ENV_BUDGET, "lots")
    with pytest.raises(LucidError, match=ENV_BUDGET):
        current_budget()


def test_preference_is_validated():
    assert Settings(memory_budget_mb=0).validate() and Settings(memory_budget_mb=2048).validate()
    with pytest.raises(SettingsError, match="Memory budget"):
        Settings(memory_budget_mb=10).validate()


def test_message_says_limit_and_how_to_raise_it(monkeypatch):
    monkeypatch.setenv(ENV_BUDGET, "512")
    with pytest.raises(BudgetExceeded) as exc:
        check_document(20000, 10000, 8, "photo.png: opening it")
    msg = exc.value.message
    assert "\n" not in msg and "20000×10000" in msg and "0.5 GB" in msg
    assert "Preferences → Memory budget" in msg and ENV_BUDGET in msg
    check_document(1000, 1000, 16, "fits")


def _png_header_bomb(path, w, h):
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 10)) + chunk(b"IEND", b""))
    return path


def test_plain_image_checked_from_its_header(tmp_path, monkeypatch):
    from editor.io.images import load_document

    monkeypatch.setenv(ENV_BUDGET, "256")
    path = _png_header_bomb(tmp_path / "wide.png", 12000, 10000)  # 120 MP: under the pixel limit
    start = time.monotonic()
    with pytest.raises(BudgetExceeded, match=r"wide\.png"):
        load_document(path)
    assert time.monotonic() - start < 5


def test_upscale_output_checked_before_allocation(monkeypatch):
    from editor.infer.tasks.superres import check_output_memory

    monkeypatch.setenv(ENV_BUDGET, "2048")
    check_output_memory(1000, 1000, 4, 4000, 4000)  # ~1.1 GB of buffers: fits
    with pytest.raises(BudgetExceeded, match="Upscaling 15000×15000 to 60000×60000"):
        check_output_memory(15000, 15000, 4, 60000, 60000)
