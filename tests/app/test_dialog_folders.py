"""The export and scene file dialogs open in the folder the last file of their kind went to (a lecturer
saves a lesson's slides in one place), remembered across launches in the settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from traces import lstm_trace, shown

from seqviz.app import MainWindow
from seqviz.app.export import dialogs as export_dialogs


@pytest.fixture
def window(qtbot, dialog_log):
    w = shown(qtbot, MainWindow(), (1200, 700))
    w.show_trace(lstm_trace(T=6))
    w.set_step(3)
    return w


class SaveDialog:
    """Stands in for the save dialog: records the suggested path, answers with `answer` in `folder`."""

    def __init__(self) -> None:
        self.suggested: list[str] = []
        self.folder: Path | None = None

    def __call__(self, parent, title, file_filter, suggested):
        self.suggested.append(suggested)
        return str(self.folder / Path(suggested).name)


def _picture(window) -> Path | None:
    dialog = export_dialogs.PictureDialog(window)
    dialog.form.select("window", QSize(320, 200))
    dialog.accept()
    return export_dialogs.export_picture(window, dialog)


def test_pictures_and_animations_are_suggested_in_the_last_export_folder(window, tmp_path, monkeypatch):
    save = SaveDialog()
    monkeypatch.setattr(export_dialogs, "choose_save_path", save)
    save.folder = tmp_path / "slides"
    save.folder.mkdir()
    assert _picture(window).parent == save.folder
    assert Path(save.suggested[0]).parent == Path(".")  # nothing remembered yet: a bare name
    window.set_step(4)
    save.folder = tmp_path / "elsewhere"  # the person would pick this; the suggestion is the last
    save.folder.mkdir()
    _picture(window)
    assert Path(save.suggested[1]).parent == tmp_path / "slides"
    dialog = export_dialogs.AnimationDialog(window)
    dialog.form.select("window", QSize(160, 100))
    dialog.first_box.setValue(1)
    dialog.last_box.setValue(2)
    dialog.accept()
    assert export_dialogs.export_animation(window, dialog) is not None
    assert Path(save.suggested[2]).parent == tmp_path / "elsewhere"  # shared by pictures and animations


def test_scenes_have_their_own_last_folder_for_saving_and_opening(window, tmp_path, monkeypatch, dialog_log):
    assert window.open_model("pos-gru")  # a scene holds a model, not a trace file
    save = SaveDialog()
    monkeypatch.setattr(export_dialogs, "choose_save_path", save)
    save.folder = tmp_path / "lecture"
    save.folder.mkdir()
    saved = export_dialogs.save_scene(window)
    assert saved is not None and saved.parent == save.folder
    export_dialogs.save_scene(window)
    assert Path(save.suggested[1]).parent == save.folder
    asked = []
    monkeypatch.setattr(
        export_dialogs.dialogs,
        "choose_file",
        lambda parent, title, file_filter, folder="": asked.append(folder) or None,
    )
    export_dialogs.open_scene(window)
    assert asked == [str(save.folder)]


def test_a_remembered_folder_that_is_gone_is_not_suggested(window, tmp_path, monkeypatch):
    save = SaveDialog()
    monkeypatch.setattr(export_dialogs, "choose_save_path", save)
    save.folder = tmp_path / "usb-stick"
    save.folder.mkdir()
    _picture(window)
    for path in save.folder.iterdir():
        path.unlink()
    save.folder.rmdir()
    save.folder = tmp_path
    _picture(window)
    assert Path(save.suggested[1]).parent == Path(".")
