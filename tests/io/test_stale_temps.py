"""Temp files of saves killed before their rename are removed by the next save to the same folder."""

from __future__ import annotations

import os
import time

import numpy as np

from editor.core.stale_temps import remove_stale_temps
from editor.io.export import export_image


def _age(path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_next_save_removes_old_temps_only(tmp_path):
    stale = tmp_path / ".photo.ora.k2j4_x9a.tmp"
    stale.write_bytes(b"x" * 1000)
    _age(stale, 3600)
    fresh = tmp_path / ".other.png.abcdefgh.tmp"  # a save running right now elsewhere
    fresh.write_bytes(b"y")
    lookalikes = [tmp_path / n for n in (".photo.ora.tmp", "photo.ora.k2j4_x9a.tmp", ".notes.ABCDEFGH.tmp")]
    for p in lookalikes:
        p.write_bytes(b"z")
        _age(p, 3600)
    export_image(np.zeros((4, 4, 3), np.uint8), tmp_path / "out.png")
    assert not stale.exists() and fresh.exists() and all(p.exists() for p in lookalikes)
    assert (tmp_path / "out.png").is_file()


def test_unreadable_folder_is_not_an_error(tmp_path):
    assert remove_stale_temps(tmp_path / "missing") == []
