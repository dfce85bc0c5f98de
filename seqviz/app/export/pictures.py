"""Pictures and animations of the window or one panel, at any pixel size, written atomically.

A picture is rendered, never upscaled: the widget is laid out at a logical size with the target's
aspect ratio and painted into a QImage of the target's pixel size with a device pixel ratio, so text,
lines and strokes are drawn at the output resolution (a 3840x2160 picture is the 1920x1080 one with
twice the detail). The plots' pens are cosmetic (widths in device pixels, blind to the pixel ratio),
so the theme's stroke widths are scaled by the same ratio while a picture is laid out: a line is
as thick relative to the picture at any size. The logical size keeps the layout as dense as on
screen (the same area) unless the widget's minimum size needs more room.

"The window" is what a person sees minus the menu bar: toolbar, token strip, panels and status bar.

Files are written to a temporary file in the same folder and renamed into place, so a failure or a
cancel never leaves a partial file. Animations stream: each frame goes to the writer (GIF via Pillow's
frame encoder, MP4 via imageio-ffmpeg) as soon as it is rendered; memory holds at most two frames.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QBuffer, QIODevice, QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QMainWindow,
    QStatusBar,
    QToolBar,
    QWidget,
)

from seqviz.app.export import prep as prepare
from seqviz.app.export.files import (
    ANIMATION_SUFFIXES,
    AnimationWriter,
    ExportError,
    atomic_path,
    check_writable,
)
from seqviz.app.window import theme as themes

PICTURE_SUFFIXES = (".png", ".svg")
MAX_SIDE = 16384  # pixels; QImage and most viewers stop here
MIN_SCALE = 0.25  # never lay out at more than 4x the picture's pixel size (text would vanish)

__all__ = [
    "ANIMATION_SUFFIXES",
    "PICTURE_SUFFIXES",
    "AnimationWriter",
    "ExportError",
    "PictureLayout",
    "atomic_path",
    "check_writable",
    "copy_picture",
    "current_size",
    "export_animation",
    "render_picture",
    "save_picture",
]


# Layout -----------------------------------------------------------------------------------------
def _parts(target: QWidget) -> list[QWidget]:
    """The widgets that make up the picture, top to bottom. The window's menu bar is left out."""
    if not isinstance(target, QMainWindow):
        return [target]
    bars = [*target.findChildren(QToolBar), *target.findChildren(QStatusBar)]
    parts = [w for w in bars if w.parentWidget() is target and not w.isHidden() and w.height() > 0]
    return sorted([*parts, target.centralWidget()], key=lambda w: w.y())


def _stretch_index(target: QWidget, parts: list[QWidget]) -> int:
    central = target.centralWidget() if isinstance(target, QMainWindow) else None
    return parts.index(central) if central in parts else 0


def current_size(target: QWidget) -> QSize:
    """The picture's size in pixels as it is on screen (logical size x the screen's pixel ratio)."""
    parts = _parts(target)
    top = min(p.y() for p in parts)
    bottom = max(p.geometry().bottom() + 1 for p in parts)
    width = max(p.width() for p in parts)
    ratio = target.devicePixelRatioF()
    return QSize(round(width * ratio), round((bottom - top) * ratio))


class PictureLayout:
    """Lays `target` out for pictures of `size` pixels while the `with` block runs; `render()` paints
    one picture. Strokes are drawn `scale` times as wide meanwhile. Sizes and strokes are put back
    when the block ends."""

    def __init__(self, target: QWidget, size: QSize | None = None) -> None:
        self.target = target
        self.parts = _parts(target)
        self.size = QSize(size) if size is not None else current_size(target)
        if not (0 < self.size.width() <= MAX_SIDE and 0 < self.size.height() <= MAX_SIDE):
            raise ExportError(f"picture size {self.size.width()}x{self.size.height()} is out of range")
        self._marks = prepare.show_picture_marks(target)  # before the sizes: a mark takes a line
        self._saved = [p.size() for p in self.parts]
        # the space between one part and the next (the main window's layout spacing)
        pairs = zip(self.parts, [*self.parts[1:], None], strict=True)
        self._gaps_after = [b.y() - a.geometry().bottom() - 1 if b else 0 for a, b in pairs]
        self.logical, self.scale = self._logical_size()
        self._sizes = self._part_sizes()

    def _logical_size(self) -> tuple[QSize, float]:
        """The size to lay the widgets out at, and the device pixel ratio that fills the picture."""
        ratio = self.target.devicePixelRatioF()
        current = current_size(self.target) / ratio
        minimum = self._minimum_size()
        w, h = self.size.width(), self.size.height()
        scale = math.sqrt(w * h / max(current.width() * current.height(), 1))
        scale = min(scale, w / max(minimum.width(), 1), h / max(minimum.height(), 1))
        scale = max(scale, MIN_SCALE)
        if abs(current.height() * w / current.width() - h) <= 1:
            # the picture is the screen at another resolution: the layout stays as it is
            return current, w / current.width()
        return QSize(math.ceil(w / scale), math.ceil(h / scale)), scale

    def _minimum_size(self) -> QSize:
        hints = [p.minimumSizeHint().expandedTo(p.minimumSize()) for p in self.parts]
        width = max(h.width() for h in hints)
        fixed = sum(p.height() for i, p in enumerate(self.parts) if i != self._stretch)
        height = fixed + hints[self._stretch].height() + sum(self._gaps_after)
        return QSize(width, height)

    @property
    def _stretch(self) -> int:
        return _stretch_index(self.target, self.parts)

    def _part_sizes(self) -> list[QSize]:
        w, h = self.logical.width(), self.logical.height()
        fixed = sum(p.height() for i, p in enumerate(self.parts) if i != self._stretch)
        sizes = [QSize(w, p.height()) for p in self.parts]
        sizes[self._stretch] = QSize(w, max(1, h - fixed - sum(self._gaps_after)))
        return sizes

    def __enter__(self) -> PictureLayout:
        # A picture shows finished work: a gradient map still filling in the background is completed.
        finish = getattr(self.target.window(), "finish_background_work", None)
        if finish is not None:
            finish()
        # The parent's layout would put the parts back to their on-screen sizes whenever a label
        # changes its size; switched off meanwhile, the parts' own layouts still work.
        parent = self.parts[0].parentWidget()
        self._parent_layout = parent.layout() if parent is not None else None
        self._was_enabled = self._parent_layout is not None and self._parent_layout.isEnabled()
        if self._was_enabled:
            self._parent_layout.setEnabled(False)
        self._apply()
        for _ in range(2):  # widget layouts, then the plots' graphics layouts inside them
            QApplication.sendPostedEvents(None, 0)
        # before the step is shown again: views that draw per step read the widths then
        self._stroke_scale_before = themes.set_stroke_scale(self.scale)
        self._cached = prepare.stop_caching(self.target) if self.scale != 1 else []
        self._hovered = prepare.forget_hover(self.target)
        try:
            prepare.show_step_again(self.target)
            prepare.settle_axes(self.target)
        except BaseException:
            self.__exit__()  # the window must not keep the picture's layout or strokes
            raise
        return self

    def __exit__(self, *exc) -> None:
        themes.set_stroke_scale(self._stroke_scale_before)
        for mark in self._marks:
            mark.hide()
        for widget in self._hovered:
            widget.setAttribute(Qt.WidgetAttribute.WA_UnderMouse, True)
        for item, mode in self._cached:
            item.setCacheMode(mode)
        for part, size in zip(self.parts, self._saved, strict=True):
            part.resize(size)
        if self._was_enabled:
            self._parent_layout.setEnabled(True)
            self._parent_layout.invalidate()
        self.target.updateGeometry()

    def _apply(self) -> None:
        """(Re)size the parts; a parent layout may have put them back while events were processed."""
        for part, size in zip(self.parts, self._sizes, strict=True):
            if part.size() != size:
                part.resize(size)
        QApplication.sendPostedEvents(None, 0)  # pending layout requests, e.g. a longer label
        for part, size in zip(self.parts, self._sizes, strict=True):
            if part.size() != size:
                part.resize(size)

    def _offsets_now(self) -> list[int]:
        """Where each part starts in the picture (logical pixels)."""
        heights = [size.height() + gap for size, gap in zip(self._sizes, self._gaps_after, strict=True)]
        return [sum(heights[:i]) for i in range(len(heights))]

    def _paint(self, painter: QPainter) -> None:
        background = self.target.palette().color(QPalette.ColorRole.Window)
        painter.fillRect(QRectF(0, 0, self.logical.width(), self.logical.height()), background)
        for part, y in zip(self.parts, self._offsets_now(), strict=True):
            part.render(painter, QPoint(0, y))

    def render(self) -> QImage:
        """One picture of `size` pixels, painted at the device pixel ratio `scale`."""
        self._apply()
        image = QImage(self.size, QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(self.scale)
        painter = QPainter(image)
        try:
            self._paint(painter)
        finally:
            painter.end()
        image.setDevicePixelRatio(1.0)  # a file or the clipboard gets plain pixels
        return image

    def render_svg(self, title: str = "seqviz") -> bytes:
        """The picture as SVG: text and lines as vectors, heatmaps as embedded images."""
        from PySide6.QtSvg import QSvgGenerator

        self._apply()
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setSize(self.size)
        generator.setResolution(96)  # CSS pixels: the file's width and height are the picture's pixels
        generator.setViewBox(QRectF(0, 0, self.logical.width(), self.logical.height()))
        generator.setTitle(title)
        generator.setDescription("exported by seqviz")
        painter = QPainter()
        if not painter.begin(generator):
            raise ExportError("cannot render the SVG picture")
        try:
            self._paint(painter)
        finally:
            painter.end()
        return bytes(buffer.data())


# Pictures ---------------------------------------------------------------------------------------
def render_picture(widget: QWidget, size: QSize | None = None) -> QImage:
    """A picture of `widget` (a panel, or the main window) of `size` pixels (default: as on screen)."""
    with PictureLayout(widget, size) as layout:
        return layout.render()


def save_picture(widget: QWidget, path: str | os.PathLike, size: QSize | None = None) -> Path:
    """Write a PNG or SVG picture of `widget` to `path` atomically. Raises ExportError.

    Qt renders into memory and Python writes the file: Qt never sees the file's name, which it could
    not hold if a byte of it is not UTF-8 (it would write elsewhere and leave the file empty)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in PICTURE_SUFFIXES:
        raise ExportError(
            f"cannot write a picture as {suffix or 'a file without a suffix'} (use .png or .svg)"
        )
    with PictureLayout(widget, size) as layout:
        data = layout.render_svg() if suffix == ".svg" else _png(layout.render())
    with atomic_path(path) as temp:
        temp.write_bytes(data)
    return path


def _png(image: QImage) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise ExportError("cannot encode the picture as PNG")
    return bytes(buffer.data())


def copy_picture(widget: QWidget, size: QSize | None = None) -> QImage:
    """Put a picture of `widget` on the clipboard; returns it."""
    image = render_picture(widget, size)
    QGuiApplication.clipboard().setImage(image)
    return image


# Animations -------------------------------------------------------------------------------------
Progress = Callable[[int, int], bool]  # (frames done, frames in all) -> keep going?


def export_animation(
    window,
    target: QWidget,
    path: str | os.PathLike,
    steps: range,
    fps: float,
    size: QSize | None = None,
    progress: Progress | None = None,
) -> bool:
    """Write one frame per step of `steps` (1-based) of `target` to a GIF or MP4 at `path`.

    `window.set_step` moves the step. Returns False (and leaves no file) if `progress` said stop.
    Raises ExportError for a file that cannot be written or a missing video encoder."""
    if len(steps) == 0:
        raise ExportError("the range of steps is empty")
    start_step = window.step
    try:
        with (
            PictureLayout(target, size) as layout,
            AnimationWriter(path, fps, (layout.size.width(), layout.size.height())) as writer,
        ):
            if writer.needs_palette:  # the first and last frames hold every colour the steps show
                window.set_step(steps[0])
                first = _rgb(layout.render())
                window.set_step(steps[-1])
                writer.set_palette([first, _rgb(layout.render())])
            for done, step in enumerate(steps):
                if progress is not None and not progress(done, len(steps)):
                    writer.abort()
                    return False
                window.set_step(step)
                writer.add(_rgb(layout.render()))
            if progress is not None:
                progress(len(steps), len(steps))
        return True
    finally:
        window.set_step(start_step)


def _rgb(image: QImage) -> np.ndarray:
    """(H, W, 3) uint8 copy of a QImage's pixels."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = rgb.height(), rgb.width(), rgb.bytesPerLine()
    data = np.frombuffer(rgb.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    return data[:, : w * 3].reshape(h, w, 3).copy()


def picture_target(window, name: str | None) -> QWidget:
    """The widget a picture named `name` shows: None or "window" for the whole window, else a panel
    (seqviz.app.panels.PANEL_NAMES), brought to the front of its tabs."""
    if name in (None, "", "window"):
        return window
    panel = window.panels.get(name)
    if panel is None:
        raise ExportError(f"unknown panel {name!r} (use one of {', '.join(window.panels)})")
    dock = window.dock_area.docks.get(name)
    if dock is not None:
        dock.show()
        dock.raise_()
        QApplication.sendPostedEvents(None, 0)
    return panel
