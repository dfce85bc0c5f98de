"""Pictures and animations as a lecturer makes them: sizes, sharpness, SVG, GIF/MP4, cancel, clipboard,
themes."""

from __future__ import annotations

import sys
import weakref
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage
from PySide6.QtWidgets import QComboBox, QDialog, QGraphicsItem
from traces import lstm_trace, shown, transformer_trace

from seqviz.app import MainWindow, export
from seqviz.app.export import dialogs as export_dialogs
from seqviz.app.export import pictures
from seqviz.app.export.files import AnimationWriter, ExportError
from seqviz.app.window.settings import AppSettings
from seqviz.app.window.theme import current_theme, stroke_scale


@pytest.fixture
def out(tmp_path):
    """An empty folder for exported files (tmp_path also holds the test's settings)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def window(qtbot, dialog_log, theme):
    """A window showing an LSTM trace at step 5; the theme is light again afterwards (`theme`)."""
    w = shown(qtbot, MainWindow(), (1600, 900))
    w.show_trace(lstm_trace(T=12))
    w.set_step(5)
    return w


def pixels(image: QImage) -> np.ndarray:
    """(H, W, 3) int array of an image's RGB values."""
    return pictures._rgb(image).astype(np.int32)


def edge_energy(rgb: np.ndarray) -> float:
    """Mean squared difference between horizontal neighbours. A crisp edge is one big step; an
    upscaled one is spread over two pixels of half the step, which halves this."""
    grey = rgb.mean(axis=2)
    return float((np.diff(grey, axis=1) ** 2).mean())


def test_pictures_have_the_chosen_pixel_size(window):
    assert export.render_picture(window).size() == export.current_size(window)
    for w, h in ((1920, 1080), (3840, 2160), (1000, 1000)):
        assert export.render_picture(window, QSize(w, h)).size() == QSize(w, h)
    panel = window.panels["hidden"]
    assert export.render_picture(panel, QSize(1280, 720)).size() == QSize(1280, 720)
    assert window.size() == QSize(1600, 900)  # the window is laid out as before


def test_where_the_mouse_rests_is_no_part_of_a_picture(window):
    """A combo box under the pointer is drawn lighter on screen; a slide must not depend on that
    (a scene reopened under the pointer gave another picture than the one saved)."""
    before = pixels(export.render_picture(window))
    combo = window.panels["hidden"].findChild(QComboBox)
    combo.setAttribute(Qt.WidgetAttribute.WA_UnderMouse, True)  # what Qt sets when the pointer enters
    combo.update()
    assert np.array_equal(pixels(export.render_picture(window)), before)
    assert combo.underMouse()  # the window itself still shows the hover


def test_a_4k_picture_is_rendered_at_4k_not_upscaled(window):
    full_hd = export.render_picture(window, QSize(1920, 1080))
    uhd = export.render_picture(window, QSize(3840, 2160))
    upscaled = full_hd.scaled(3840, 2160, mode=Qt.TransformationMode.SmoothTransformation)
    # Same picture: the 4K one shrunk back is the Full HD one, give or take antialiasing.
    shrunk = uhd.scaled(1920, 1080, mode=Qt.TransformationMode.SmoothTransformation)
    assert np.abs(pixels(shrunk) - pixels(full_hd)).mean() < 6
    # But with twice the detail: text and lines have sharp edges an upscaled picture lacks.
    assert edge_energy(pixels(uhd)) > 1.5 * edge_energy(pixels(upscaled))


def test_svg_of_a_panel_is_a_valid_drawing_with_text(window, out):
    path = export.save_picture(window.panels["hidden"], out / "hidden.svg", QSize(1200, 800))
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    texts = [el.text or "" for el in root.iter() if el.tag.endswith("text")]
    assert any("hidden state" in t for t in texts)  # the plot title, as text not pixels
    from PySide6.QtSvg import QSvgRenderer

    assert QSvgRenderer(str(path)).isValid()


def test_gif_has_one_frame_per_step_at_the_chosen_size(window, out):
    path = out / "steps.gif"
    assert export.export_animation(window, window, path, range(2, 8), 5, QSize(640, 360))
    with Image.open(path) as gif:
        assert (gif.n_frames, gif.size) == (6, (640, 360))
        assert gif.info["duration"] == 200 and gif.info["loop"] == 0
        gif.seek(3)  # step 5
        frame = np.asarray(gif.convert("RGB"), dtype=np.int32)
    window.set_step(5)
    direct = pixels(export.render_picture(window, QSize(640, 360)))
    assert np.abs(frame - direct).mean() < 4  # palette rounding only
    assert window.step == 5  # the export puts the step back


def test_animation_writer_streams_and_keeps_no_frames(out):
    path = out / "stream.gif"
    rng = np.random.default_rng(0)
    sizes = []
    with AnimationWriter(path, 10, (200, 100)) as writer:
        temp = writer._temp
        for i in range(20):
            frame = np.zeros((100, 200, 3), np.uint8)
            frame[:, i * 10 : i * 10 + 10] = rng.integers(0, 255, 3)
            ref = weakref.ref(frame)
            writer.add(frame)
            del frame
            assert ref() is None  # the writer kept no reference to the frame
            sizes.append(temp.stat().st_size)
    assert all(b > a for a, b in zip(sizes, sizes[1:], strict=False))  # bytes reach the disk per frame
    with Image.open(path) as gif:
        assert gif.n_frames == 20


def test_mp4_has_every_frame(window, out):
    ffmpeg = pytest.importorskip("imageio_ffmpeg")
    path = out / "steps.mp4"
    assert export.export_animation(window, window.panels["hidden"], path, range(1, 9), 8, QSize(641, 361))
    assert path.read_bytes()[4:8] == b"ftyp"
    frames, _seconds = ffmpeg.count_frames_and_secs(str(path))
    assert frames == 8


def test_mp4_without_imageio_ffmpeg_says_how_to_get_it(out, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import fails
    with pytest.raises(ExportError, match="imageio-ffmpeg"):
        AnimationWriter(out / "x.mp4", 8, (64, 64))
    assert list(out.iterdir()) == []


def test_cancelling_an_animation_leaves_no_file(window, out):
    path = out / "cancelled.gif"
    calls = []

    def progress(done, total):
        calls.append(done)
        return done < 3

    assert not export.export_animation(window, window, path, range(1, 13), 4, QSize(320, 180), progress)
    assert calls[-1] == 3
    assert list(out.iterdir()) == []  # neither the file nor its temporary


def test_failed_picture_leaves_no_file(window, out, monkeypatch):
    monkeypatch.setattr(QImage, "save", lambda self, *args: False)
    with pytest.raises(ExportError):
        export.save_picture(window, out / "x.png")
    assert list(out.iterdir()) == []


def test_copy_picture_puts_the_window_on_the_clipboard(window):
    window.export_actions["copy_picture"].trigger()
    image = QGuiApplication.clipboard().image()
    assert image.size() == export.current_size(window)
    assert window.export_actions["copy_picture"].shortcut().toString() == "Ctrl+Shift+C"


def test_export_picture_dialog_writes_the_chosen_panel_and_size(window, out, monkeypatch):
    target = out / "gates"  # no suffix: the filter's .png is added
    monkeypatch.setattr(export_dialogs, "choose_save_path", lambda *a: str(target) + ".png")
    dialog = export_dialogs.PictureDialog(window)
    dialog.form.select("gates", QSize(800, 600))
    assert dialog.form.size_box.currentText() == "Custom"
    dialog.accept()
    path = export_dialogs.export_picture(window, dialog)
    assert path is not None and QImage(str(path)).size() == QSize(800, 600)
    dialog = export_dialogs.PictureDialog(window)
    dialog.form.select("window", QSize(1920, 1080))
    assert "Full HD" in dialog.form.size_box.currentText()


def test_export_dialogs_open_with_what_the_last_export_used(window, out, monkeypatch):
    monkeypatch.setattr(export_dialogs, "choose_save_path", lambda *a: str(out / "slide.png"))
    dialog = export_dialogs.PictureDialog(window)
    assert dialog.form.target_name == "window" and dialog.form.size_box.currentIndex() == 0
    dialog.form.select("gates", QSize(800, 600))
    dialog.accept()
    assert export_dialogs.export_picture(window, dialog) is not None
    again = export_dialogs.PictureDialog(window)
    assert again.form.target_name == "gates"
    assert again.form.size_box.currentText() == "Custom" and again.form.size == QSize(800, 600)
    again.form.select("window", QSize(3840, 2160))
    again.accept()
    export_dialogs.export_picture(window, again)
    third = export_dialogs.AnimationDialog(window)
    assert third.form.target_name == "window" and third.form.size == QSize(3840, 2160)
    assert third.form.size_box.currentIndex() not in (0, third.form.size_box.count() - 1)  # the preset


def test_export_animation_dialog_writes_the_steps_and_cancel_writes_nothing(window, out, monkeypatch):
    path = out / "anim.gif"
    monkeypatch.setattr(export_dialogs, "choose_save_path", lambda *a: str(path))
    dialog = export_dialogs.AnimationDialog(window)
    dialog.form.select("hidden", QSize(400, 300))
    dialog.first_box.setValue(3)
    dialog.last_box.setValue(6)
    dialog.accept()
    assert export_dialogs.export_animation(window, dialog) == path
    with Image.open(path) as gif:
        assert gif.n_frames == 4 and gif.size == (400, 300)
    path.unlink()
    monkeypatch.setattr(export_dialogs.QProgressDialog, "wasCanceled", lambda self: True)
    dialog = export_dialogs.AnimationDialog(window)
    dialog.accept()
    assert export_dialogs.export_animation(window, dialog) is None
    assert list(out.iterdir()) == []


def cursor_width(rgb: np.ndarray, colour: str) -> float:
    """The width in pixels of the step cursor (a vertical line in `colour`) halfway down it, its
    antialiased edge pixels counted by how much of the cursor's colour they hold (counted whole,
    the same edges made a thick line look less than twice a thin one)."""
    wanted = np.array(QColor(colour).getRgb()[:3])
    near = np.abs(rgb - wanted).sum(axis=2) < 40  # (H, W)
    column = int(np.argmax(near.sum(axis=0)))  # the cursor is the longest vertical run
    y = int(np.median(np.nonzero(near[:, column])[0]))
    row = near[y]
    left = column - int(np.argmin(row[column::-1]))  # first pixel of the run
    right = column + int(np.argmin(row[column:]))  # one past the last
    line = rgb[y].astype(float)
    background = line[max(left - 4, 0)]  # beyond the edge
    around = line[max(left - 3, 0) : right + 3]
    coverage = 1 - np.abs(around - wanted).sum(axis=1) / max(np.abs(background - wanted).sum(), 1)
    return float(np.clip(coverage, 0, 1).sum())


def test_lines_are_as_thick_relative_to_the_picture_at_any_size(window):
    """A 4K picture of the same layout has lines twice as many pixels wide as the Full HD one (pens
    are cosmetic: without scaled widths a projected 4K picture showed hairlines)."""
    panel = window.panels["units"]
    theme = current_theme()
    full_hd = cursor_width(pixels(export.render_picture(panel, QSize(1920, 1080))), theme.cursor)
    uhd = cursor_width(pixels(export.render_picture(panel, QSize(3840, 2160))), theme.cursor)
    assert full_hd >= 2 and 1.7 <= uhd / full_hd <= 2.3
    # the window on screen draws as before
    assert stroke_scale() == 1.0 and current_theme() is theme
    assert panel.step_line.pen.widthF() == theme.line_width
    assert [c.opts["pen"].widthF() for c in panel.curves] == [theme.line_width] * len(panel.curves)
    assert panel.plot.getAxis("left").pen().widthF() == theme.outline_width
    assert panel.plot.getAxis("left").cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache


def test_themes_restyle_the_window_and_are_remembered(window, qtbot, theme):
    light_text = window.font().pointSizeF()
    window.theme_actions["dark"].trigger()
    assert current_theme().name == "dark" and window.settings.theme == "dark"
    dark = pixels(export.render_picture(window.panels["hidden"]))
    assert dark.mean() < 110  # dark backgrounds, dark controls
    window.theme_actions["presentation"].trigger()
    assert current_theme().name == "presentation"
    presentation = pixels(export.render_picture(window.panels["hidden"]))
    assert presentation.mean() > 180
    assert window.tokens.strip.font().pointSizeF() > 1.4 * light_text
    window.settings.sync()
    theme("light")
    again = MainWindow(AppSettings())
    qtbot.addWidget(again)
    assert again.theme_actions["presentation"].isChecked()
    again.load_panels()
    assert current_theme().name == "presentation"


def test_a_transformer_panel_exports_too(window, out):
    window.show_trace(transformer_trace())
    target = export.picture_target(window, "attention")
    path = export.save_picture(target, out / "attention.png", QSize(1280, 720))
    assert QImage(str(path)).size() == QSize(1280, 720)
    with pytest.raises(ExportError, match="unknown panel"):
        export.picture_target(window, "nope")


def test_dialogs_are_not_modal_leftovers(window):
    dialog = export_dialogs.PictureDialog(window)
    dialog.reject()
    assert dialog.result() == QDialog.DialogCode.Rejected
