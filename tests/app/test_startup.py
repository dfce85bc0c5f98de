"""Start-up: the default demo's stored trace is on screen before its model has loaded, stepping works at
once, and the loaded model's own trace takes over without a change on screen; a stored trace that is
not what the model computes is replaced; text typed meanwhile runs once the model is there."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from traces import shown

from seqviz.app import MainWindow
from seqviz.core import trace_cache
from seqviz.core.trace import Trace
from seqviz.demos import catalogue

LOAD_MS = 60_000


@pytest.fixture
def default_entry():
    return catalogue.find(catalogue.default_id())


def started(qtbot, **start) -> MainWindow:
    window = shown(qtbot, MainWindow(lazy_panels=True), (1200, 700))
    window.start(**start)
    return window


def test_the_default_demo_steps_before_its_model_has_loaded(qtbot, dialog_log, default_entry):
    window = started(qtbot)
    assert window.session.model is None  # the model loads in the background
    assert window.trace is not None and window.dock_area.panels
    assert window.text == default_entry.examples[0]
    assert window.toolbar.model_combo.currentText().startswith(default_entry.id)
    assert "Loading the model" in window.status_model.text()
    window.commands.forward.trigger()
    window.commands.forward.trigger()
    assert window.step == 3 and window.toolbar.step_label.text() == f"step 3 / {window.num_steps}"
    window.viewer.selection.set_units([7])
    stored = window.trace
    qtbot.waitUntil(lambda: window.is_ready, timeout=LOAD_MS)
    assert window.session.model.source == default_entry.id and not dialog_log
    # the model's own trace was identical: the panels keep what they show, the step and the units
    assert window.session.run.trace is stored and window.trace is stored
    assert window.step == 3 and window.viewer.selection.units == (7,)
    assert window.status_model.text() == window.session.model.label


def test_a_stored_trace_unlike_the_models_own_is_replaced_and_rewritten(qtbot, dialog_log, default_entry):
    good = trace_cache.find(default_entry.path, default_entry.examples[0])
    hidden = np.array(good["hidden"])
    hidden[0] += 0.5  # e.g. written by an older version of the tracing code
    wrong = Trace({**good, "hidden": hidden}, good.tokens, good.meta)
    trace_cache.store(default_entry.path, default_entry.examples[0], wrong)
    window = started(qtbot)
    assert np.array_equal(window.trace["hidden"], hidden)  # shown while the model loads ...
    qtbot.waitUntil(lambda: window.is_ready, timeout=LOAD_MS)
    assert trace_cache.same_trace(window.trace, good)  # ... then the model's own numbers
    assert window.panels["hidden"].trace is window.trace
    cached = trace_cache.find(default_entry.path, default_entry.examples[0])
    assert trace_cache.same_trace(cached, good)


def test_the_last_model_and_text_start_from_the_cache(qtbot, dialog_log):
    first = started(qtbot, model="sentiment-gru", text="the food was really bad", wait=True)
    assert first.session.model.source == "sentiment-gru"
    first.close()  # remembers the model and the text
    window = started(qtbot)
    assert window.session.model is None and window.text == "the food was really bad"
    assert window.trace is not None and window.trace.meta.model_id == "sentiment-gru"
    qtbot.waitUntil(lambda: window.is_ready, timeout=LOAD_MS)
    assert window.session.run.trace is window.trace


def test_text_typed_while_the_model_loads_runs_once_it_is_loaded(qtbot, dialog_log):
    window = started(qtbot)
    window.toolbar.text_edit.setText("naci en francia . hablo")
    window.toolbar.text_edit.returnPressed.emit()
    assert window.status_model.text().startswith("Loading the model")
    assert not window.notices.notes  # no "No model is loaded"
    qtbot.waitUntil(
        lambda: window.run is not None and window.run.text == "naci en francia . hablo", timeout=LOAD_MS
    )
    assert window.trace.tokens == ["naci", "en", "francia", ".", "hablo"]


def test_a_script_that_sets_text_while_the_model_loads_waits_for_it(qtbot, dialog_log):
    window = started(qtbot)
    qtbot.waitUntil(lambda: window.session.jobs.busy, timeout=LOAD_MS)  # the load has started
    assert window.set_text("i was born in spain . i speak fluent")
    assert window.trace.tokens[-1] == "fluent" and not dialog_log


def test_a_model_without_a_stored_trace_loads_as_before(qtbot, dialog_log):
    window = started(qtbot, model="pos-gru")
    assert window.trace is None
    qtbot.waitUntil(lambda: window.is_ready, timeout=LOAD_MS)
    assert window.session.model.source == "pos-gru" and window.trace is window.run.trace


def test_torch_libraries_load_before_the_import_and_torch_works_after():
    code = (
        "import sys; from seqviz.app.viewer import torch_import as t; "
        "first = t.preload_libraries(); import torch; "
        "print(first, t.preload_libraries(), bool(torch.nn.LSTM(3, 4)(torch.ones(2, 3))[0].isfinite().all()))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    preloaded = sys.platform.startswith("linux")
    assert result.stdout.split() == [str(preloaded), "False", "True"]  # once torch is in, nothing to do


ORDER_DRIVER = r"""
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
from seqviz.app.viewer import torch_import

app = QApplication(sys.argv[:1])
seen = {"trace": False, "painted": False}

class Paints(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and seen["trace"]:
            from seqviz.app.panels.heatmap import PlotCanvas
            seen["painted"] = seen["painted"] or isinstance(obj.parent(), PlotCanvas)
        return False

def on_trace(_trace):
    if not seen["trace"]:
        seen["trace"] = True
        print("trace-shown torch-imported=" + str("torch" in sys.modules), flush=True)

preload = torch_import.preload_libraries
def watched_preload():
    print(f"model-load-starts trace={seen['trace']} panels-painted={seen['painted']}", flush=True)
    return preload()
torch_import.preload_libraries = watched_preload

def hook():
    from seqviz.app.window.main_window import MainWindow
    window = next((w for w in app.topLevelWidgets() if isinstance(w, MainWindow)), None)
    if window is None:
        QTimer.singleShot(2, hook)
        return
    window.traceShown.connect(on_trace)

paints = Paints()
app.installEventFilter(paints)
QTimer.singleShot(0, hook)
from seqviz.cli import main
sys.exit(main(["--smoke"]))
"""


def test_the_default_demo_is_painted_before_torch_is_imported(tmp_path):
    """The launch order the start-up time rests on: the window shows the default demo's stored trace
    without torch, and the panels have painted it before the model's load starts importing torch in
    its worker (an import at the window's construction took 2-3 s from every start; one beside the
    first paint doubled it)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SEQVIZ_SETTINGS_DIR": str(tmp_path / "settings")}
    result = subprocess.run(
        [sys.executable, "-c", ORDER_DRIVER], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith(("trace-shown", "model-load"))]
    assert lines == ["trace-shown torch-imported=False", "model-load-starts trace=True panels-painted=True"]
