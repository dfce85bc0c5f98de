"""Marks over the token strip's chips: a selected span of steps, and steps marked by a search.

Both are options of the first run's Selection under the "tokens" panel, so the strip and any panel
(Find units) share them through the viewer and a scene keeps them:

    ("tokens", "span")   "3-5"     steps 3..5 (1-based), chosen by shift-clicking / shift-dragging chips
    ("tokens", "marks")  "5,17"    steps to mark, e.g. where Find units' Match found the units on

The strip paints an outline around the span and a bar under each marked chip (`paint_options`), and
writes the span of a shift-drag over its chips (`SpanDrag`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QRect, QRectF
from PySide6.QtGui import QColor, QPainter, QPen

from seqviz.app.viewer.model import Selection

PANEL, SPAN, MARKS = "tokens", "span", "marks"
BAR = 3  # pixels: the bar under a marked chip, in the margin below it


def parse_span(value: str | None) -> tuple[int, int] | None:
    """ "3-5" -> (3, 5); "4" -> (4, 4); empty or malformed -> None."""
    first, _, last = (value or "").partition("-")
    try:
        a, b = int(first), int(last or first)
    except ValueError:
        return None
    return (min(a, b), max(a, b)) if min(a, b) >= 1 else None


def span_text(first: int, last: int) -> str:
    first, last = sorted((first, last))
    return f"{first}-{last}"


def parse_steps(value: str | None) -> frozenset[int]:
    """ "5,17" -> {5, 17}; pieces that are not positive integers are ignored."""
    steps = set()
    for piece in (value or "").split(","):
        if piece.strip().isdigit() and int(piece) >= 1:
            steps.add(int(piece))
    return frozenset(steps)


def paint(
    painter: QPainter,
    chip_rect: Callable[[int], QRect],
    shown: Iterable[int],
    span: tuple[int, int] | None,
    marks: frozenset[int],
    accent: QColor,
) -> None:
    """The span's outline and the marks' bars for the chips `shown` (0-based indices); `chip_rect(i)`
    is where chip i is drawn."""
    shown = list(shown)
    if not shown or (span is None and not marks):
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(accent, 2))
    painter.setBrush(QColor(0, 0, 0, 0))
    if span is not None:
        inside = [i for i in shown if span[0] - 1 <= i <= span[1] - 1]
        if inside:
            box = QRectF(chip_rect(inside[0]).united(chip_rect(inside[-1]))).adjusted(-1.5, -1.5, 1.5, 1.5)
            painter.drawRoundedRect(box, 6, 6)
    painter.setPen(QPen(QColor(0, 0, 0, 0)))
    painter.setBrush(accent)
    for i in shown:
        if i + 1 in marks:
            rect = chip_rect(i)
            painter.drawRect(QRectF(rect.left() + 2, rect.bottom() + 2, rect.width() - 4, BAR))
    painter.restore()


def is_marks_option(panel: str, key: str) -> bool:
    """Whether a Selection option (panel, key) is the span or the marks."""
    return panel == PANEL and key in (SPAN, MARKS)


def paint_options(
    painter: QPainter,
    selection: Selection,
    chip_rect: Callable[[int], QRect],
    shown: Iterable[int],
    accent: QColor,
) -> None:
    """`paint` the span and the marks that `selection`'s options hold."""
    span = parse_span(selection.option(PANEL, SPAN))
    marks = parse_steps(selection.option(PANEL, MARKS))
    paint(painter, chip_rect, shown, span, marks, accent)


class SpanDrag:
    """A shift-click or shift-drag over the chips: the span from the step it started on to the step
    under the pointer, written to `selection`'s span option as the pointer moves."""

    def __init__(self, selection: Selection) -> None:
        self.selection = selection
        self.anchor: int | None = None  # the step the drag started on (None: no drag, or off the chips)

    @property
    def active(self) -> bool:
        return self.anchor is not None

    def start(self, step: int | None) -> None:
        self.anchor = step
        self.extend(step)

    def extend(self, step: int | None) -> None:
        if self.anchor is not None and step is not None:
            self.selection.set_option(PANEL, SPAN, span_text(self.anchor, step))

    def end(self) -> None:
        self.anchor = None
