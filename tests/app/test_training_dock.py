"""The Training dock (issue 14) in the window: training from the dock fills the curves and the panels
follow the weights (the trace on screen is what seqviz.trace computes with them), keeping the text,
the step and the selection; pause, resume and stop; the snapshot slider; save and open; bad input and
a diverging learning rate say so; closing the window mid-training neither hangs nor aborts."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from traces import shown

import seqviz
from seqviz.app import MainWindow
from seqviz.app.viewer.training_choices import ARCH_NAMES, ArchChoice, TrainingChoices

ROOT = Path(__file__).resolve().parents[2]


def small(steps: int = 30, follow_every: int = 10, **changes) -> TrainingChoices:
    """A session of tens of steps of two tiny models."""
    changes.setdefault("task", "long-range")
    changes.setdefault("archs", (ArchChoice("gru", True, 16), ArchChoice("lstm", True, 16)))
    return TrainingChoices(steps=steps, batch_size=8, follow_every=follow_every, **changes)


@pytest.fixture
def window(qtbot, dialog_log):
    window = shown(qtbot, MainWindow(), (1280, 800))
    yield window
    window.training.close()
    if window.training.worker is not None:
        window.training.worker.join(60)
    window.stop_background_work()


def start(window, choices: TrainingChoices):
    dock = window.training
    dock.ensure_view().form.set_choices(choices)
    assert dock.start()
    return dock


def assert_shows(window, model, text: str | None = None) -> None:
    """The window's trace is what the core computes with `model`'s weights on the text on screen."""
    expected = seqviz.trace(model, text or window.run.model_text)
    for name in ("hidden", "update_gate", "forget_gate", "probs"):
        if name in expected:
            np.testing.assert_allclose(window.trace[name], expected[name], rtol=1e-5, atol=1e-6)


def test_training_fills_the_curves_and_the_panels_show_the_trained_weights(window):
    dock = start(window, small())
    assert dock.dock.isVisible() and dock.state == "starting"
    dock.finish()
    session = dock.session
    assert dock.state == "ended" and [run.label for run in session.runs] == ["GRU", "LSTM"]
    assert all(run.steps_done == 30 for run in session.runs)
    for index in range(2):
        points = dock.points[index]
        assert points.step == list(range(1, 31))  # every step's loss and gradient norm
        assert points.eval_step[0] == 0 and points.eval_step[-1] == 30  # held out before and after
        x, y = dock.view.curves.loss_lines[index].getData()
        assert len(x) == 30 and np.allclose(y, points.loss)
        assert "30/30 steps" in dock.view.run_labels[index].text()
        assert f"held-out {points.accuracy[-1]:.0%}" in dock.view.run_labels[index].text()
    assert dock.view.progress.value() == dock.view.progress.maximum() == 60
    # the panels show the first architecture at its last step, on the task's example text
    assert window.model.module is not session.runs[0].model  # a copy, never the live model
    assert window.run.text == session.data.example_text
    assert "GRU" in window.model.label
    assert_shows(window, session.runs[0].model_at(30))


def test_a_new_version_keeps_the_text_the_step_and_the_selection(window, qtbot):
    dock = start(window, small(steps=40, follow_every=10))
    qtbot.waitUntil(lambda: window.run is not None and dock.follow.shown_index == 0, timeout=60_000)
    dock.toggle_pause()
    dock.follow.finish()
    other = next(t for t in dock.session.data.examples if t != window.run.text)
    window.set_text(other)
    window.set_step(4)
    window.viewer.selection.set_units((3, 5))
    model_before = window.model
    dock.toggle_pause()
    dock.finish()
    assert window.model is not model_before and window.run.text == other
    assert window.step == 4 and window.viewer.selection.units == (3, 5)
    assert_shows(window, dock.session.runs[0].model_at(40))


def test_start_keeps_the_text_and_the_step_a_lecturer_is_at(window, qtbot):
    """Start on a long-range model at step 6: the untrained weights appear on the same text at step 6 (an
    explicit text made the switch start again at step 1)."""
    window.open_model("longrange-gru")
    window.set_step(6)
    text = window.text
    dock = start(window, small(steps=20, follow_every=10))
    qtbot.waitUntil(
        lambda: window.model is not None and window.model.label == "GRU (training)", timeout=60_000
    )
    dock.finish()
    assert window.text == text and window.step == 6


def test_pause_holds_training_and_resume_finishes_it(window, qtbot):
    dock = start(window, small(steps=200, follow_every=50))
    qtbot.waitUntil(lambda: dock.session is not None and dock.session.runs[1].steps_done >= 3, timeout=60_000)
    dock.toggle_pause()
    assert dock.state == "paused" and dock.view.pause_button.text() == "Resume"
    qtbot.wait(300)  # the step in progress ends
    done = [run.steps_done for run in dock.session.runs]
    qtbot.wait(300)
    assert [run.steps_done for run in dock.session.runs] == done and max(done) < 200
    dock.poll()
    assert dock.view.slider.isEnabled() or len(dock.view.snapshot_steps) == 1
    dock.toggle_pause()
    assert dock.state == "running"
    dock.finish()
    assert [run.steps_done for run in dock.session.runs] == [200, 200]


def test_stop_keeps_what_was_trained_and_the_panels_show_it(window, qtbot):
    dock = start(window, small(steps=10_000, follow_every=5))
    qtbot.waitUntil(lambda: dock.session is not None and dock.session.runs[1].steps_done >= 7, timeout=60_000)
    dock.stop()
    dock.finish()
    assert dock.state == "ended"
    for run in dock.session.runs:
        assert run.finished and 7 <= run.steps_done < 10_000
        assert run.steps_done in run.snapshots  # Stop's final snapshot
    first = dock.session.runs[0]
    assert dock.follow.shown_step == first.steps_done
    assert_shows(window, first.model_at(first.steps_done))
    assert dock.view.save_buttons[0].isEnabled()


def test_the_slider_shows_a_snapshot_and_panels_show_chooses_the_architecture(window):
    dock = start(window, small(steps=40))
    dock.finish()
    view = dock.view
    assert view.slider.isEnabled() and view.snapshot_steps == list(range(0, 41, 2))
    window.set_step(3)
    view.slider.setValue(view.snapshot_steps.index(10))
    dock.follow.finish()
    assert view.slider_label.text() == "step 10" and window.step == 3
    assert_shows(window, dock.session.runs[0].model_at(10))
    view.slider.setValue(0)
    dock.follow.finish()
    assert_shows(window, dock.session.runs[0].model_at(0))  # the untrained weights
    view.follow.setCurrentIndex(1)
    view.followChosen.emit(1)
    dock.follow.finish()
    assert "LSTM" in window.model.label
    assert_shows(window, dock.session.runs[1].model_at(40))


def test_save_writes_a_model_file_that_opens_with_its_curves_and_snapshots(window, tmp_path):
    dock = start(window, small(steps=20))
    dock.finish()
    lstm = dock.session.runs[1]
    path = dock.save(1, str(tmp_path / "lstm.safetensors"))
    assert path is not None and path.is_file()
    module = seqviz.load_model(path)
    assert "LSTM" in module.card.title
    assert window.open_model(str(path))
    assert_shows(window, lstm.model_at(20))
    # the dock shows the file's curves, and its slider its snapshots
    assert dock.trained_file is not None and dock.session is None
    assert dock.points[0].step == list(range(1, 21))
    assert dock.view.snapshot_steps == sorted(dock.trained_file.snapshot_steps)
    window.viewer.selection.set_units((1,))
    dock.view.slider.setValue(0)
    dock.follow.finish()
    assert window.viewer.selection.units == (1,)  # a snapshot of the same model: the selection stays
    assert_shows(window, dock.trained_file.model_at(0))


def test_a_model_opened_while_training_stays_and_the_next_launch_reopens_it(window, qtbot):
    window.open_model("longrange-gru")
    dock = start(window, small(steps=400, follow_every=2))
    qtbot.waitUntil(lambda: dock.follow.shown_index == 0 and "training" in window.model.label, timeout=60_000)
    window.open_model("sentiment-lstm")  # the person's choice: training goes on, the panels stay with it
    qtbot.waitUntil(lambda: dock.session.runs[0].steps_done >= 60, timeout=60_000)
    dock.poll()
    window.finish_background_work()
    assert window.model.source == "sentiment-lstm" and not dock.follow.following
    dock.view.follow.setCurrentIndex(1)
    dock.view.followChosen.emit(1)  # choosing an architecture follows training again
    qtbot.waitUntil(lambda: "LSTM (training)" in window.model.label, timeout=60_000)
    window.close()  # weights being trained cannot be reopened: the model before training is
    assert window.settings.model == "longrange-gru"


def test_a_bad_text_file_is_a_message_and_nothing_starts(window, tmp_path):
    window.open_model("untrained-lstm")
    before = window.model
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    dock = window.training
    dock.ensure_view().form.set_choices(small(task="file", text_file=str(empty)))
    assert dock.start()
    dock.finish()
    assert dock.state == "idle" and dock.session is None
    assert "empty" in dock.view.status.text().lower()
    assert dock.view.start_button.isEnabled() and dock.view.scroll.isVisible()  # the form to fix it
    assert window.model is before


def test_choices_that_cannot_start_say_why_in_the_dock(window):
    dock = window.training
    dock.ensure_view().form.set_choices(small(archs=tuple(ArchChoice(a) for a in ARCH_NAMES)))
    assert not dock.start()
    assert "architecture" in dock.view.status.text() and dock.worker is None


def test_a_learning_rate_that_diverges_says_so_and_keeps_the_last_good_weights(window):
    archs = (ArchChoice("rnn", True, 16), ArchChoice("lstm", True, 16))
    dock = start(window, small(steps=30, lr=1e37, clip_on=False, archs=archs))
    dock.finish()
    diverged = [run for run in dock.session.runs if run.problem]
    assert diverged, "Adam moving every weight by 1e37 overflows float32"
    for index, run in enumerate(dock.session.runs):
        if run.problem:
            assert run.problem in dock.view.run_labels[index].text()
            assert math.isfinite(run.held_out_accuracy())
            assert all(bool(t.isfinite().all()) for t in run.model.state_dict().values())
    assert dock.state == "ended"


def test_the_remembered_choices_come_back_in_a_new_window(qtbot, window):
    dock = window.training
    dock.ensure_view().form.set_choices(small(steps=123, seed=7))
    dock.view.form.changed.emit()
    again = MainWindow()
    qtbot.addWidget(again)
    choices = again.training.ensure_view().form.choices()
    assert (choices.steps, choices.seed, choices.follow_every) == (123, 7, 10)


def test_the_dock_starts_hidden_and_the_train_menu_opens_it(window):
    dock = window.training
    assert not dock.dock.isVisible() and dock.view is None  # nothing built until it is asked for
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles.index("&Train") == titles.index("&Help") - 1
    toggle = dock.dock.toggleViewAction()
    assert (
        toggle.shortcut().toString() == "Ctrl+T" and dock.start_action.shortcut().toString() == "Ctrl+Shift+T"
    )
    toggle.trigger()
    assert dock.dock.isVisible() and dock.view is not None
    missing = [w for w in dock.view.findChildren(type(dock.view.start_button)) if not w.toolTip()]
    assert not missing


CLOSE_MID_TRAINING = """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from seqviz.app import MainWindow
from seqviz.app.viewer.training_choices import ARCH_NAMES, ArchChoice, TrainingChoices
from seqviz.app.window.launch import run_app

app = QApplication([])
archs = (ArchChoice("gru", True, 16), ArchChoice("lstm", True, 16))


def go():
    window = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
    dock = window.training
    choices = TrainingChoices(task="long-range", steps=100000, batch_size=8, follow_every=2, archs=archs)
    dock.ensure_view().form.set_choices(choices)
    dock.start()

    def close_when_training():  # the panels follow every 2 steps: a trace is often on its way
        if dock.session is not None and dock.session.runs[0].steps_done >= 20 and window.run is not None:
            window.close()
            print("closed after", dock.session.runs[0].steps_done, "steps", flush=True)
        else:
            QTimer.singleShot(5, close_when_training)

    close_when_training()


QTimer.singleShot(0, go)
run_app(model="untrained-lstm", exit_process=True)
"""


def test_closing_the_window_mid_training_neither_hangs_nor_aborts(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SEQVIZ_SETTINGS_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", CLOSE_MID_TRAINING],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "closed after" in result.stdout  # the process ended after the window closed: the worker stopped
    assert "QThread" not in result.stderr and "terminate" not in result.stderr
