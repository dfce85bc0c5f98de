"""seqviz.show(model_or_trace, text=None): blocking in a plain script (until the window is closed),
returning at once under IPython's `%gui qt` or inside a running Qt event loop."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import torch
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
from traces import lstm_trace

import seqviz
from seqviz.app.show import event_loop_running
from seqviz.app.window.main_window import MainWindow


def open_windows() -> list[MainWindow]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]


def close_soon(seen: list) -> None:
    """After the window is up and the loop runs: note what it shows, then close it (as a person would)."""

    def close() -> None:
        windows = open_windows()
        seen.extend((w, w.trace, w.model, w.text) for w in windows)
        for window in windows:
            window.close()

    QTimer.singleShot(300, close)


@pytest.fixture
def no_leftover_windows(qtbot):
    yield
    for window in open_windows():
        window.close()


def test_a_script_blocks_until_the_window_is_closed_and_sees_the_trace(qtbot, no_leftover_windows):
    trace = lstm_trace(T=9)
    seen: list = []
    close_soon(seen)
    window = seqviz.show(trace)
    assert seen, "show() returned before its window was closed"
    shown, shown_trace, _model, _text = seen[0]
    assert shown is window and shown_trace is trace
    assert not window.isVisible() and window.num_steps == 9


def test_a_torch_module_and_a_text_open_in_the_window(qtbot, no_leftover_windows):
    lstm = torch.nn.LSTM(4, 6, num_layers=2)
    seen: list = []
    close_soon(seen)
    window = seqviz.show(lstm, "hello")
    _shown, trace, model, text = seen[0]
    assert model.module is lstm and text == "hello"
    assert trace.num_steps == 5 and trace["hidden"].shape == (5, 2, 1, 6)
    expected = seqviz.trace(lstm, "hello")["hidden"]
    np.testing.assert_allclose(trace["hidden"], expected, atol=1e-6)
    assert window.model is model


def test_under_ipython_gui_qt_show_returns_at_once(qtbot, monkeypatch, no_leftover_windows):
    shell = types.SimpleNamespace(active_eventloop="qt")
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    assert event_loop_running()
    trace = lstm_trace(T=4)
    window = seqviz.show(trace)
    assert window.isVisible() and window.trace is trace  # returned with the window still open
    window.close()
    shell.active_eventloop = None  # IPython without %gui qt: a script again
    assert not event_loop_running()


def test_inside_a_running_qt_loop_show_returns_at_once(qtbot, no_leftover_windows):
    trace = lstm_trace(T=4)
    loop, opened = QEventLoop(), []

    def call_show() -> None:
        opened.append(seqviz.show(trace))  # returns: the running loop keeps the window alive
        loop.quit()

    QTimer.singleShot(0, call_show)
    QTimer.singleShot(10_000, loop.quit)  # a blocked call would otherwise hang the test run
    loop.exec()
    assert opened and opened[0].isVisible() and opened[0].trace is trace


def test_bad_input_raises_before_any_window(qtbot):
    before = len(open_windows())
    with pytest.raises(seqviz.ModelFileError, match="no-such-model"):
        seqviz.show("no-such-model")
    with pytest.raises(TypeError, match="cannot trace a dict"):
        seqviz.show({"not": "a model"})
    with pytest.raises(ValueError, match="text= goes with a model"):
        seqviz.show(lstm_trace(T=3), "some text")
    assert len(open_windows()) == before
