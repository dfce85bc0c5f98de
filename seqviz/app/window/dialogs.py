"""Every dialog the app opens goes through these functions.

`show_error` reports an error. By default it shows a box that never blocks: the box is window-modal and
opened with `open()`, so a script that triggers an error keeps running. `set_error_handler` sends the
reports somewhere else instead (headless export turns them into its exit status; tests record them).
`install_excepthook` routes unexpected exceptions (from any Qt slot) to the log and to `show_error`, and
the app keeps running.
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
ERROR_BOX_NAME = "seqvizErrorBox"

#: receives (title, message, detail) for every error the app reports
ErrorHandler = Callable[[str, str, "str | None"], None]

_error_handler: ErrorHandler | None = None
# A box without a parent belongs to Python: it is kept here while open, or it would vanish at once.
_parentless_boxes: set[QMessageBox] = set()


def set_error_handler(handler: ErrorHandler | None) -> ErrorHandler | None:
    """Send every error report to `handler(title, message, detail)` instead of a box; None shows boxes
    again. Returns the handler it replaces, so the caller can put it back."""
    global _error_handler
    previous, _error_handler = _error_handler, handler
    return previous


def show_error(parent: QWidget | None, title: str, message: str, detail: str | None = None) -> None:
    """Report an error: to the error handler if one is set, else in a box over `parent`, without
    blocking. A second error while a box is open is added to it."""
    if _error_handler is not None:
        _error_handler(title, message, detail)
    else:
        _show_error_box(parent, title, message, detail)


def _show_error_box(parent: QWidget | None, title: str, message: str, detail: str | None) -> None:
    box = _open_error_box(parent)
    if box is not None:
        box.setText(f"{box.text()}\n\n{title}: {message}")
        if detail:
            box.setDetailedText("\n\n".join(t for t in (box.detailedText(), detail) if t))
        return
    box = QMessageBox(QMessageBox.Icon.Critical, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName(ERROR_BOX_NAME)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    if detail:
        box.setDetailedText(detail)
    if parent is None:
        _parentless_boxes.add(box)
        box.finished.connect(lambda _result: _parentless_boxes.discard(box))
    box.open()


def _open_error_box(parent: QWidget | None) -> QMessageBox | None:
    """The error box open over `parent`, if any.

    Looked up among Qt's live children each time rather than remembered: a box deletes itself when it
    is closed, and a remembered Python wrapper then raised "Internal C++ object already deleted" at
    the next error, so no box was shown again for the rest of the session."""
    if parent is None:
        boxes = list(_parentless_boxes)
    else:
        boxes = parent.findChildren(QMessageBox, ERROR_BOX_NAME, Qt.FindChildOption.FindDirectChildrenOnly)
    return next((box for box in boxes if box.isVisible()), None)


def choose_file(parent: QWidget | None, title: str, file_filter: str, folder: str = "") -> str | None:
    """Ask for a file to open, starting in `folder` ("": Qt's current folder); None if the person
    cancels."""
    path, _ = QFileDialog.getOpenFileName(parent, title, folder, file_filter)
    return path or None


def choose_folder(parent: QWidget | None, title: str) -> str | None:
    """Ask for a folder to open (e.g. a Hugging Face model folder); None if the person cancels."""
    path = QFileDialog.getExistingDirectory(parent, title, "")
    return path or None


def install_excepthook(parent: QWidget | None) -> Callable:
    """Log every unexpected exception with its traceback and report it with `show_error`.

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
            show_error(parent, "Unexpected error", f"{exc_type.__name__}: {exc}", detail)
        except Exception:  # never let the hook itself raise: that would lose the original error
            log.exception("could not show the error dialog")

    sys.excepthook = hook
    return previous
