"""Scenes: a .seqviz file reopens to the same picture; bad files are clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from traces import lstm_trace

from seqviz.app import MainWindow, export, export_dialogs, scenes
from seqviz.app.scenes import Scene, SceneError
from seqviz.app.settings import AppSettings
from seqviz.app.theme import current_theme, set_theme

MODEL = "untrained-lstm"


def make_window(qtbot, theme: str = "light") -> MainWindow:
    AppSettings().theme = theme  # the theme a new window starts in
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1500, 880)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture(autouse=True)
def light_theme_after():
    yield
    set_theme("light")  # the theme is process-wide


def test_a_scene_file_round_trips_and_keeps_a_nearby_model_relative(tmp_path):
    model = tmp_path / "models" / "mine.safetensors"
    model.parent.mkdir()
    model.write_bytes(b"")
    scene = Scene(str(model), "hello", step=3, units=(1, 4), theme="dark", window_size=(800, 600))
    path = scene.save(tmp_path / "lecture.seqviz")
    data = json.loads(path.read_text())
    assert data["format"] == "seqviz-scene" and data["model"] == "models/mine.safetensors"
    assert Scene.load(path) == scene
    catalogue_scene = Scene(MODEL, "x")
    assert Scene.load(catalogue_scene.save(tmp_path / "c.seqviz")).model == MODEL


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"format": "other"}', "not a seqviz scene"),
        ('{"format": "seqviz-scene", "version": 1, "text": "a"}', 'no "model"'),
        ('{"format": "seqviz-scene", "version": 1, "model": "m", "text": "a", "step": 0}', '"step"'),
        ('{"format": "seqviz-scene", "version": 1, "model": "m", "text": "a", "theme": "neon"}', "theme"),
        ('{"format": "seqviz-scene", "version": 9, "model": "m", "text": "a"}', "newer"),
        (
            '{"format": "seqviz-scene", "version": 1, "model": "m", "text": "a", '
            '"layout": {"dock_state": "%%"}}',
            "base64",
        ),
    ],
)
def test_bad_scene_files_say_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "bad.seqviz"
    path.write_text(content)
    with pytest.raises(SceneError, match=message):
        Scene.load(path)


def test_a_missing_scene_file_is_a_clear_error(tmp_path):
    with pytest.raises(SceneError, match="no such file"):
        Scene.load(tmp_path / "missing.seqviz")


def make_scene(qtbot, folder) -> tuple:
    """A window with a model, a selection, a hidden dock and a panel choice; its scene file."""
    window = make_window(qtbot)
    assert window.open_model(MODEL, "the cat sat on the mat")
    window.state.set_units((2, 5))
    window.dock_area.docks["output"].hide()  # a layout change the scene must carry
    units_panel = window.dock_area.panels["units"]
    units_panel.array_box.setCurrentIndex(units_panel.array_box.findText("cell"))
    window.set_step(7)
    path = export_dialogs.save_scene(window, str(folder / "lecture"))
    assert path.suffix == ".seqviz"
    return window, path


def picture(window) -> np.ndarray:
    """The window's picture at the scene's size, twice the pixels (a slide)."""
    return export._rgb(export.render_picture(window, export.current_size(window) * 2))


def test_reopening_a_scene_reproduces_the_same_picture(qtbot, dialog_log, tmp_path):
    first, path = make_scene(qtbot, tmp_path)
    first.hide()
    reopened = []
    for _ in range(2):  # the scene opened in two fresh windows
        window = make_window(qtbot)
        assert export_dialogs.open_scene(window, str(path), wait=True)
        assert (window.step, window.state.units, window.text) == (7, (2, 5), "the cat sat on the mat")
        assert window.dock_area.docks["output"].isHidden()
        assert window.dock_area.panels["units"].array_name == "cell"
        reopened.append(picture(window))
        assert np.array_equal(picture(window), reopened[-1])  # exported twice: the same pixels
        window.hide()
    assert np.array_equal(*reopened)


def test_a_scene_brings_its_theme(qtbot, dialog_log, tmp_path):
    first, path = make_scene(qtbot, tmp_path)
    scene = Scene.load(path)
    scene.theme = "presentation"
    scene.save(path)
    first.hide()
    window = make_window(qtbot)
    assert export_dialogs.open_scene(window, str(path), wait=True)
    assert current_theme().name == "presentation" and window.settings.theme == "presentation"
    assert window.theme_actions["presentation"].isChecked() and window.step == 7


def test_a_scene_opens_in_the_background_too(qtbot, dialog_log):
    window = make_window(qtbot)
    scene = Scene(MODEL, "hello", step=4, units=(3,))
    with qtbot.waitSignal(window.traceShown, timeout=60_000):
        scenes.apply(window, scene, wait=False)
    assert (window.step, window.state.units, window.text) == (4, (3,), "hello")


def test_a_window_showing_a_trace_file_cannot_save_a_scene(qtbot, dialog_log, tmp_path):
    window = make_window(qtbot)
    window.show_trace(lstm_trace())
    assert export_dialogs.save_scene(window, str(tmp_path / "x.seqviz")) is None
    assert dialog_log and "trace file" in dialog_log[-1][1]
    assert not (tmp_path / "x.seqviz").exists()


def test_opening_a_broken_scene_shows_an_error_and_keeps_the_window(qtbot, dialog_log, tmp_path):
    window = make_window(qtbot)
    window.show_trace(lstm_trace(T=9))
    bad = tmp_path / "broken.seqviz"
    bad.write_text("{")
    assert not export_dialogs.open_scene(window, str(bad))
    assert dialog_log[-1][0] == "Cannot open the scene" and window.num_steps == 9
