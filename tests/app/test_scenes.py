"""Scenes: a .seqviz file reopens to the very pixels of the window it was saved from, in a new window
or in one that showed another model, theme and layout; bad files are clear errors.

Pictures are compared exactly (np.array_equal): opening a scene lays the window out from the scene
alone, and nothing a picture shows depends on what the window showed before.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from traces import lstm_trace, shown

from seqviz.app import MainWindow, export, scenes
from seqviz.app.export import dialogs as export_dialogs
from seqviz.app.export import pictures
from seqviz.app.scenes.in_window import Scene, SceneError
from seqviz.app.window import appearance
from seqviz.app.window.settings import AppSettings
from seqviz.app.window.theme import current_theme

MODEL = "untrained-lstm"
ROOT = Path(__file__).resolve().parents[2]


def make_window(qtbot, theme: str = "light") -> MainWindow:
    AppSettings().theme = theme  # the theme a new window starts in
    window = shown(qtbot, MainWindow(), (1500, 880))
    return window


pytestmark = pytest.mark.usefixtures("theme")  # scenes switch the process-wide theme: light afterwards


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


def picture(window, scale: int = 1) -> np.ndarray:
    """(H, W, 3) pixels of the window's picture at its size on screen times `scale`."""
    return pictures._rgb(export.render_picture(window, export.current_size(window) * scale))


def worked_in_window(qtbot, folder) -> tuple:
    """A window someone has worked in (another model and theme first, docks resized, a dock hidden,
    the tab behind raised, units clicked one by one, a panel choice, a speed), its picture and scene."""
    window = make_window(qtbot, "presentation")
    assert window.open_model("untrained-transformer", "another model first")
    window.set_step(4)
    appearance.apply_theme(window, "dark")
    assert window.open_model(MODEL, "the cat sat on the mat")
    area = window.dock_area
    area.resizeDocks([area.docks["hidden"]], [430], Qt.Orientation.Horizontal)
    area.resizeDocks([area.docks["units"]], [300], Qt.Orientation.Vertical)
    area.docks["output"].hide()
    area.docks["attention"].raise_()  # the tab behind (an LSTM has no attention: a message)
    window.viewer.selection.set_units((5,))
    window.viewer.selection.set_units((5, 2))
    units_panel = area.panels["units"]
    units_panel.array_box.setCurrentIndex(units_panel.array_box.findData("cell"))  # by value, not label
    window.playback.set_speed(2.0)
    window.toolbar.set_speed(2.0)
    window.set_step(7)
    shown = picture(window)
    path = export_dialogs.save_scene(window, str(folder / "lecture"))
    assert path.suffix == ".seqviz"
    return window, shown, path


def used_window(qtbot) -> MainWindow:
    """A window with another model, theme, size, layout and step."""
    window = make_window(qtbot, "presentation")
    window.resize(1200, 760)
    assert window.open_model("untrained-transformer", "hello there")
    area = window.dock_area
    area.splitDockWidget(area.docks["gates"], area.docks["attention"], Qt.Orientation.Vertical)
    area.docks["units"].hide()
    window.viewer.selection.set_units((1,))
    window.set_step(3)
    return window


def assert_shows(window, path, shown: np.ndarray) -> None:
    assert export_dialogs.open_scene(window, str(path), wait=True)
    again = picture(window)
    assert again.shape == shown.shape and np.array_equal(again, shown)
    assert np.array_equal(picture(window), again)  # exported twice: the same pixels


def test_a_reopened_scene_has_the_pixels_of_the_window_it_was_saved_from(qtbot, dialog_log, tmp_path):
    original, shown, path = worked_in_window(qtbot, tmp_path)
    original.hide()
    fresh = make_window(qtbot)
    assert_shows(fresh, path, shown)
    assert (fresh.step, fresh.viewer.selection.units, fresh.text) == (7, (5, 2), "the cat sat on the mat")
    assert fresh.dock_area.docks["output"].isHidden() and fresh.panels["units"].array_name == "cell"
    assert fresh.toolbar.speed_combo.currentText() == "2 steps/s" and current_theme().name == "dark"
    fresh.hide()
    assert_shows(used_window(qtbot), path, shown)


def test_a_scene_reopens_in_the_window_it_was_saved_from_after_it_moved_on(qtbot, dialog_log, tmp_path):
    window, shown, path = worked_in_window(qtbot, tmp_path)
    appearance.apply_theme(window, "presentation")
    assert window.open_model("untrained-gru", "something else entirely")
    window.dock_area.default_layout()
    window.resize(1100, 700)
    assert_shows(window, path, shown)


def test_attention_choices_and_splitters_round_trip(qtbot, dialog_log, tmp_path):
    window = make_window(qtbot, "light")
    assert window.open_model("dates-transformer", "the third of march two thousand and five")
    attention = window.dock_area.panels["attention"]
    attention.kind_box.setCurrentIndex(1)  # cross-attention
    window.viewer.selection.set_head(2)
    attention.splitter.setSizes([400, 451])
    attention.side.setSizes([150, 170])
    window.set_step(5)
    shown = picture(window, scale=2)  # a slide: twice the pixels, the same layout
    path = export_dialogs.save_scene(window, str(tmp_path / "dates.seqviz"))
    window.hide()
    other = used_window(qtbot)
    assert export_dialogs.open_scene(other, str(path), wait=True)
    assert np.array_equal(picture(other, scale=2), shown)
    saved = Scene.load(path).splitters["attention"]
    attention = other.dock_area.panels["attention"]
    assert attention.kind == "cross_attention" and other.viewer.selection.head == 2
    assert (attention.splitter.sizes(), attention.side.sizes()) == (saved["main"], saved["side"])
    assert saved["main"][0] < saved["main"][1]  # as moved, not the default 3:2
    data = json.loads(path.read_text())  # stable names and values, not widget attributes or labels
    assert data["version"] == 2 and data["panels"]["attention"] == {"show": "cross_attention", "heads": "one"}
    assert set(data["layout"]["splitters"]["attention"]) == {"main", "side"}


def test_a_version_1_scene_opens_with_its_model_text_step_theme_and_selection(qtbot, dialog_log, tmp_path):
    v1 = {
        "format": "seqviz-scene",
        "version": 1,
        "model": "dates-transformer",
        "text": "the third of march two thousand and five",
        "step": 4,
        "selection": {"layer": 1, "direction": 0, "head": 3, "units": [5]},
        "theme": "dark",
        "panels": {"attention": {"kind_box": "self-attention"}, "units": {"array_box": "hidden"}},
        "layout": {"splitters": {"attention": {"splitter": [300, 500], "side": [100, 200]}}},
    }
    path = tmp_path / "old.seqviz"
    path.write_text(json.dumps(v1))
    scene = Scene.load(path)
    assert scene.panels == {"attention": {"show": "attention"}, "units": {"array": "hidden"}}
    assert scene.splitters == {"attention": {"main": [300, 500], "side": [100, 200]}}
    window = make_window(qtbot, "light")
    assert export_dialogs.open_scene(window, str(path), wait=True)
    sel = window.viewer.selection
    assert (window.model.source, window.text, window.step) == (v1["model"], v1["text"], 4)
    assert (sel.layer, sel.head, sel.units, current_theme().name) == (0, 3, (5,), "dark")
    assert window.dock_area.panels["attention"].kind == "attention"


# `python main.py FILE.seqviz`, which takes a picture and quits once the scene is shown
SHOW_SCENE = """
import sys
from PySide6.QtWidgets import QApplication
from seqviz import cli
from seqviz.app import export
from seqviz.app.scenes import in_window as scenes

scene, out = sys.argv[1:3]
show_view = scenes.apply_view

def show_view_then_picture(window, scene):
    show_view(window, scene)
    export.save_picture(window, out, export.current_size(window))
    QApplication.instance().exit(0)

scenes.apply_view = show_view_then_picture
sys.exit(cli.main([scene]))
"""


def png_pixels(path) -> np.ndarray:
    return pictures._rgb(QImage(str(path)))


def test_main_py_opens_and_exports_a_scene_as_the_app_showed_it(qtbot, dialog_log, tmp_path):
    _, shown, path = worked_in_window(qtbot, tmp_path)
    exported, opened = tmp_path / "exported.png", tmp_path / "opened.png"
    runs = [
        subprocess.Popen([sys.executable, "main.py", str(path), "--export", str(exported)], cwd=ROOT),
        subprocess.Popen([sys.executable, "-c", SHOW_SCENE, str(path), str(opened)], cwd=ROOT),
    ]
    assert [run.wait(timeout=120) for run in runs] == [0, 0]
    assert np.array_equal(png_pixels(exported), shown)
    assert np.array_equal(png_pixels(opened), shown)


def test_a_scene_with_a_missing_model_file_is_a_clear_error(qtbot, dialog_log, tmp_path, capsys):
    from seqviz import cli

    path = Scene(str(tmp_path / "gone.safetensors"), "hello").save(tmp_path / "lecture.seqviz")
    with pytest.raises(SceneError, match="gone.safetensors does not exist"):
        Scene.load(path)
    assert cli.main([str(path)]) == 2  # before any window
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "lecture.seqviz" in err[0] and "does not exist" in err[0]
    window = make_window(qtbot)
    assert not export_dialogs.open_scene(window, str(path))
    assert dialog_log[-1][0] == "Cannot open the scene" and "gone.safetensors" in dialog_log[-1][1]


def test_a_scene_brings_its_theme(qtbot, dialog_log, tmp_path):
    first = make_window(qtbot)
    assert first.open_model(MODEL, "the cat sat on the mat")
    first.set_step(7)
    path = export_dialogs.save_scene(first, str(tmp_path / "lecture.seqviz"))
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
    assert (window.step, window.viewer.selection.units, window.text) == (4, (3,), "hello")


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
