"""Colour ranges of the diverging heatmaps (hidden states, cells, candidates, differences): Qt-free.

A range symmetric around 0 that a few extreme values do not decide: it ends at the 99th percentile of
|values| (`diverging_scale`), and what lies beyond is drawn in its end colours and said (the colour
bar's end labels and hover text, the panels' notes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ROBUST_PERCENTILE = 99.0  # a diverging colour range ends at this percentile of |values| ...
CLIP_WORTH = 1.5  # ... when the largest |value| is more than this times it (else at the largest)


@dataclass(frozen=True)
class ColourScale:
    """A colour range symmetric around 0 and what lies beyond it (drawn in the range's end colours)."""

    levels: tuple[float, float]
    beyond: float = 0.0  # the share of the finite values outside `levels`
    largest: float = 0.0  # the largest finite |value|

    @property
    def clipped(self) -> bool:
        return self.beyond > 0

    @property
    def bar_range(self) -> tuple[float, float]:
        """A value axis that holds every value (bars are read against their axis, not a colour)."""
        top = max(self.levels[1], self.largest)
        return -top, top

    def summary(self) -> str:
        """A panel note's part: "colour range ±13.2, 0.8% of values beyond (up to ±67.3)"."""
        if not self.clipped:
            return ""
        top, largest = f"\u00b1{self.levels[1]:.3g}", f"\u00b1{self.largest:.3g}"
        return f"colour range {top}, {self._share()} of values beyond (up to {largest})"

    def _share(self) -> str:
        return f"{100 * self.beyond:.2g}%"

    def describe(self) -> str:
        """One line for the colour bar's tooltip and the panels' notes ("" when nothing is clipped)."""
        if not self.clipped:
            return ""
        top, largest = f"\u00b1{self.levels[1]:.3g}", f"\u00b1{self.largest:.3g}"
        return (
            f"colour range {top} (the {ROBUST_PERCENTILE:.0f}th percentile of |values|): "
            f"{self._share()} of the values, up to {largest}, lie beyond it in its end colours"
        )


def diverging_scale(values: np.ndarray, floor: float = 1.0) -> ColourScale:
    """A robust colour range around 0 for `values`: (-m, m) with m the 99th percentile of |values|,
    at least `floor` ((-1, 1) holds tanh's values whole). A few extreme values (an LSTM's cells
    drifting to +-70 where most stay within +-10) no longer wash every other cell out to the middle
    colour: they are clipped, and `ColourScale.beyond` says how many. When the largest |value| is
    within CLIP_WORTH of the percentile, the range holds every value (clipping would gain nothing).
    NaN and inf are left out (drawn as such)."""
    magnitudes = np.abs(values[np.isfinite(values)]) if values.size else np.zeros(0, np.float32)
    if magnitudes.size == 0:
        return ColourScale((-floor, floor))
    largest = float(magnitudes.max())
    top = max(float(np.percentile(magnitudes, ROBUST_PERCENTILE)), floor)
    if largest <= top * CLIP_WORTH:
        top = max(largest, floor)
        return ColourScale((-top, top), 0.0, largest)
    beyond = float(np.count_nonzero(magnitudes > top)) / magnitudes.size
    return ColourScale((-top, top), beyond, largest)
