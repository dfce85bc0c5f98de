"""Text too long for its room ends after its last whole word that fits, with "…".

Qt cuts (or elides) text in the middle of a word: "longrange-lstm — LSTI", "attention, layer 1, he…".
Here a title or a chooser's entry keeps whole words; its widget's tooltip has the whole text.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QFontMetricsF

ELLIPSIS = "\u2026"


def elide_words(text: str, metrics: QFontMetrics | QFontMetricsF, width: float) -> str:
    """`text` if it fits `width` pixels, else its first whole words and " …" (a dash or comma left
    hanging before it dropped); a first word too long for `width` is cut by Qt's elision."""
    if metrics.horizontalAdvance(text) <= width:
        return text
    words = text.split(" ")
    while len(words) > 1:
        words.pop()
        head = " ".join(words).rstrip(" \u2014-,;:(")
        if head and metrics.horizontalAdvance(f"{head} {ELLIPSIS}") <= width:
            return f"{head} {ELLIPSIS}"
    return metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
