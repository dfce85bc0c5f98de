"""The menus and dialogs of exporting: File > Export picture / Export animation / Save scene / Open
scene, Edit > Copy picture. The work itself is in `export.pictures`
and `scenes`.

File names are asked through `choose_save_path` / `choose_open_path` (module functions, so tests
replace them); errors go to `seqviz.app.window.dialogs.show_error`. Each file dialog opens in the folder
the last file of its kind went to (pictures and animations share one, scenes have theirs), kept in the
settings: a lecturer saves a lesson's slides in one place.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QMenu,
    QProgressDialog,
    QSpinBox,
    QWidget,
)

from seqviz.app.export.files import GIF_MAX_FPS, ExportError
from seqviz.app.window import dialogs
from seqviz.app.window.settings import AppSettings

PRESET_SIZES = ((1920, 1080, "Full HD"), (3840, 2160, "4K"))
PICTURE_FILTER = "PNG picture (*.png);;SVG drawing (*.svg)"
ANIMATION_FILTER = "GIF animation (*.gif);;MP4 video (*.mp4)"
SCENE_FILTER = "seqviz scenes (*.seqviz);;All files (*)"
EXPORT_FOLDER, SCENE_FOLDER = "folder", "scene_folder"  # the settings' keys of the last folders


def choose_save_path(parent: QWidget | None, title: str, file_filter: str, suggested: str) -> str | None:
    path, chosen_filter = QFileDialog.getSaveFileName(parent, title, suggested, file_filter)
    if path and not Path(path).suffix and "(*." in chosen_filter:
        path += chosen_filter.split("(*", 1)[1].split(")", 1)[0].split()[0]  # "PNG (*.png)" -> ".png"
    return path or None


def choose_open_path(parent: QWidget | None, title: str, file_filter: str, folder: str = "") -> str | None:
    return dialogs.choose_file(parent, title, file_filter, folder)


def last_folder(key: str) -> str:
    """The folder the last file of this kind was saved in or opened from; "" (Qt's current folder)
    the first time, or when that folder is gone."""
    folder = AppSettings().export_value(key)
    return folder if folder and Path(folder).is_dir() else ""


def in_last_folder(key: str, name: str) -> str:
    """`name` in `last_folder(key)`, as the file dialog's suggestion."""
    folder = last_folder(key)
    return str(Path(folder) / name) if folder else name


def remember_folder(key: str, path: str | Path) -> None:
    AppSettings().set_export_value(key, str(Path(path).resolve().parent))


# menus --------------------------------------------------------------------------------------------
def install(window, file_menu: QMenu) -> None:
    """Add the export and scene actions to the File menu (before Quit) and an Edit menu."""

    def make(text: str, tip: str, slot, keys: str | None = None) -> QAction:
        action = QAction(text, window)
        action.setStatusTip(tip)
        action.setToolTip(tip)
        if keys:
            action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot)
        window.addAction(action)  # the key works wherever the focus is
        return action

    window.export_actions = {
        "open_scene": make("Open scene...", "Open a saved .seqviz scene", lambda: open_scene(window)),
        "save_scene": make(
            "Save scene...",
            "Save the model, text, step, selection, theme and layout as a .seqviz file",
            lambda: save_scene(window),
            "Ctrl+S",
        ),
        "export_picture": make(
            "Export picture...", "Save the window or one panel as PNG or SVG", lambda: export_picture(window)
        ),
        "export_animation": make(
            "Export animation...",
            "Save a range of steps as a GIF or MP4",
            lambda: export_animation(window),
        ),
        "copy_picture": make(
            "Copy picture", "Copy the whole window as a picture", lambda: copy_picture(window), "Ctrl+Shift+C"
        ),
    }
    a = window.export_actions
    quit_action = file_menu.actions()[-1] if file_menu.actions() else None
    for action in (None, a["open_scene"], a["save_scene"], None, a["export_picture"], a["export_animation"]):
        if action is None:
            file_menu.insertSeparator(quit_action)
        else:
            file_menu.insertAction(quit_action, action)
    bar = window.menuBar()
    edit_menu = QMenu("&Edit", bar)
    edit_menu.addAction(a["copy_picture"])
    view_action = window.view_menu.menuAction() if hasattr(window, "view_menu") else None
    bar.insertMenu(view_action, edit_menu)
    window.edit_menu = edit_menu


# pictures -----------------------------------------------------------------------------------------
class TargetSizeForm(QFormLayout):
    """ "Picture of" (window or a panel) and "Size" (current, presets or custom) rows."""

    def __init__(self, window) -> None:
        super().__init__()
        self.window = window
        self.target_box = QComboBox()
        self.target_box.addItem("Whole window", "window")
        for name, panel in window.panels.items():
            self.target_box.addItem(f"Panel: {panel.title}", name)
        self.size_box = QComboBox()
        self.width_box, self.height_box = QSpinBox(), QSpinBox()
        for box in (self.width_box, self.height_box):
            box.setRange(16, 16384)
            box.setSuffix(" px")
        self.width_box.setValue(1920)
        self.height_box.setValue(1080)
        custom = QHBoxLayout()
        custom.addWidget(self.width_box)
        custom.addWidget(self.height_box)
        self.addRow("Picture of", self.target_box)
        self.addRow("Size", self.size_box)
        self.addRow("Custom size", custom)
        self.target_box.currentIndexChanged.connect(self._fill_sizes)
        self.size_box.currentIndexChanged.connect(self._on_size_changed)
        self._fill_sizes()

    @property
    def target_name(self) -> str:
        return str(self.target_box.currentData())

    def target(self) -> QWidget:
        from seqviz.app.export.pictures import picture_target

        return picture_target(self.window, self.target_name)

    def _fill_sizes(self) -> None:
        from seqviz.app.export.pictures import current_size, picture_target

        current = current_size(picture_target(self.window, self.target_name))
        self.size_box.blockSignals(True)
        self.size_box.clear()
        self.size_box.addItem(f"Current size ({current.width()} x {current.height()})", current)
        for w, h, label in PRESET_SIZES:
            self.size_box.addItem(f"{w} x {h} ({label})", QSize(w, h))
        self.size_box.addItem("Custom", None)
        self.size_box.blockSignals(False)
        self._on_size_changed()

    def _on_size_changed(self, *_args) -> None:
        custom = self.size_box.currentData() is None
        self.width_box.setEnabled(custom)
        self.height_box.setEnabled(custom)

    @property
    def size(self) -> QSize:
        chosen = self.size_box.currentData()
        return QSize(chosen) if chosen is not None else QSize(self.width_box.value(), self.height_box.value())

    def select(self, target: str | None = None, size: QSize | None = None) -> None:
        """Choose a target and a size (a preset if it is one, else custom); for scripts and tests."""
        if target is not None:
            self.target_box.setCurrentIndex(max(0, self.target_box.findData(target)))
        if size is not None:
            index = next(
                (i for i in range(1, self.size_box.count() - 1) if self.size_box.itemData(i) == size), -1
            )
            self.size_box.setCurrentIndex(index if index >= 0 else self.size_box.count() - 1)
            self.width_box.setValue(size.width())
            self.height_box.setValue(size.height())

    # The dialogs open with what the last export used: a lecturer exports many slides alike.
    def restore(self, settings: AppSettings) -> None:
        self.target_box.setCurrentIndex(max(0, self.target_box.findData(settings.export_value("target"))))
        width, _, height = settings.export_value("custom_size", "1920x1080").partition("x")
        if not (width.isdigit() and height.isdigit() and all(len(n) < 6 for n in (width, height))):
            width, height = "1920", "1080"  # the file's value is no size (digits beyond any spin box)
        self.width_box.setValue(int(width))
        self.height_box.setValue(int(height))
        choice = settings.export_value("size", "current")
        if choice == "custom":
            self.size_box.setCurrentIndex(self.size_box.count() - 1)
        elif choice != "current":
            self.select(size=QSize(int(width), int(height)) if choice == "preset" else None)

    def remember(self, settings: AppSettings) -> None:
        settings.set_export_value("target", self.target_name)
        index = self.size_box.currentIndex()
        choice = "current" if index == 0 else "custom" if index == self.size_box.count() - 1 else "preset"
        settings.set_export_value("size", choice)
        if choice != "current":
            settings.set_export_value("custom_size", f"{self.size.width()}x{self.size.height()}")


class PictureDialog(QDialog):
    def __init__(self, window, title: str = "Export picture") -> None:
        super().__init__(window)
        self.setWindowTitle(title)
        self.form = TargetSizeForm(window)
        self.form.restore(AppSettings())
        self.setLayout(self.form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.form.addRow(buttons)
        self.buttons = buttons


def export_picture(window, dialog: PictureDialog | None = None) -> Path | None:
    """Ask what and how big, then where; write the PNG or SVG. Returns the path written, or None."""
    dialog = dialog or PictureDialog(window)
    if dialog.result() != QDialog.DialogCode.Accepted and dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    dialog.form.remember(AppSettings())
    suggested = in_last_folder(EXPORT_FOLDER, f"seqviz-{dialog.form.target_name}-step{window.step}.png")
    path = choose_save_path(window, "Export picture", PICTURE_FILTER, suggested)
    if not path:
        return None
    remember_folder(EXPORT_FOLDER, path)
    from seqviz.app.export.pictures import save_picture

    try:
        return save_picture(dialog.form.target(), path, dialog.form.size)
    except ExportError as exc:
        dialogs.show_error(window, "Cannot export the picture", str(exc))
    except OSError as exc:
        dialogs.show_error(window, "Cannot export the picture", f"{path}: {exc.strerror or exc}")
    return None


def copy_picture(window) -> None:
    from seqviz.app.export.pictures import copy_picture as copy

    copy(window)
    window.statusBar().showMessage("Picture of the window copied", 3000)


# animations ---------------------------------------------------------------------------------------
class AnimationDialog(PictureDialog):
    """Target and size, plus the steps (from, to) and the frame rate."""

    def __init__(self, window) -> None:
        super().__init__(window, "Export animation")
        last = max(1, window.num_steps)
        self.first_box, self.last_box, self.fps_box = QSpinBox(), QSpinBox(), QSpinBox()
        self.first_box.setRange(1, last)
        self.last_box.setRange(1, last)
        self.last_box.setValue(last)
        self.fps_box.setRange(1, GIF_MAX_FPS)
        fps = AppSettings().export_value("fps", "4")
        self.fps_box.setValue(int(fps) if fps.isdigit() else 4)
        self.fps_box.setSuffix(" frames/s")
        steps = QHBoxLayout()
        steps.addWidget(self.first_box)
        steps.addWidget(self.last_box)
        row = self.form.rowCount() - 1  # before the buttons
        self.form.insertRow(row, "Steps (from, to)", steps)
        self.form.insertRow(row + 1, "Frame rate", self.fps_box)

    @property
    def steps(self) -> range:
        return range(self.first_box.value(), self.last_box.value() + 1)


def export_animation(window, dialog: AnimationDialog | None = None) -> Path | None:
    """Ask for the steps, size and frame rate, then where; write the GIF or MP4 with a progress
    dialog whose Cancel leaves no file. Returns the path written, or None."""
    if window.trace is None:
        dialogs.show_error(window, "Nothing to export", "Load a model and run a text first.")
        return None
    dialog = dialog or AnimationDialog(window)
    if dialog.result() != QDialog.DialogCode.Accepted and dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    settings = AppSettings()
    dialog.form.remember(settings)
    settings.set_export_value("fps", str(dialog.fps_box.value()))
    steps = dialog.steps
    if len(steps) == 0:
        dialogs.show_error(window, "Cannot export the animation", "The last step is before the first.")
        return None
    name = f"seqviz-{dialog.form.target_name}-steps{steps[0]}-{steps[-1]}.gif"
    path = choose_save_path(window, "Export animation", ANIMATION_FILTER, in_last_folder(EXPORT_FOLDER, name))
    if not path:
        return None
    remember_folder(EXPORT_FOLDER, path)
    return _write_animation(window, dialog, steps, path)


def _write_animation(window, dialog: AnimationDialog, steps: range, path: str) -> Path | None:
    from seqviz.app.export.pictures import export_animation as write

    progress = QProgressDialog("Exporting the animation...", "Cancel", 0, len(steps), window)
    progress.setWindowTitle("Export animation")
    progress.setWindowModality(Qt.WindowModality.WindowModal)
    progress.setMinimumDuration(300)

    def on_progress(done: int, total: int) -> bool:
        progress.setValue(done)
        progress.setLabelText(f"Frame {done} of {total}")
        QApplication.processEvents()
        return not progress.wasCanceled()

    window.progress_dialog = progress  # tests press its Cancel button
    window.playback.pause()
    try:
        done = write(
            window, dialog.form.target(), path, steps, dialog.fps_box.value(), dialog.form.size, on_progress
        )
    except ExportError as exc:
        dialogs.show_error(window, "Cannot export the animation", str(exc))
        return None
    finally:
        progress.close()
        progress.deleteLater()
        window.progress_dialog = None
    if not done:
        window.statusBar().showMessage("Animation export cancelled", 3000)
        return None
    window.statusBar().showMessage(f"Wrote {Path(path).name} ({len(steps)} frames)", 5000)
    return Path(path)


# scenes -------------------------------------------------------------------------------------------
def save_scene(window, path: str | None = None) -> Path | None:
    from seqviz.app import scenes

    try:
        scene = scenes.capture(window)
    except scenes.SceneError as exc:
        dialogs.show_error(window, "Cannot save a scene", str(exc))
        return None
    if not path:
        suggested = in_last_folder(SCENE_FOLDER, f"seqviz-step{window.step}.seqviz")
        path = choose_save_path(window, "Save scene", SCENE_FILTER, suggested)
        if not path:
            return None
        remember_folder(SCENE_FOLDER, path)
    if not Path(path).suffix:
        path += scenes.SCENE_SUFFIX
    try:
        return scene.save(path)
    except (ExportError, OSError, scenes.SceneError) as exc:
        dialogs.show_error(window, "Cannot save the scene", str(exc))
        return None


def open_scene(window, path: str | None = None, *, wait: bool = False) -> bool:
    """Open a .seqviz scene: theme and layout at once, the model and step when it has run."""
    from seqviz.app import scenes

    if not path:
        path = choose_open_path(window, "Open scene", SCENE_FILTER, last_folder(SCENE_FOLDER))
        if not path:
            return False
        remember_folder(SCENE_FOLDER, path)
    try:
        scene = scenes.Scene.load(path)
    except scenes.SceneError as exc:
        dialogs.show_error(window, "Cannot open the scene", str(exc))
        return False
    return scenes.apply(window, scene, wait=wait)
