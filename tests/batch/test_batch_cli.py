"""`lucid batch`: the same bytes as the single-file commands, failures isolated, manifest and resume rules."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import leftovers, make_photos, manifest, single_file, upscale_options
from PIL import Image

from editor.cli import main


def test_upscale_batch_is_bit_identical_to_single_files_and_a_corrupt_input_only_fails_itself(
        tmp_path: Path, sr_model, capsys) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    names = make_photos(src, 6)
    (src / "sub" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    opts = upscale_options(sr_model)
    rc = main(["batch", "upscale", str(src), "-o", str(out), *opts, "--workers", "2", "--json"])
    captured = capsys.readouterr()
    assert rc == 1  # one file failed
    events = [json.loads(line) for line in captured.out.splitlines()]
    assert events[0]["event"] == "start" and events[0]["todo"] == 7
    assert events[-1]["event"] == "summary" and (events[-1]["done"], events[-1]["failed"]) == (6, 1)
    assert events[-1]["failures"][0]["path"] == "sub/broken.jpg"
    assert "damaged" in events[-1]["failures"][0]["error"]
    assert events[0]["workers"].startswith("2 local worker processes")
    assert all(e["worker"] != os.getpid() for e in events if e["event"] == "file")  # not in this process
    for rel in names:
        want = single_file("upscale", src / rel, tmp_path / "single" / rel, opts)
        assert (out / rel).read_bytes() == want, rel  # mirrored name, same bytes
    assert not (out / "sub" / "broken.jpg").exists()
    states = {k: v["state"] for k, v in manifest(out)["files"].items()}
    assert states == {**dict.fromkeys(names, "done"), "sub/broken.jpg": "failed"}
    entry = manifest(out)["files"][names[0]]
    assert entry["size"] == (src / names[0]).stat().st_size and len(entry["sha256"]) == 64
    assert leftovers(out) == []


def test_convert_with_format_resume_skips_done_and_retries_failed(tmp_path: Path, capsys) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    names = make_photos(src, 4)
    (src / "late.jpg").write_bytes(b"garbage")
    argv = ["batch", "convert", str(src), "-o", str(out), "--format", "png", "--workers", "1"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "3 done" not in err and "4 done, 0 skipped, 1 failed" in err and "late.jpg" in err
    for rel in names:
        png = Path(rel).with_suffix(".png").as_posix()
        assert (out / png).read_bytes() == single_file("convert", src / rel, tmp_path / "s" / png, [])
    done_mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.png")}

    assert main(argv) == 1  # a second run without --resume is refused, nothing touched
    assert "--resume" in capsys.readouterr().err
    assert main([*argv[:-2], "--workers", "1", "--quality", "50"]) == 1  # different options: refused too

    Image.fromarray(np.full((8, 8, 3), 200, np.uint8)).save(src / "late.jpg")  # the bad file is fixed
    assert main([*argv, "--resume"]) == 0
    err = capsys.readouterr().err
    assert "1 done, 4 skipped, 0 failed" in err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.png") if p.name != "late.png"} == done_mtimes
    assert manifest(out)["files"]["late.jpg"]["state"] == "done"


@pytest.mark.parametrize("policy", ["skip", "rename", "overwrite"])
def test_on_exists(tmp_path: Path, policy: str) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    make_photos(src, 2)
    out.mkdir()
    (out / "photo000.jpg").write_bytes(b"the user's own file")
    assert main(["batch", "convert", str(src), "-o", str(out), "--on-exists", policy, "--workers", "1"]) == 0
    mine = (out / "photo000.jpg").read_bytes()
    assert (mine == b"the user's own file") == (policy != "overwrite")
    assert (out / "photo000-1.jpg").is_file() == (policy == "rename")
    state = manifest(out)["files"]["photo000.jpg"]["state"]
    assert state == ("skipped" if policy == "skip" else "done")


def test_inpaint_masks_and_matte_trimaps_are_matched_by_name(tmp_path: Path, capsys) -> None:
    src, masks, trimaps = tmp_path / "in", tmp_path / "masks", tmp_path / "trimaps"
    names = make_photos(src, 3, size=(20, 24))
    for rel in names:
        stem = Path(rel).with_suffix(".png")
        m = np.zeros((20, 24), np.uint8)
        m[6:12, 8:15] = 255
        (masks / stem).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(m).save(masks / stem)
        t = np.zeros((20, 24), np.uint8)
        t[4:16, 6:18], t[7:13, 9:15] = 128, 255
        (trimaps / stem).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(t).save(trimaps / stem)
    (masks / Path(names[1]).with_suffix(".png")).unlink()  # one photo has no mask

    out = tmp_path / "inpainted"
    rc = main(["batch", "inpaint", str(src), "-o", str(out), "--mask", str(masks), "--engine", "telea",
               "--workers", "1"])
    assert rc == 1 and f"{names[1]}: no --mask file named like" in capsys.readouterr().err
    for rel in (names[0], names[2]):
        want = single_file("inpaint", src / rel, tmp_path / "s1" / rel,
                           ["--mask", str(masks / Path(rel).with_suffix(".png")), "--engine", "telea"])
        assert (out / rel).read_bytes() == want

    out = tmp_path / "matted"
    assert main(["batch", "matte", str(src), "-o", str(out), "--trimap", str(trimaps), "--workers", "1"]) == 0
    for rel in names:
        png = Path(rel).with_suffix(".png")  # matte writes RGBA PNGs by default
        want = single_file("matte", src / rel, tmp_path / "s2" / png,
                           ["--trimap", str(trimaps / png)])
        assert (out / png).read_bytes() == want


def test_folder_and_option_errors_are_one_clear_line(tmp_path: Path, capsys) -> None:
    src = tmp_path / "in"
    make_photos(src, 1)
    cases = [
        (["batch", "convert", str(src), "-o", str(src)], "must differ from the input folder"),
        (["batch", "convert", str(tmp_path / "nope"), "-o", str(tmp_path / "o")], "does not exist"),
        (["batch", "info", str(src), "-o", str(tmp_path / "o")], "cannot run as a batch"),
        (["batch", "convert", str(src), "-o", str(tmp_path / "o"), "--pattern", "*.tif"], "No input files"),
        (["batch", "convert", str(src), "-o", str(tmp_path / "o2"), "--cluster", "ray://h:1"], "Dask"),
    ]
    for argv, message in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # nothing written anywhere


def test_output_folder_inside_the_input_folder_is_not_read_as_input(tmp_path: Path) -> None:
    src = tmp_path / "in"
    make_photos(src, 2)
    out = src / "converted"
    argv = ["batch", "convert", str(src), "-o", str(out), "--workers", "1"]
    assert main(argv) == 0
    assert main([*argv, "--resume"]) == 0
    assert sorted(manifest(out)["files"]) == ["photo000.jpg", "photo001.jpg"]
    assert not (out / "converted").exists()


def test_stale_temp_files_from_a_killed_run_are_removed_on_resume(tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    make_photos(src, 1)
    argv = ["batch", "convert", str(src), "-o", str(out), "--workers", "1"]
    assert main(argv) == 0
    (out / "photo000.jpg").unlink()
    (out / ".photo000.jpg.abc123.tmp").write_bytes(b"half")  # what a SIGKILL mid-write leaves
    (out / "..lucid-batch.json.xyz789.tmp").write_bytes(b"{")  # … or one mid manifest save
    assert main([*argv, "--resume"]) == 0
    assert (out / "photo000.jpg").is_file() and leftovers(out) == []
    assert os.listdir(out) == sorted(os.listdir(out), key=lambda n: n)  # nothing else appeared


def test_edit_with_a_preset_over_a_folder_equals_single_file_edits(tmp_path: Path) -> None:
    """`lucid edit --preset` (a look saved from the app) is a batch task like the others."""
    src, out = tmp_path / "in", tmp_path / "out"
    names = make_photos(src, 3)
    preset = tmp_path / "look.json"
    preset.write_text(json.dumps({"exposure": 0.5, "saturation": 20, "curve": [[0, 0], [0.4, 0.3], [1, 1]]}))
    options = ["--preset", str(preset), "--crop", "2,2,20,16"]
    assert main(["batch", "edit", str(src), "-o", str(out), "--workers", "1", *options]) == 0
    for rel in names:
        single = single_file("edit", src / rel, tmp_path / "s" / rel, options)
        assert (out / rel).read_bytes() == single, rel
        assert Image.open(out / rel).size == (20, 16)
    plain = single_file("edit", src / names[0], tmp_path / "plain" / names[0], ["--crop", "2,2,20,16"])
    assert (out / names[0]).read_bytes() != plain  # the preset's look was applied, not just the crop
    assert leftovers(out) == []
