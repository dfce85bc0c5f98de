"""Every dialog the app opens goes through these functions, so tests can replace them.

`show_error` never blocks: the box is window-modal and opened with `open()`, so a test or a script that
triggers an error keeps running. `install_excepthook` routes unexpected exceptions (from any Qt slot)
to the log and to `show_error`, and the app keeps running.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

log = logging.getLogger("seqviz")

MODEL_FILE_FILTER = "Model files (*.safetensors *.pt *.pth *.bin *.ckpt);;All files (*)"
TRACE_FILE_FILTER = "seqviz traces (*.npz);;All files (*)"


def show_error(parent: QWidget | None, title: str, message: str, detail: str | None = None) -> None:
    """Show an error box without blocking. A second error while one is open is added to it."""
    box = getattr(parent, "_seqviz_error_box", None) if parent is not None else None
    if isinstance(box, QMessageBox) and box.isVisible():
        box.setText(f"{box.text()}\n\n{title}: {message}")
        return
    box = QMessageBox(QMessageBox.Icon.Critical, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    if detail:
        box.setDetailedText(detail)
    if parent is not None:
        parent._seqviz_error_box = box
    box.open()


def choose_file(parent: QWidget | None, title: str, file_filter: str) -> str | None:
    """Ask for a file to open; None if the person cancels."""
    path, _ = QFileDialog.getOpenFileName(parent, title, "", file_filter)
    return path or None


def install_excepthook(parent: QWidget | None) -> Callable:
    """Log every unexpected exception with its traceback and show it in an error box.

    Returns the previous hook, so a test can put it back.
    """
    previous = sys.excepthook

    def hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
            return
        detail = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("unexpected error\n%s", detail)
        try:
            # Looked up on the module each time, so tests can replace it.
            sys.modules[__name__].show_error(
                parent, "Unexpected error", f"{exc_type.__name__}: {exc}", detail
            )
        except Exception:  # never let the hook itself raise: that would lose the original error
            log.exception("could not show the error dialog")

    sys.excepthook = hook
    return previous
