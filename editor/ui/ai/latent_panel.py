"""Latent Edit panel: choose a face generator, click eyes and mouth, invert, move sliders, apply.

The UI holds no torch state. The inversion lives on the worker as a session of task "latent"
(`action="invert"` returns its id, the directions and the reconstruction); each slider move sends a
small `action="render"` request for a low-resolution preview (throttled; while one is in flight only
the latest amounts are kept); "Apply" sends `action="apply"` and the composite becomes a result layer
whose recipe has everything to re-run it from scratch (`action="edit"`: align → invert → edit).
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleSlider
from superqt.utils import qthrottled

from editor.core.document import Document
from editor.core.errors import LucidError
from editor.core.layers import ResultLayer
from editor.infer.api import Request
from editor.infer.jobs import Job
from editor.infer.subject import FACE_MODEL
from editor.ui.ai.face_points import FacePoints, Markers, PointPickTool
from editor.ui.ai.panel_layout import scroll_body

if TYPE_CHECKING:
    from editor.ui.ai.controller import AiController
    from editor.ui.main_window import MainWindow

TASK = "latent"
PREVIEW_PX = 128  # size of the live slider preview (the worker renders at the nearest lower resolution)
SHOWN_PX = 150  # on screen
MAX_SLIDERS = 16
SLIDER_RANGE = 3.0


def to_pixmap(rgb: np.ndarray, size: int = SHOWN_PX) -> QPixmap:
    a = np.ascontiguousarray(np.clip(np.asarray(rgb)[..., :3] * 255 + 0.5, 0, 255).astype(np.uint8))
    img = QImage(a.data, a.shape[1], a.shape[0], a.shape[1] * 3, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(img).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.SmoothTransformation)


def chosen_face(faces: list[dict[str, Any]], current: list[tuple[float, float]],
                selection: np.ndarray) -> int:
    """Which of several found faces (best first) Find face places: the best one whose eyes are in the
    selection; otherwise the one after the face the points already mark (Find face again steps through a
    group photo); otherwise the best."""
    def between_eyes(face: dict[str, Any]) -> tuple[int, int]:
        (x0, y0), (x1, y1) = face["eyes"]
        return int((x0 + x1) / 2), int((y0 + y1) / 2)

    h, w = selection.shape
    for i, face in enumerate(faces):
        x, y = between_eyes(face)
        if 0 <= x < w and 0 <= y < h and selection[y, x] >= 0.5:
            return i
    placed = [tuple(map(float, p)) for p in current]
    for i, face in enumerate(faces):
        if placed == [tuple(map(float, face["eyes"][0])), tuple(map(float, face["eyes"][1])),
                      tuple(map(float, face["mouth"]))]:
            return (i + 1) % len(faces)
    return 0


class LatentPanel(QWidget):
    TITLE = "Latent Edit"
    _render_finished = Signal(object)  # Job, re-posted from the worker thread

    def __init__(self, controller: AiController, window: MainWindow) -> None:
        super().__init__()
        self.controller = controller
        self.window = window
        self._points: weakref.WeakKeyDictionary[Document, FacePoints] = weakref.WeakKeyDictionary()
        self._markers: Markers | None = None
        self._marked: FacePoints | None = None
        self.session: str | None = None
        self.session_doc: weakref.ref[Document] | None = None
        self.session_params: dict[str, Any] = {}
        self.session_model: str | None = None
        self._installing = False
        self.direction_files: list[str] = []
        self.sliders: dict[str, QLabeledDoubleSlider] = {}
        self._invert_id: str | None = None
        self._render_job: Job | None = None
        self._render_again = False
        self.renders_sent = 0

        # generator
        self.generator = QComboBox()
        self.generator.setMinimumContentsLength(18)
        self.generator.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.open_generator = QPushButton("Open generator file…")
        self.open_generator.setToolTip(
            "A StyleGAN2 .pkl / .pt / .safetensors file (loaded without running code)")
        self.open_generator.clicked.connect(self.choose_generator_file)
        gen = QGroupBox("Generator")
        gl = QVBoxLayout(gen)
        gl.addWidget(self.generator)
        gl.addWidget(self.open_generator)

        # face points and inversion
        self.pick_button = QPushButton("Click eyes and mouth")
        self.pick_button.setCheckable(True)
        self.pick_button.toggled.connect(self._on_pick)
        self.find_face_button = QPushButton("Find face")
        self.find_face_button.setToolTip("Place the eyes and mouth with the face model (drag to correct); "
                                         "in a group photo, click again for the next face")
        self.find_face_button.clicked.connect(lambda: self.controller.spawn(self.find_face()))
        self.reset_points = QPushButton("Reset")
        self.reset_points.clicked.connect(self.clear_points)
        self.points_label = QLabel()
        self.steps = QSpinBox()
        self.steps.setRange(10, 5000)
        self.steps.setValue(200)
        self.finetune = QSpinBox()
        self.finetune.setRange(0, 2000)
        self.finetune.setValue(0)
        self.finetune.setToolTip("Generator fine-tuning steps after the latent fit (more fidelity, slower)")
        self.invert_button = QPushButton("Invert")
        self.invert_button.clicked.connect(lambda: self.controller.spawn(self.invert()))
        face = QGroupBox("Face")
        fl = QFormLayout(face)
        row = QHBoxLayout()
        row.addWidget(self.find_face_button)
        row.addWidget(self.pick_button)
        row.addWidget(self.reset_points)
        fl.addRow(row)
        fl.addRow(self.points_label)
        fl.addRow("Steps", self.steps)
        fl.addRow("Fine-tune", self.finetune)
        fl.addRow(self.invert_button)

        # previews
        self.aligned_view = QLabel()
        self.preview = QLabel()
        for lab in (self.aligned_view, self.preview):
            lab.setFixedSize(SHOWN_PX, SHOWN_PX)
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lab.setStyleSheet("background: #2a2a2e; color: #8a8f98;")
        self.aligned_view.setText("aligned crop")
        self.preview.setText("preview")
        self.status = QLabel()
        self.status.setWordWrap(True)
        prev = QGridLayout()
        prev.addWidget(self.aligned_view, 0, 0)
        prev.addWidget(self.preview, 0, 1)
        prev.addWidget(self.status, 1, 0, 1, 2)

        # directions
        self.sliders_box = QWidget()
        self.sliders_form = QFormLayout(self.sliders_box)
        self.sliders_form.setContentsMargins(0, 0, 0, 0)
        self.import_button = QPushButton("Import direction…")
        self.import_button.setToolTip("An InterFaceGAN boundary (.npy) or saved Lucid directions (.json)")
        self.import_button.clicked.connect(self.import_direction)
        self.reset_sliders = QPushButton("Zero")
        self.reset_sliders.clicked.connect(self.zero_sliders)
        self.apply_button = QPushButton("Apply")
        self.apply_button.clicked.connect(lambda: self.controller.spawn(self.apply()))
        dirs = QGroupBox("Edit directions")
        dl = QVBoxLayout(dirs)
        dl.addWidget(self.sliders_box)
        brow = QHBoxLayout()
        brow.addWidget(self.import_button)
        brow.addWidget(self.reset_sliders)
        dl.addLayout(brow)
        dl.addWidget(self.apply_button)

        lay = scroll_body(self)
        lay.addWidget(gen)
        lay.addWidget(face)
        lay.addLayout(prev)
        lay.addWidget(dirs)
        lay.addStretch(1)

        self._render_finished.connect(self._on_render_finished)
        if controller.runner is not None:
            controller.runner.jobChanged.connect(self._on_job)
        window.active_document_changed.connect(self._on_document)
        window.tool_state.events.tool.connect(self._on_tool_kind)
        self.refresh_generators()
        controller.add_panel(self.TITLE, self)
        self._on_document(window.current_doc())

    # -- generator ---------------------------------------------------------------------------------
    def refresh_generators(self) -> None:
        """Installed latent models from the store, then files the user opened this session."""
        current = self.generator.currentData()
        files = [self.generator.itemData(i) for i in range(self.generator.count())
                 if isinstance(self.generator.itemData(i), dict) and "file" in self.generator.itemData(i)]
        self.generator.clear()
        store = self.controller.store
        for info in (store.list() if store is not None else []):
            if info.task == TASK and info.installed:
                self.generator.addItem(info.name, {"model_id": info.id})
        for f in files:
            self.generator.addItem(Path(f["file"]).name, f)
        if self.generator.count() == 0:
            self.generator.addItem("No generator — open a file or install one (AI → Models…)", None)
        i = self.generator.findData(current)
        self.generator.setCurrentIndex(max(0, i))

    def set_generator_file(self, path: Path | str) -> None:
        data = {"file": str(Path(path))}
        if self.generator.findData(data) < 0:
            if self.generator.count() == 1 and self.generator.itemData(0) is None:
                self.generator.clear()
            self.generator.addItem(Path(path).name, data)
            self.generator.setItemData(self.generator.count() - 1, str(path), Qt.ItemDataRole.ToolTipRole)
        self.generator.setCurrentIndex(self.generator.findData(data))

    def choose_generator_file(self) -> None:
        paths = self.window.prompts.open_paths(None)
        if paths:
            self.set_generator_file(paths[0])

    def _generator_params(self) -> tuple[dict[str, Any], str | None]:
        data = self.generator.currentData()
        if not data:
            raise LucidError("Choose a face generator first: open a generator file or install one in Models.")
        if "file" in data:
            return {"generator": data["file"]}, None
        return {}, data["model_id"]

    # -- face points -------------------------------------------------------------------------------
    def points(self, doc: Document) -> FacePoints:
        p = self._points.get(doc)
        if p is None:
            p = self._points[doc] = FacePoints()
        return p

    def _on_document(self, doc: Document | None) -> None:
        if self._markers is not None:
            self._markers.remove()
            self._markers = None
        if self._marked is not None:
            self._marked.changed.disconnect(self._show_points)
            self._marked = None
        tab = self.window.current_tab()
        if doc is not None and tab is not None:
            self._markers = Markers(tab.view.scene())
            self._marked = self.points(doc)
            self._marked.changed.connect(self._show_points)
            if self.pick_button.isChecked():
                self._install_picker()
        self._show_points()

    def _show_points(self) -> None:
        doc = self.window.current_doc()
        pts = self.points(doc) if doc is not None else None
        if self._markers is not None and pts is not None:
            self._markers.show(pts.points)
        if pts is None:
            self.points_label.setText("Open a photo with a face.")
        elif pts.complete:
            self.points_label.setText("Eyes and mouth set (click again to move the nearest one).")
        else:
            self.points_label.setText(f"Click the {pts.next_name()} on the photo.")
        self.invert_button.setEnabled(pts is not None and pts.complete)
        self.find_face_button.setEnabled(pts is not None and self.face_model() is not None)

    def _on_pick(self, on: bool) -> None:
        tab = self.window.current_tab()
        if tab is None:
            return
        if on:
            self._install_picker()
        elif isinstance(tab.view.tool, PointPickTool):
            from editor.ui.tools import make_tool

            tab.view.set_tool(make_tool(self.window.tool_state.tool, tab.view))

    def _install_picker(self) -> None:
        tab = self.window.current_tab()
        if tab is None:
            return
        from editor.ui.tool_state import ToolKind

        st = self.window.tool_state
        if st.tool == ToolKind.HAND:  # the hand pans before any tool sees the click
            self._installing = True
            try:
                st.tool = ToolKind.RECT
            finally:
                self._installing = False
        doc = tab.doc
        tab.view.set_tool(PointPickTool(tab.view, lambda x, y: self.points(doc).click(x, y),
                                        lambda i, x, y: self.points(doc).move(i, x, y)))

    def _on_tool_kind(self, *_: Any) -> None:
        """Another tool was picked: the canvas replaced the point picker."""
        if not self._installing:
            self.pick_button.setChecked(False)

    def face_model(self) -> str | None:
        store = self.controller.store
        try:
            return FACE_MODEL if store is not None and store.get(FACE_MODEL).installed else None
        except LucidError:
            return None

    async def find_face(self) -> bool:
        """Detect the face (detector → mesh → eyes and mouth), show the points and let the user drag them."""
        doc = self.window.current_doc()
        model = self.face_model()
        if doc is None:
            return False
        if model is None:
            self.window.show_message("Install the face model (AI → Models… → MediaPipe Face Mesh), "
                                     "or click the eyes and mouth.")
            return False
        request = Request(task="faces", image=self.controller.snapshot(doc, channels=3), model_id=model)
        result = await self.controller.run(request)
        if result is None or not self.controller.is_open(doc):
            return False
        faces = result.info.get("faces") or []
        if not faces:
            self.window.show_message("No face was found: click the eyes and mouth on the photo.")
            return False
        index = chosen_face(faces, self.points(doc).points, doc.selection)
        self.points(doc).set(faces[index]["eyes"], faces[index]["mouth"])
        self.pick_button.setChecked(True)  # the points can be dragged right away
        if len(faces) > 1:
            self.window.show_message(f"Face {index + 1} of {len(faces)}: Find face again for the next one, "
                                     "or select around the face you want first.")
        return True

    def clear_points(self) -> None:
        doc = self.window.current_doc()
        if doc is not None:
            self.points(doc).clear()

    # -- inversion ---------------------------------------------------------------------------------
    def _base_params(self, doc: Document) -> tuple[dict[str, Any], str | None]:
        pts = self.points(doc)
        if not pts.complete:
            raise LucidError("Click both eyes and the mouth on the photo first.")
        gen, model_id = self._generator_params()
        params = {**gen, "eyes": [round(v, 2) for v in pts.eyes()],
                  "mouth": [round(v, 2) for v in pts.mouth()], "steps": self.steps.value(),
                  "finetune": self.finetune.value(), "directions": list(self.direction_files)}
        return params, model_id

    async def invert(self) -> bool:
        doc = self.window.current_doc()
        if doc is None:
            return False
        try:
            params, model_id = self._base_params(doc)
        except LucidError as exc:
            self.window.prompts.error(exc.message, exc.detail)
            return False
        self.close_session()
        request = Request(task=TASK, image=self.controller.snapshot(doc), model_id=model_id,
                          params={**params, "action": "invert"}, seed=0)
        self._invert_id = request.id
        self.status.setText("Inverting…")
        result = await self.controller.run(request)
        self._invert_id = None
        if result is None:
            self.status.setText("")
            return False
        self.session = str(result.info["session"])
        self.session_doc = weakref.ref(doc)
        self.session_params = params
        self.session_model = model_id
        self.aligned_view.setPixmap(to_pixmap(result.images["aligned"]))
        self.preview.setPixmap(to_pixmap(result.images["crop"]))
        psnr = result.info.get("psnr_final")
        self.status.setText(f"Inverted (fit {psnr:.1f} dB). Move the sliders, then Apply." if psnr is not None
                            else "Inverted. Move the sliders, then Apply.")
        self._build_sliders([d["name"] for d in result.info.get("directions", [])])
        return True

    def _on_job(self, job: Job) -> None:
        """Inversion previews (every few steps) show in the preview box."""
        if job.id == self._invert_id and job.progress is not None and job.progress.preview is not None:
            self.preview.setPixmap(to_pixmap(job.progress.preview))

    def close_session(self) -> None:
        """Tell the worker to forget the current session (fire and forget)."""
        if self.session is not None and self.controller.runner is not None:
            close = Request(task=TASK, params={"action": "close", "session": self.session})
            self.controller.runner.submit(close)
        self.session = None
        self._build_sliders([])

    # -- sliders and live preview ------------------------------------------------------------------
    def _build_sliders(self, names: list[str]) -> None:
        while self.sliders_form.rowCount():
            self.sliders_form.removeRow(0)
        self.sliders = {}
        for name in names[:MAX_SLIDERS]:
            s = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
            s.setRange(-SLIDER_RANGE, SLIDER_RANGE)
            s.setDecimals(1)
            s.setValue(0.0)
            s.valueChanged.connect(self._slider_moved)
            self.sliders_form.addRow(name, s)
            self.sliders[name] = s
        has = bool(self.sliders)
        for w in (self.apply_button, self.reset_sliders):
            w.setEnabled(has)

    def edits(self) -> dict[str, float]:
        return {n: round(float(s.value()), 3) for n, s in self.sliders.items() if abs(s.value()) > 1e-6}

    def zero_sliders(self) -> None:
        for s in self.sliders.values():
            s.blockSignals(True)
            s.setValue(0.0)
            s.blockSignals(False)
        self._slider_moved()

    @qthrottled(timeout=80)
    def _slider_moved(self, *_: Any) -> None:
        self.request_render()

    def request_render(self) -> Job | None:
        """One fast preview render; while one is in flight only the latest amounts are remembered."""
        if self.session is None or self.controller.runner is None:
            return None
        if self._render_job is not None:
            self._render_again = True
            return None
        params = {"action": "render", "session": self.session, "edits": self.edits(), "size": PREVIEW_PX}
        request = Request(task=TASK, params=params, background=True)
        job = self.controller.runner.submit(request, priority=True)
        self._render_job = job
        self.renders_sent += 1
        job.future.add_done_callback(lambda _f, j=job: self._render_finished.emit(j))
        return job

    def _on_render_finished(self, job: Job) -> None:
        if job is not self._render_job:
            return
        self._render_job = None
        fut = job.future
        if not fut.cancelled() and fut.exception() is None:
            self.preview.setPixmap(to_pixmap(fut.result().images["crop"]))
        elif fut.exception() is not None:
            exc = fut.exception()
            self.status.setText(getattr(exc, "message", str(exc)))
            if "expired" in self.status.text():
                self.session = None
        if self._render_again:
            self._render_again = False
            self.request_render()

    # -- directions --------------------------------------------------------------------------------
    def import_direction(self) -> None:
        paths = self.window.prompts.open_paths(None)
        if not paths:
            return
        for p in paths:
            if str(p) not in self.direction_files:
                self.direction_files.append(str(p))
        names = ", ".join(Path(p).name for p in paths)
        self.status.setText(f"Imported {names}: invert again to add its slider." if self.session
                            else f"Imported {names}: its slider appears after Invert.")

    # -- apply -------------------------------------------------------------------------------------
    async def apply(self) -> ResultLayer | None:
        doc = self.session_doc() if self.session_doc is not None else None
        if self.session is None or doc is None or not self.controller.is_open(doc):
            self.window.prompts.error("Invert a face first.")
            return None
        edits = self.edits()
        request = Request(task=TASK, image=self.controller.snapshot(doc),
                          params={"action": "apply", "session": self.session, "edits": edits},
                          model_id=self.session_model)
        result = await self.controller.run(request)
        if result is None or not self.controller.is_open(doc):
            return None
        # the recipe re-runs from scratch ("edit": align → invert → edit), so it holds no session id
        params = {**self.session_params, "action": "edit", "edits": edits,
                  "result": result.info.get("recipe", {})}
        recipe = self.controller.recipe_for(request, result, params=params,
                                            source_ids=self.controller.source_ids(doc))
        recipe.seed = 0
        amounts = ", ".join(f"{k} {v:+.1f}" for k, v in edits.items()) or "reconstruction"
        mask = result.mask if result.mask is not None else None
        return self.controller.add_result_layer(doc, result.image, name=f"Latent edit ({amounts})",
                                                recipe=recipe, mask=mask)
