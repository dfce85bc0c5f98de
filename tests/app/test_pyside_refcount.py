"""Regression guard: PySide6 6.12.0 on CPython 3.11 drops a reference to None on every void Qt call,
and the process aborts ("Fatal Python error: none_dealloc") after a few thousand calls."""

import sys

from PySide6.QtWidgets import QLabel


def test_void_qt_calls_do_not_leak_references_to_none(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for i in range(10_000):
        label.setText("x" if i % 2 else "y")  # a void method: returns None
    after = sys.getrefcount(None)
    # Other threads may take or drop a few references meanwhile; a leak would lose 10,000.
    assert after >= before - 100
