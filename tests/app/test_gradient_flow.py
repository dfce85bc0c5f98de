"""The gradient lesson in the window: a run's map fills in the background with exactly the numbers
`seqviz.trace(..., gradients=True)` gives; the W_hh scale re-traces the edited model at the same step;
pictures and scenes see the whole map."""

from __future__ import annotations

import numpy as np
import pytest
from traces import shown

import seqviz
from seqviz.app import MainWindow, scenes
from seqviz.edits import ScaleRecurrent


@pytest.fixture
def window(qtbot, dialog_log):
    return shown(qtbot, MainWindow(), (1400, 860))


def full_map(window) -> np.ndarray:
    panel = window.panels["gradients"]
    return np.stack([panel.values[r] for r in range(window.num_steps)])


def bring_forward(window, qtbot) -> None:
    """The Gradient flow dock shown and in front (a map is filled for a panel on screen)."""
    dock = window.dock_area.docks["gradients"]
    dock.show()
    dock.raise_()
    qtbot.wait(20)


def test_the_map_fills_in_the_background_with_the_core_s_numbers(window, qtbot):
    assert window.open_model("longrange-rnn", "i was born in france . the dog slept . i speak fluent")
    bring_forward(window, qtbot)
    panel = window.panels["gradients"]
    qtbot.waitUntil(lambda: not panel.pending.any(), timeout=20000)
    expected = seqviz.trace(window.model.module, window.run.model_text, gradients=True)["input_gradient_norm"]
    np.testing.assert_allclose(full_map(window), expected, rtol=1e-4, atol=1e-9)


def test_the_recurrent_scale_retraces_the_edited_model_at_the_same_step(window, qtbot):
    assert window.open_model("longrange-rnn", "i was born in france . the dog slept . i speak fluent")
    window.set_step(6)
    window.viewer.selection.set_option("gradients", "recurrent_scale", "1.8")
    window.finish_background_work()
    assert window.trace.meta.edits == (ScaleRecurrent(1.8).describe(),) and window.step == 6
    expected = seqviz.trace(
        window.model.module, window.run.model_text, edits=[ScaleRecurrent(1.8)], gradients=True
    )
    np.testing.assert_allclose(window.trace["hidden"], expected["hidden"], rtol=1e-6)
    np.testing.assert_allclose(full_map(window), expected["input_gradient_norm"], rtol=1e-4, atol=1e-9)
    assert any("Edited model" in note for note in window.notices.notes)
    assert window.open_model("longrange-lstm")  # another model starts unscaled
    assert (
        window.trace.meta.edits == ()
        and window.viewer.selection.option("gradients", "recurrent_scale") == "1"
    )


def test_a_scene_keeps_the_scale_and_its_picture_has_the_whole_map(window, qtbot, tmp_path):
    assert window.open_model("longrange-rnn", "i was born in spain . i speak fluent")
    window.viewer.selection.set_option("gradients", "recurrent_scale", "2")
    window.finish_background_work()
    path = scenes.capture(window).save(tmp_path / "explode.seqviz")
    other = shown(qtbot, MainWindow(), (1400, 860))
    assert scenes.apply(other, scenes.Scene.load(path))
    assert other.trace.meta.edits == (ScaleRecurrent(2.0).describe(),)
    from seqviz.app import export

    export.render_picture(other)  # a picture finishes the map first
    assert not other.panels["gradients"].pending.any()


def test_every_panel_can_be_named_on_the_command_line():
    from seqviz.app.panels import PANEL_CLASSES, PANEL_NAMES

    assert list(PANEL_NAMES) == [cls.name for cls in PANEL_CLASSES] + ["tokens"]


def test_main_py_exports_the_gradient_panel_with_its_whole_map(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "gradients.png"
    main = Path(__file__).resolve().parents[2] / "main.py"
    args = ["--model", "longrange-rnn", "--panel", "gradients", "--export", str(out), "--size", "900x600"]
    result = subprocess.run([sys.executable, str(main), *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert out.is_file() and "900x600" in result.stdout


LSTM_TEXT = "i was born in france . the dog slept . i speak fluent"


def behind_the_gates(window, qtbot) -> None:
    """The Gradient flow tab behind the gates (an LSTM's gates apply: they stay in front)."""
    area = window.dock_area
    area.docks["gradients"].show()
    area.tabifyDockWidget(area.docks["gates"], area.docks["gradients"])
    area.docks["gates"].raise_()
    qtbot.wait(20)
    assert window.open_model("longrange-lstm", LSTM_TEXT)
    window.session.jobs.drain()
    qtbot.wait(20)


def test_a_hidden_tab_draws_and_fills_its_map_only_when_brought_forward(window, qtbot):
    behind_the_gates(window, qtbot)
    panel = window.panels["gradients"]
    assert panel.draw_pending and window.gradient_flow.filler.trace is None  # no work for a hidden tab
    assert panel.pending.all()
    bring_forward(window, qtbot)
    qtbot.waitUntil(lambda: not panel.draw_pending and not panel.pending.any(), timeout=20000)
    expected = seqviz.trace(window.model.module, window.run.model_text, gradients=True)["input_gradient_norm"]
    np.testing.assert_allclose(full_map(window), expected, rtol=1e-4, atol=1e-9)
    assert panel.map.step == window.step  # drawn for the step on screen


def test_pictures_of_a_hidden_tab_show_its_whole_map(window, qtbot):
    from seqviz.app import export
    from seqviz.app.export.pictures import picture_target

    behind_the_gates(window, qtbot)
    panel = window.panels["gradients"]
    export.render_picture(window)  # the window's picture finishes the map, without drawing the tab
    assert not panel.pending.any() and panel.draw_pending
    export.render_picture(picture_target(window, "gradients"))  # brought forward for its picture
    assert not panel.draw_pending and panel.map.step == window.step
    expected = seqviz.trace(window.model.module, window.run.model_text, gradients=True)["input_gradient_norm"]
    np.testing.assert_allclose(full_map(window), expected, rtol=1e-4, atol=1e-9)
