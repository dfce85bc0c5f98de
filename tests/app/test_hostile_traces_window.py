"""Traces in the window (issue 15): a diverged model's NaN and inf are shown as such, with a note, in
every panel and in a picture; a trace that breaks its contract is refused in one line before anything is
shown; a remembered model is remembered again only once it opened."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication
from traces import encoder_decoder_trace, lstm_trace, shown, transformer_trace

import seqviz
from seqviz.app import MainWindow
from seqviz.app.export.pictures import render_picture
from seqviz.app.window.settings import AppSettings
from seqviz.core.modelfile import save_model
from seqviz.core.seqmodel import fresh_model
from seqviz.core.trace import Trace
from seqviz.core.trace_check import TraceContractError
from seqviz.demos import catalogue


def diverged(trace: Trace, value: float) -> Trace:
    """`trace` with `value` (NaN, inf) from the middle step on in every float array (a model that blew up)."""
    arrays = {}
    for name in trace.names():
        array = np.array(trace[name], copy=True)
        if array.dtype.kind == "f":
            if name in ("attention", "cross_attention"):
                array[..., trace.num_steps // 2 :, :] = value
            elif array.ndim and array.shape[0] == trace.num_steps:
                array[trace.num_steps // 2 :] = value
        arrays[name] = array
    return Trace(arrays, trace.tokens, trace.meta, trace.source_tokens)


@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("make", [lstm_trace, transformer_trace, encoder_decoder_trace])
def test_a_diverged_models_trace_is_shown_in_every_panel_with_a_note(qtbot, dialog_log, make, value):
    window = shown(qtbot, MainWindow(), (1400, 860))
    trace = diverged(make(), value)
    window.show_trace(trace)
    for step in range(1, trace.num_steps + 1):
        window.set_step(step)
        QApplication.processEvents()
    assert dialog_log == []  # no panel refused it ("Cannot set range [nan, nan]")
    assert any("The model diverged: hidden" in note for note in window.notices.notes)
    picture = render_picture(window)  # what export does: it used to fail here
    assert not picture.isNull() and picture.width() > 0


def test_a_trace_that_breaks_its_contract_is_refused_before_anything_is_shown(qtbot, dialog_log):
    window = shown(qtbot, MainWindow(), (900, 600))
    good = lstm_trace(T=6)
    window.show_trace(good)
    broken = Trace({"hidden": np.zeros((9, 2, 1, 8), np.float32)}, list("abc"), good.meta)
    with pytest.raises(TraceContractError, match="cannot show this trace: hidden has shape"):
        window.show_trace(broken)
    assert window.trace is good and window.num_steps == 6 and dialog_log == []


def test_seqviz_show_refuses_a_broken_trace_before_any_window():
    windows = len(QApplication.topLevelWidgets()) if QApplication.instance() else 0
    broken = Trace({"hidden": np.zeros((2, 1, 1, 3), np.complex64)}, ["a", "b"])
    with pytest.raises(TraceContractError, match="hidden holds complex64 values"):
        seqviz.show(broken)
    assert (len(QApplication.topLevelWidgets()) if QApplication.instance() else 0) == windows


# A remembered model ---------------------------------------------------------------------------------------


def test_a_remembered_model_file_that_is_refused_is_not_reopened_at_the_next_start(
    qtbot, dialog_log, tmp_path
):
    bad = tmp_path / "noise.pt"
    bad.write_bytes(b"\x80" + bytes(range(256)) * 4)
    settings = AppSettings()
    settings.model = str(bad)
    settings.sync()
    window = shown(qtbot, MainWindow(), (900, 600))
    window.start(wait=True)
    assert window.model.source == catalogue.default_id()  # the fallback, with a note saying why
    assert AppSettings().model == catalogue.default_id()


def test_a_remembered_model_file_is_remembered_again_once_it_opened(qtbot, dialog_log, tmp_path):
    path = save_model(fresh_model("gru"), tmp_path / "mine.safetensors")
    settings = AppSettings()
    settings.model = str(path)
    settings.sync()
    window = shown(qtbot, MainWindow(), (900, 600))
    window.start()  # in the background: a process killed while the file opens must not reopen it
    assert AppSettings().model is None
    qtbot.waitUntil(lambda: window.is_ready, timeout=60_000)
    assert window.model.source == str(path) and AppSettings().model == str(path)
