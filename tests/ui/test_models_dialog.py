"""Models dialog: lists models with status and licences; Download runs as a job; offline is explained."""

from __future__ import annotations

import hashlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from editor.infer.service import InferenceService
from editor.infer.store import ModelStore
from editor.ui.jobs import JobRunner
from editor.ui.models_dialog import ModelsDialog

pytestmark = pytest.mark.gui

PAYLOAD = b"lucid test weights " * 4000

MANIFEST = """
id = "{mid}"
name = "{name}"
task = "{task}"
architecture = "Test"
code_license = "{code}"
weights_license = "{weights}"
commercial_use = {commercial}
[[files]]
name = "w.safetensors"
url = "{url}"
sha256 = "{sha}"
size = {size}
"""


def _serve(data: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return httpd


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def env(qtbot, tmp_path: Path):
    httpd = _serve(PAYLOAD)
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    common = {"sha": hashlib.sha256(PAYLOAD).hexdigest(), "size": len(PAYLOAD)}
    specs = [
        (
            "free-sr",
            "Free Upscaler",
            "superres",
            "MIT",
            "MIT",
            "true",
            f"http://127.0.0.1:{httpd.server_port}/w",
        ),
        (
            "nc-inpaint",
            "NC Inpainter",
            "inpaint",
            "Apache-2.0",
            "CC-BY-NC-4.0",
            "false",
            f"http://127.0.0.1:{_closed_port()}/w",
        ),
    ]
    for mid, name, task, code, weights, commercial, url in specs:
        (manifests / f"{mid}.toml").write_text(
            MANIFEST.format(
                mid=mid,
                name=name,
                task=task,
                code=code,
                weights=weights,
                commercial=commercial,
                url=url,
                **common,
            )
        )
    store = ModelStore(tmp_path / "models", manifest_dirs=[manifests])
    service = InferenceService(store, device="cpu")
    runner = JobRunner(service)
    dialog = ModelsDialog(store, runner)
    qtbot.addWidget(dialog)
    dialog.show()
    yield store, dialog
    service.shutdown()
    runner.close()
    httpd.shutdown()
    httpd.server_close()


def _row(dialog: ModelsDialog, model_id: str) -> list[str]:
    r = dialog.row_of(model_id)
    return [dialog.table.item(r, c).text() for c in range(6)]


def test_lists_not_installed_model_with_licences(env) -> None:
    _store, dialog = env
    assert dialog.table.rowCount() == 2
    name, task, status, size, code, weights = _row(dialog, "nc-inpaint")
    assert (name, task, status, code) == ("NC Inpainter", "inpaint", "not installed", "Apache-2.0")
    assert weights == "CC-BY-NC-4.0 (non-commercial)" and size == "0.1 MB"
    assert _row(dialog, "free-sr")[5] == "MIT"
    assert dialog.button("free-sr", "Download").text() == "Download (0.1 MB)"
    assert dialog.button("free-sr", "Import file")


def test_download_runs_as_job_then_delete(env, qtbot) -> None:
    store, dialog = env
    qtbot.mouseClick(dialog.button("free-sr", "Download"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _row(dialog, "free-sr")[2] == "installed", timeout=15000)
    assert (store.models_dir / "free-sr" / "w.safetensors").read_bytes() == PAYLOAD
    assert "installed" in dialog.message.text()
    dialog.confirm = lambda question: True
    qtbot.mouseClick(dialog.button("free-sr", "Delete"), Qt.MouseButton.LeftButton)
    assert _row(dialog, "free-sr")[2] == "not installed"
    assert not (store.models_dir / "free-sr").exists()


def test_offline_download_shows_clear_message(env, qtbot) -> None:
    _store, dialog = env
    qtbot.mouseClick(dialog.button("nc-inpaint", "Download"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "offline" in dialog.message.text(), timeout=15000)
    assert "Import file" in dialog.message.text()
    assert _row(dialog, "nc-inpaint")[2] == "not installed"


def test_import_file_button_installs_matching_file(env, qtbot, tmp_path: Path) -> None:
    store, dialog = env
    src = tmp_path / "copy.safetensors"
    src.write_bytes(PAYLOAD)
    dialog.ask_open_file = lambda: str(src)
    qtbot.mouseClick(dialog.button("nc-inpaint", "Import file"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _row(dialog, "nc-inpaint")[2] == "installed", timeout=15000)
    assert store.get("nc-inpaint").installed
