"""Error boxes as a person sees them: one for every error, all session long, and none when errors are
sent to a handler (headless export, tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from traces import shown

from seqviz.app import MainWindow
from seqviz.app.window import dialogs

ROOT = Path(__file__).resolve().parents[2]


def open_error_boxes() -> list[QMessageBox]:
    QApplication.processEvents()
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def dismiss(qtbot, box: QMessageBox) -> None:
    """Click OK, as a person would, and let Qt delete the box."""
    box.button(QMessageBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: not open_error_boxes())
    QApplication.sendPostedEvents()


@pytest.fixture
def window(qtbot):
    return shown(qtbot, MainWindow(), (900, 600))


def test_every_bad_file_shows_an_error_box_after_earlier_ones_were_closed(qtbot, window, tmp_path):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"not a trace")
    for _ in range(3):
        assert not window.open_trace(str(bad))
        boxes = open_error_boxes()
        assert len(boxes) == 1, "no error box on screen"
        assert boxes[0].windowTitle() == "Cannot open trace"
        dismiss(qtbot, boxes[0])


@pytest.mark.qt_no_exception_capture
def test_an_unexpected_exception_after_a_closed_box_shows_a_box(qtbot, window, tmp_path):
    previous = dialogs.install_excepthook(window)
    try:
        bad = tmp_path / "broken.npz"
        bad.write_bytes(b"not a trace")
        window.open_trace(str(bad))
        dismiss(qtbot, open_error_boxes()[0])

        def broken_slot():
            raise RuntimeError("the strip broke")

        QTimer.singleShot(0, broken_slot)
        qtbot.waitUntil(lambda: len(open_error_boxes()) == 1)
        box = open_error_boxes()[0]
        assert box.windowTitle() == "Unexpected error" and "the strip broke" in box.text()
        assert "Traceback" in box.detailedText()
        dismiss(qtbot, box)
    finally:
        sys.excepthook = previous


def test_an_error_while_a_box_is_open_is_added_to_that_box(qtbot, window):
    dialogs.show_error(window, "Cannot open model", "first problem")
    dialogs.show_error(window, "Cannot open trace", "second problem")
    boxes = open_error_boxes()
    assert len(boxes) == 1
    assert "first problem" in boxes[0].text() and "Cannot open trace: second problem" in boxes[0].text()
    dismiss(qtbot, boxes[0])
    dialogs.show_error(window, "Cannot open model", "third problem")
    assert [box.text() for box in open_error_boxes()] == ["third problem"]
    dismiss(qtbot, open_error_boxes()[0])


def test_an_error_with_no_window_still_shows_a_box_each_time(qtbot):
    for message in ("first", "second"):
        dialogs.show_error(None, "Problem", message)
        assert [box.text() for box in open_error_boxes()] == [message]
        dismiss(qtbot, open_error_boxes()[0])


def test_an_error_handler_gets_the_errors_instead_of_boxes(qtbot, window, tmp_path):
    reports = []
    previous = dialogs.set_error_handler(lambda title, message, detail=None: reports.append((title, message)))
    try:
        bad = tmp_path / "broken.npz"
        bad.write_bytes(b"not a trace")
        window.open_trace(str(bad))
        assert [title for title, _ in reports] == ["Cannot open trace"]
        assert open_error_boxes() == []
    finally:
        assert dialogs.set_error_handler(previous) is not None
    window.open_trace(str(bad))  # boxes again once the handler is gone
    assert len(open_error_boxes()) == 1 and len(reports) == 1
    dismiss(qtbot, open_error_boxes()[0])


def test_a_script_that_exported_headless_still_shows_error_boxes_in_its_windows(tmp_path):
    """Headless export sends errors to its exit status without replacing any function of the app, so a
    script (or notebook) that exports first and opens a window afterwards still sees its errors."""
    bad_model, bad_trace = tmp_path / "broken.pt", tmp_path / "broken.npz"
    bad_model.write_bytes(b"not a model")
    bad_trace.write_bytes(b"not a trace")
    script = f"""
from PySide6.QtWidgets import QApplication, QMessageBox
from seqviz.app import MainWindow
from seqviz.cli import main

code = main(["--model", {str(bad_model)!r}, "--export", {str(tmp_path / "out.png")!r}])
window = MainWindow()
window.show()
window.open_trace({str(bad_trace)!r})
QApplication.processEvents()
boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
print("exit", code, "boxes", len(boxes))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=180, cwd=ROOT
    )
    assert "exit 2 boxes 1" in result.stdout, result.stdout + result.stderr
    assert "seqviz: cannot open model" in result.stderr
