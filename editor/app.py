"""Composition root of the desktop app: QApplication, the qasync loop, settings, the main window.

Nothing here imports torch: the inference service is built lazily by the integrator and handed to
`MainWindow(services=...)` (see `build_services`). Keep this path fast (startup target ≤ 2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from editor import __version__


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="lucid", description="Lucid photo editor.")
    parser.add_argument("files", nargs="*", type=Path, help="images or .ora projects to open")
    parser.add_argument("--self-test", action="store_true", help="check the installation and exit")
    parser.add_argument("--no-sample", action="store_true", help="start with an empty window")
    return parser.parse_args(list(argv))


def build_services(settings: Any) -> Any:
    """Hook for the inference wiring: return the service/job-runner bundle for MainWindow, or None.

    Must not import torch at call time; the service should import it lazily on its worker thread.
    """
    return None


def run_self_test() -> int:
    """Reserved for the packaging issue's installation check."""
    print("lucid: --self-test is not implemented in this build", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        return run_self_test()

    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from editor.core.errors import LucidError
    from editor.core.settings import Settings, load_settings
    from editor.ui.icons import ICONS, SAMPLE_PHOTO
    from editor.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(["lucid"])
    app.setApplicationName("Lucid")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(QIcon(str(ICONS / "lucid.svg")))

    settings_error: LucidError | None = None
    try:
        settings = load_settings()
    except LucidError as exc:  # a broken settings file must not stop the editor from starting
        settings, settings_error = Settings(), exc

    window = MainWindow(settings, services=build_services(settings))
    window.show()
    if settings_error is not None:
        window.prompts.error(settings_error.message + " Using the defaults.", settings_error.detail)

    files = list(args.files)
    if not files and not args.no_sample and SAMPLE_PHOTO.is_file():
        files = [SAMPLE_PHOTO]
    if files:
        QTimer.singleShot(0, lambda: window.open_paths(files))

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    app.lastWindowClosed.connect(app.quit)
    try:
        with loop:
            loop.run_until_complete(closed.wait())
    finally:  # leave the QApplication as we found it (tests run main() more than once)
        app.aboutToQuit.disconnect(closed.set)
        app.lastWindowClosed.disconnect(app.quit)
        asyncio.set_event_loop(None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
