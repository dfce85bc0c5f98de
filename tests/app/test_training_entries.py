"""The model chooser's entries of weights being trained ("GRU (training)"): choosing one again shows
that run's weights (no "Cannot open model" box), and an entry no run answers any more goes."""

from __future__ import annotations

import pytest
from test_training_dock import assert_shows, small, start
from traces import shown

from seqviz.app import MainWindow
from seqviz.app.viewer.training_choices import ArchChoice
from seqviz.app.window.toolbar import SOURCE_ROLE


@pytest.fixture
def window(qtbot, dialog_log):
    window = shown(qtbot, MainWindow(), (1280, 800))
    yield window
    window.training.close()
    if window.training.worker is not None:
        window.training.worker.join(60)
    window.stop_background_work()


def training_entries(window) -> list[str]:
    combo = window.toolbar.model_combo
    sources = [combo.itemData(i, SOURCE_ROLE) for i in range(combo.count())]
    return [combo.itemText(i) for i, s in enumerate(sources) if s and s.startswith("training:")]


def choose(window, text: str) -> None:
    """What a click on the chooser's entry `text` does."""
    combo = window.toolbar.model_combo
    index = combo.findText(text)
    assert index >= 0, f"no entry {text!r} in {[combo.itemText(i) for i in range(combo.count())]}"
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    window.training.follow.finish()
    window.finish_background_work()


def test_choosing_a_trained_architecture_again_shows_its_weights(window, dialog_log):
    dock = start(window, small(steps=20))
    dock.finish()
    dock.view.followChosen.emit(1)
    dock.follow.finish()
    assert training_entries(window) == ["GRU (training)", "LSTM (training)"]
    window.open_model("sentiment-lstm")  # another model after training ended
    choose(window, "GRU (training)")
    assert dialog_log == [] and window.model.label == "GRU (training)"
    assert dock.view.follow.currentIndex() == 0  # as if chosen in "Panels show"
    assert_shows(window, dock.session.runs[0].model_at(20))
    choose(window, "LSTM (training)")
    assert dialog_log == [] and window.toolbar.model_combo.currentText() == "LSTM (training)"
    assert_shows(window, dock.session.runs[1].model_at(20))


def test_the_entries_of_an_earlier_session_go_when_its_runs_are_gone(window, dialog_log):
    dock = start(window, small(steps=10))
    dock.finish()
    dock.view.followChosen.emit(1)
    dock.follow.finish()
    assert training_entries(window) == ["GRU (training)", "LSTM (training)"]
    archs = (ArchChoice("rnn", True, 16), ArchChoice("gru", False), ArchChoice("lstm", True, 16))
    dock = start(window, small(steps=10, archs=archs))
    dock.finish()
    # GRU is no run of the new session: its entry went; LSTM's opens the new session's LSTM
    assert training_entries(window) == ["LSTM (training)", "RNN (training)"]
    choose(window, "LSTM (training)")
    assert dialog_log == []
    assert_shows(window, dock.session.runs[1].model_at(10))
