"""Hostile scene and settings values, special files and odd names (issue 15, "No input that breaks it"):
every field has its range, a file that is no scene is refused unread, an error while a scene is applied
is reported, and exported files land under the name asked for."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from traces import lstm_trace, shown

from seqviz.app import MainWindow
from seqviz.app.export.files import ExportError, check_fps, check_writable
from seqviz.app.export.pictures import save_picture
from seqviz.app.scenes import Scene, SceneError
from seqviz.app.scenes import in_window as scenes
from seqviz.app.viewer.bounds import SPEED_RANGE
from seqviz.app.viewer.model import Cursor
from seqviz.app.viewer.playback import DEFAULT_SPEED, Playback
from seqviz.app.window import settings as app_settings
from seqviz.app.window.settings import AppSettings, SettingsError


def scene_dict(**changes) -> dict:
    data = {
        "format": "seqviz-scene",
        "version": 2,
        "model": "untrained-lstm",
        "text": "hello",
        "step": 2,
        "selection": {"layer": 0, "direction": 0, "head": 0, "units": [1]},
        "theme": "light",
        "speed": 8.0,
        "layout": {"window_size": [1200, 700], "splitters": {}, "token_offsets": [0]},
    }
    for dotted, value in changes.items():
        *owners, key = dotted.split("__")
        target = data
        for owner in owners:
            target = target[owner]
        target[key] = value
    return data


def write_scene(path: Path, content: dict | str) -> Path:
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def refused(path: Path, *fragments: str) -> str:
    with pytest.raises(SceneError) as err:
        Scene.load(path)
    message = str(err.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_a_good_scene_loads(tmp_path):
    scene = Scene.load(write_scene(tmp_path / "ok.seqviz", scene_dict()))
    assert (scene.window_size, scene.speed, scene.units) == ((1200, 700), 8.0, (1,))


# Every field has its range --------------------------------------------------------------------------

BAD_VALUES = {
    "a window of 100000 x 100000": (
        {"layout__window_size": [100_000, 100_000]},
        "window_size must be [width, height], each 100 to 8192 pixels",
    ),
    "a speed of 10^9": ({"speed": 1e9}, '"speed" must be 0.1 to 1000 steps per second'),
    "a speed as text": ({"speed": "fast"}, '"speed" must be 0.1 to 1000'),
    "a splitter size over 2^31": (
        {"layout__splitters": {"attention": {"main": [2**40, 5]}}},
        'layout.splitters.attention.main" must be a list of whole numbers from 0 to 16384',
    ),
    "a step over 2^31": ({"step": 2**40}, '"step" must be a whole number from 1 to 2147483647'),
    "a third direction": ({"selection__direction": 2}, '"direction" must be a whole number from 0 to 1'),
    "a unit over 2^31": ({"selection__units": [2**33]}, '"units" must be a list of whole numbers from 0'),
    "70,000 units": ({"selection__units": list(range(70_000))}, "at most 65536 whole numbers"),
    "a version as text": ({"version": "1"}, "\"version\" must be a whole number (1 to 2), not '1'"),
    "a version from the future": ({"version": 3}, "scene version 3 is newer than this seqviz reads (2)"),
}


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_a_value_outside_its_range_is_refused_with_one_line(tmp_path, case):
    changes, fragment = BAD_VALUES[case]
    refused(write_scene(tmp_path / "bad.seqviz", scene_dict(**changes)), "bad.seqviz", fragment)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_wherever_they_are(tmp_path, constant):
    text = json.dumps(scene_dict()).replace('"speed": 8.0', f'"speed": {constant}')
    refused(write_scene(tmp_path / "nan.seqviz", text), f"holds {constant}, which no field of a scene takes")


def test_a_scene_holding_nan_is_not_written(tmp_path):
    """JSON has no NaN and Scene.load refuses it: a scene that could not be reopened is not saved."""
    with pytest.raises(SceneError, match="holds NaN or infinite numbers"):
        Scene(model="untrained-lstm", text="a", speed=float("nan")).save(tmp_path / "nan.seqviz")
    assert not (tmp_path / "nan.seqviz").exists()


def test_a_deeply_nested_scene_is_refused_not_a_recursion_error(tmp_path):
    text = json.dumps(scene_dict()).replace('"text": "hello"', '"text": ' + "[" * 100_000 + "]" * 100_000)
    refused(write_scene(tmp_path / "deep.seqviz", text), "nested too deeply")


def test_a_model_file_named_like_a_bundled_id_stays_that_file(tmp_path):
    from seqviz.core.modelfile import save_model
    from seqviz.core.seqmodel import fresh_model

    save_model(fresh_model("gru"), tmp_path / "untrained-lstm")  # a file, named like an id
    path = Scene(model=str(tmp_path / "untrained-lstm"), text="a").save(tmp_path / "s.seqviz")
    assert json.loads(path.read_text())["model"] == "./untrained-lstm"
    assert Scene.load(path).model == str(tmp_path / "untrained-lstm")


# Special files and odd paths ---------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_fifo_given_as_a_scene_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.seqviz")
    refused(tmp_path / "pipe.seqviz", "named pipe (FIFO)")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="a device file")
def test_dev_zero_as_a_scene_is_refused_unread():
    refused(Path("/dev/zero"), "it is a device")


def test_a_scene_larger_than_any_scene_is_refused_unread(tmp_path):
    path = tmp_path / "huge.seqviz"
    with open(path, "wb") as fh:
        fh.truncate(20 * 2**20)  # 20 MB of holes: nothing read, nothing written
    refused(path, "it is 20.0 MB; seqviz reads up to 16.0 MB of it")


def test_names_too_long_are_messages(tmp_path):
    refused(tmp_path / ("x" * 300 + ".seqviz"), "name is too long")
    model = str(tmp_path / ("m" * 300 + ".pt"))
    refused(write_scene(tmp_path / "long.seqviz", scene_dict(model=model)), "cannot be opened", "too long")
    with pytest.raises(ExportError, match="name is too long"):
        check_writable(tmp_path / ("p" * 300 + ".png"))


# Settings -------------------------------------------------------------------------------------------------


def settings_file(folder: Path, lines: str) -> AppSettings:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "seqviz.ini").write_text(lines, encoding="utf-8")
    return AppSettings()


@pytest.mark.parametrize("speed", ["nan", "inf", "-5", "1e400", "fast", "1e9"])
def test_a_remembered_speed_outside_its_range_is_forgotten_not_fatal(qtbot, temp_settings_dir, speed):
    settings = settings_file(temp_settings_dir, f"[playback]\nspeed={speed}\n")
    assert settings.speed is None
    window = shown(qtbot, MainWindow(settings), (900, 600))  # used to abort at every start with NaN
    assert window.playback.speed == DEFAULT_SPEED


def test_a_remembered_speed_in_range_is_kept(temp_settings_dir):
    assert settings_file(temp_settings_dir, "[playback]\nspeed=30\n").speed == 30.0


def test_a_remembered_device_that_is_no_device_name_is_the_cpu(temp_settings_dir):
    assert settings_file(temp_settings_dir, "[session]\ndevice=quantum\n").device == "cpu"


def test_a_remembered_export_size_beyond_any_screen_opens_the_dialog_at_its_default(
    qtbot, dialog_log, temp_settings_dir
):
    from seqviz.app.export import dialogs as export_dialogs

    settings_file(temp_settings_dir, "[export]\ncustom_size=99999999999x5\nsize=custom\n")
    window = shown(qtbot, MainWindow(), (900, 600))
    dialog = export_dialogs.PictureDialog(window)  # used to raise OverflowError at every opening
    qtbot.addWidget(dialog)
    assert (dialog.form.width_box.value(), dialog.form.height_box.value()) == (1920, 1080)


def test_a_settings_folder_that_is_a_file_is_a_message(tmp_path, monkeypatch):
    file = tmp_path / "not-a-folder"
    file.write_text("x")
    monkeypatch.setenv(app_settings.SETTINGS_DIR_ENV, str(file))
    problem = app_settings.settings_problem()
    assert "it is a file, not a folder; point it at a folder seqviz may write in" in problem
    with pytest.raises(SettingsError, match="it is a file"):
        AppSettings()
    monkeypatch.setenv(app_settings.SETTINGS_DIR_ENV, str(tmp_path / ("s" * 300)))
    assert "name is too long" in app_settings.settings_problem()


def test_playback_refuses_nan_and_clamps_the_rest():
    playback = Playback(Cursor())
    with pytest.raises(ValueError, match="not NaN"):
        playback.set_speed(float("nan"))
    playback.set_speed(float("inf"))
    assert playback.speed == SPEED_RANGE[1]
    playback.set_speed(-3)
    assert playback.speed == SPEED_RANGE[0]


# Applying a scene: an error is reported, never an abort or a hang ----------------------------------------


def test_an_error_while_a_scene_is_applied_is_reported(qtbot, dialog_log, monkeypatch):
    from seqviz.app.window import appearance

    window = shown(qtbot, MainWindow(), (900, 600))
    scene = Scene.from_dict(scene_dict())

    def broken(*args, **kwargs):
        raise RuntimeError("the theme broke")

    monkeypatch.setattr(appearance, "apply_theme", broken)
    reports = []
    assert scenes.apply(window, scene, wait=False, done=reports.append) is False
    assert reports == ["showing the scene failed: RuntimeError: the theme broke"]
    with pytest.raises(SceneError, match="showing the scene failed: RuntimeError: the theme broke"):
        scenes.apply(window, scene, wait=True)


# Exported files land under the name asked for --------------------------------------------------------------


def test_a_picture_named_with_a_byte_that_is_not_utf8_is_written_there(qtbot, dialog_log, tmp_path):
    window = shown(qtbot, MainWindow(), (900, 600))
    window.show_trace(lstm_trace(T=6))
    hidden = window.dock_area.panels["hidden"]
    qtbot.waitUntil(lambda: hidden.height() > 100)  # the docks take their shares after the first trace
    name = os.fsdecode(b"slide\xff")  # how Python reads such a name from a command line or a folder
    folder = tmp_path / "slides"
    folder.mkdir()
    for suffix in (".png", ".svg"):
        save_picture(hidden, folder / (name + suffix))
    written = sorted(os.listdir(os.fsencode(folder)))
    assert written == [b"slide\xff.png", b"slide\xff.svg"]  # no stray temporary file beside them
    assert all((folder / (name + s)).stat().st_size > 1000 for s in (".png", ".svg"))


@pytest.mark.parametrize("fps", [0.001, 0.0, -1.0, float("nan"), float("inf"), 51.0])
def test_a_frame_rate_outside_its_range_is_refused(fps):
    with pytest.raises(ExportError, match="out of range: use 0.1 to 50 frames per second"):
        check_fps(fps, ".gif")


def test_a_slow_frame_rate_in_range_is_taken():
    check_fps(0.1, ".gif")
    check_fps(0.5, ".mp4")
