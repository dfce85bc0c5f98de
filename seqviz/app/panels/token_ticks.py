"""Which steps of a token axis get a label, without Qt: every step when the labels fit, else a thinned
set that always keeps the first and the last step in view.

A step axis puts step s at pixel (s - lo) * room of an axis showing lo..hi (room: pixels per step).
pyqtgraph drops a tick label that sticks out of its axis, so on a long input the first and the last
token ("<s>", "</s>") vanished, and a label that did not fit at every step turned the axis into step
numbers. Here the end labels are moved inside the axis instead (the axis draws them there), and the
labels in between are every k-th step, k from 1, 2, 5, 10, 20, ... so that none overlaps another.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence


def nice_strides() -> Iterator[int]:
    """1, 2, 5, 10, 20, 50, 100, ...: strides whose multiples a reader can count."""
    scale = 1
    while True:
        for m in (1, 2, 5):
            yield m * scale
        scale *= 10


def label_extent(step: int, width: float, room: float, lo: float, length: float) -> tuple[float, float]:
    """(start, end) pixels of the label of `step` (`width` pixels wide) centred on its step and moved
    inside the axis (0..length) when it would stick out."""
    centre = (step - lo) * room
    start = min(max(centre - width / 2, 0.0), max(length - width, 0.0))
    return start, start + width


def every_step_fits(widths: Sequence[float], room: float, gap: float) -> bool:
    """Whether labels of these `widths`, centred `room` pixels apart, keep `gap` pixels between
    neighbours."""
    needed = max((a + b) / 2 for a, b in zip(widths, widths[1:], strict=False)) if len(widths) > 1 else 0
    return needed + gap <= room


def label_steps(
    first: int, last: int, widths: Sequence[float], room: float, lo: float, hi: float, gap: float
) -> list[int]:
    """The steps first..last (1-based, those in view) whose labels are drawn.

    `widths[s - 1]` is the size of step s's label along the axis (its width, or its height on a
    vertical axis); `room` is pixels per step on an axis showing lo..hi; labels keep `gap` pixels
    apart. The first and the last step are always labelled (when they do not fit together, the
    first); the others are the multiples of the smallest stride whose labels cannot overlap, less
    those that would run into an end label."""
    if last < first:
        return []
    if first == last:
        return [first]
    length = (hi - lo) * room
    stride = 1 if every_step_fits(widths[first - 1 : last], room, gap) else None
    if stride is None:
        widest = max(widths[first - 1 : last])
        stride = next(k for k in nice_strides() if k > 1 and k * room >= widest + gap)
    inner = range(stride * math.ceil((first + 1) / stride), last, stride)

    def extent(step: int) -> tuple[float, float]:
        return label_extent(step, widths[step - 1], room, lo, length)

    end = extent(last)
    kept, right = [first], extent(first)[1]
    for step in inner:
        start, stop = extent(step)
        if start >= right + gap and stop + gap <= end[0]:
            kept.append(step)
            right = stop
    if end[0] >= right + gap:
        kept.append(last)
    return kept
