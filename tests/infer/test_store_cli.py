"""`lucid models list|fetch|import|remove` end to end (headless), against a local HTTP server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_download_server import LocalServer, free_port, sha, tiny_model_bytes

from editor.cli import main
from editor.infer.store import ModelStore

MANIFEST = """
id = "{mid}"
name = "Tiny CLI model"
task = "superres"
architecture = "Compact"
code_license = "MIT"
weights_license = "CC-BY-NC-4.0"
commercial_use = false
[[files]]
name = "tiny.safetensors"
url = "{url}"
sha256 = "{sha}"
size = {size}
"""


@pytest.fixture
def setup(tmp_path: Path, monkeypatch):
    data = tiny_model_bytes(tmp_path)
    server = LocalServer(files={"/t": data}).start()
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    for mid, url in (("tiny-cli", server.url("/t")), ("tiny-offline", f"http://127.0.0.1:{free_port()}/t")):
        (manifests / f"{mid}.toml").write_text(
            MANIFEST.format(mid=mid, url=url, sha=sha(data), size=len(data))
        )
    # The CLI builds ModelStore(models_dir); point its shipped-manifest lookup at our folder.
    monkeypatch.setattr("editor.infer.store._shipped_manifest_dirs", lambda: [manifests])
    models = tmp_path / "models"
    yield models, data, tmp_path
    server.stop()


def test_models_list_fetch_remove(setup, capsys) -> None:
    models, data, _ = setup
    assert main(["models", "--models-dir", str(models), "list"]) == 0
    out = capsys.readouterr().out
    assert "tiny-cli" in out and "not installed" in out and "(non-commercial)" in out
    assert main(["models", "--models-dir", str(models), "fetch", "tiny-cli"]) == 0
    assert (models / "tiny-cli" / "tiny.safetensors").read_bytes() == data
    assert "installed tiny-cli" in capsys.readouterr().out
    main(["models", "--models-dir", str(models), "list"])
    row = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("tiny-cli"))
    assert row.split()[2] == "installed"
    assert main(["models", "--models-dir", str(models), "remove", "tiny-cli"]) == 0
    assert not (models / "tiny-cli").exists()


def test_fetch_if_missing_skips_installed_models_without_touching_the_network(setup, capsys) -> None:
    models, data, _ = setup
    assert main(["models", "--models-dir", str(models), "fetch", "--if-missing", "tiny-cli"]) == 0
    assert "installed tiny-cli" in capsys.readouterr().out
    # tiny-offline's server does not exist: with --if-missing an installed copy means no request.
    offline_dir = models / "tiny-offline"
    offline_dir.mkdir(parents=True)
    (offline_dir / "tiny.safetensors").write_bytes(data)
    both = ["tiny-cli", "tiny-offline"]
    assert main(["models", "--models-dir", str(models), "fetch", "--if-missing", *both]) == 0
    out = capsys.readouterr().out
    assert "tiny-cli is already installed" in out and "tiny-offline is already installed" in out
    assert (offline_dir / "tiny.safetensors").read_bytes() == data


def test_models_fetch_offline_and_unknown_are_clear_errors(setup, capsys) -> None:
    models, _, _ = setup
    assert main(["models", "--models-dir", str(models), "fetch", "tiny-offline"]) == 1
    assert "offline" in capsys.readouterr().err
    assert main(["models", "--models-dir", str(models), "fetch", "nope"]) == 1
    assert "Unknown model 'nope'" in capsys.readouterr().err


def test_models_import_matches_by_checksum(setup, capsys) -> None:
    models, data, tmp = setup
    src = tmp / "downloaded-elsewhere.safetensors"
    src.write_bytes(data)
    assert main(["models", "--models-dir", str(models), "import", str(src)]) == 0
    # Both manifests list this checksum; the first match wins and is installed.
    assert ModelStore(models, manifest_dirs=[tmp / "manifests"]).get("tiny-cli").installed
    assert "imported downloaded-elsewhere.safetensors as tiny-cli" in capsys.readouterr().out


def test_models_command_does_not_import_qt(tmp_path: Path) -> None:
    code = (
        "import sys; from editor.cli import main; main(['models', '--models-dir', sys.argv[1], 'list']); "
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'torch'))], 'heavy import'"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
