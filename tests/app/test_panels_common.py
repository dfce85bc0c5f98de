"""All panels: the registry, messages, stepping through every kind of trace, themes, no feedback loops."""

from itertools import permutations

import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow
from traces import (
    encoder_decoder_trace,
    gru_trace,
    lstm_trace,
    open_panel,
    rnn_trace,
    transformer_trace,
)

from seqviz.app.panels import PANEL_CLASSES
from seqviz.app.viewer.model import ViewerModel
from seqviz.app.window.theme import THEMES, current_theme

TRACES = {
    "lstm": lambda: lstm_trace(T=9, bidirectional=True),
    "gru": lambda: gru_trace(T=9, task="tag"),
    "rnn": lambda: rnn_trace(T=9, task="classify"),
    "transformer": lambda: transformer_trace(T=9),
    "encoder-decoder": lambda: encoder_decoder_trace(T=6, S=7),
}
APPLIES = {  # which panels show data for which trace (gradients: rows computed by the window when
    # the trace has no input_gradient_norm)
    "lstm": {"hidden", "gates", "output", "units", "gradients"},
    "gru": {"hidden", "gates", "output", "units", "gradients"},
    "rnn": {"hidden", "output", "units", "gradients"},
    "transformer": {"hidden", "attention", "output", "units", "gradients"},
    "encoder-decoder": {"hidden", "attention", "output", "units", "gradients"},
}


def test_registry_order_and_names():
    names = ["hidden", "gates", "attention", "output", "units", "gradients"]
    assert [cls.name for cls in PANEL_CLASSES] == names
    assert all(cls.title and cls.title != "Panel" for cls in PANEL_CLASSES)


@pytest.mark.parametrize("kind", list(TRACES))
def test_every_panel_steps_through_every_trace(qtbot, kind):
    trace = TRACES[kind]()
    viewer = ViewerModel()
    panels = [open_panel(qtbot, cls, trace, size=(500, 400), viewer=viewer)[1] for cls in PANEL_CLASSES]
    assert {p.name for p in panels if p.message is None} == APPLIES[kind]
    for p in panels:
        assert p.message is None or len(p.message.splitlines()) == 1
    emitted = []
    viewer.cursor.stepChanged.connect(emitted.append)
    viewer.selection.set_units((1,))
    for step in range(1, trace.num_steps + 1):
        viewer.cursor.set_step(step)
    assert emitted == list(range(1, trace.num_steps + 1))  # panels never write the step back


def test_panels_switch_between_models_of_different_sizes(qtbot):
    viewer = ViewerModel()
    first, second = lstm_trace(T=12, hidden_size=24), transformer_trace(T=7, d_model=16, num_heads=2)
    panels = [open_panel(qtbot, cls, first, viewer=viewer)[1] for cls in PANEL_CLASSES]
    viewer.selection.set_units((20,))
    for trace in (second, first, second):
        viewer.cursor.set_num_steps(trace.num_steps)
        for panel in panels:
            panel.set_trace(trace)
        viewer.cursor.set_step(trace.num_steps)
    assert {p.name for p in panels if p.message is None} == APPLIES["transformer"]
    assert panels[0].heatmap.image.image.shape == (16, 7)


def test_no_model_message(qtbot):
    for cls in PANEL_CLASSES:
        _, panel = open_panel(qtbot, cls, None)
        assert panel.message == "No model loaded."


def test_state_from_a_bigger_model_is_clamped(qtbot):
    viewer = ViewerModel()
    viewer.selection.set_layer(5)
    viewer.selection.set_head(7)
    viewer.selection.set_direction(1)
    for trace in (transformer_trace(T=5, num_layers=2, num_heads=2), lstm_trace(T=5, num_layers=1)):
        for cls in PANEL_CLASSES:
            _, panel = open_panel(qtbot, cls, trace, viewer=viewer)
            assert (panel.message is None) == (cls.name in APPLIES[trace.arch])


def test_theme_switch_restyles_open_panels(qtbot, theme):
    _, panel = open_panel(qtbot, PANEL_CLASSES[0], lstm_trace(T=5))
    theme("dark")
    assert panel.canvas.backgroundBrush().color().name() == THEMES["dark"].background
    theme("presentation")
    assert current_theme().font_size > THEMES["light"].font_size
    theme("light")
    assert panel.canvas.backgroundBrush().color().name() == "#ffffff"
    with pytest.raises(ValueError, match="unknown theme"):
        theme("neon")


class _LayoutRequests(QObject):
    """Counts layout requests anywhere in the application (widgets and plot items)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt)
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def _settle(qtbot, counter: _LayoutRequests, rounds: int = 100) -> None:
    """Process events until three waits in a row bring no layout request."""
    quiet, last = 0, -1
    for _ in range(rounds):
        qtbot.wait(10)
        quiet, last = (quiet + 1, last) if counter.count == last else (0, counter.count)
        if quiet == 3:
            return


@pytest.mark.parametrize("kind", ["lstm", "gru", "transformer", "encoder-decoder"])
def test_a_step_never_lays_the_panels_out_again(qtbot, kind):
    """A layout per step climbs dock by dock to the main window and re-lays out everything (a step
    cost 1.7x a repaint); per-step texts (equation, header, footer, output labels) keep their size."""
    trace = TRACES[kind]()
    viewer = ViewerModel()
    viewer.cursor.set_num_steps(trace.num_steps)
    window = QMainWindow()
    qtbot.addWidget(window)
    for cls in PANEL_CLASSES:  # docked as in the app: a top-level panel hides the problem
        panel = cls(viewer)
        dock = QDockWidget(panel.title)
        dock.setWidget(panel)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        panel.set_trace(trace)
    window.resize(1000, 1400)
    window.show()
    qtbot.waitExposed(window)
    viewer.selection.set_units((2,))
    viewer.cursor.set_step(1)
    counter = _LayoutRequests()
    QApplication.instance().installEventFilter(counter)
    try:
        _settle(qtbot, counter)  # the first paints widen axes to their tick labels: layouts, once
        counter.count = 0
        for step in range(2, trace.num_steps + 1):
            viewer.cursor.set_step(step)
            QApplication.processEvents()
    finally:
        QApplication.instance().removeEventFilter(counter)
    assert counter.count == 0


def _pixels(widget):
    import numpy as np

    QApplication.processEvents()  # deferred re-fits after a theme change
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes()).reshape(image.height(), -1)
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).astype(int)  # (h, w, rgb)


@pytest.mark.parametrize(("start", "switch_to"), list(permutations(THEMES, 2)))
@pytest.mark.parametrize("kind", ["lstm", "encoder-decoder"])
def test_a_live_theme_switch_draws_what_a_fresh_start_draws(qtbot, theme, start, switch_to, kind):
    """Switching View > Theme while a trace is shown must give the picture of starting in that theme
    (axes had kept the old font's tick text size: numbers vanished, plots overflowed narrow docks)."""
    trace = TRACES[kind]()
    theme(start)
    live = [open_panel(qtbot, cls, trace, size=(620, 360))[1] for cls in PANEL_CLASSES]
    for panel in live:
        panel.selection.set_units((2,))
    theme(switch_to)
    for panel in live:
        fresh = open_panel(qtbot, type(panel), trace, size=(620, 360))[1]
        fresh.viewer.selection.set_units((2,))
        differing = (abs(_pixels(panel) - _pixels(fresh)).sum(axis=-1) > 30).sum()
        # near-exact: a cosmetic outline may keep one antialiased pixel column at a view's edge
        # (the failures this guards against differ in hundreds to tens of thousands of pixels)
        assert differing <= 20, f"{panel.name}: {differing} pixels differ"
