"""PySide6 widgets. Importing this package applies the Qt binding workarounds in `qt_compat`."""

from editor.ui.qt_compat import immortalise_none

immortalise_none()
