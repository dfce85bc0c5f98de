"""The ranges of values the app takes from scene files, the settings file and the command line (no Qt).

Why one place: a value read from a file went straight into Qt or a timer, and the file decided how
much memory a window took (a 100,000 x 100,000 window is 13 GB of pixels) or whether the process
aborted (a playback speed of NaN, a splitter size over 2^31). Readers validate against these ranges
and say which one a value missed; the viewer (Playback) clamps to the same ones.
"""

from __future__ import annotations

import math

SPEED_RANGE = (0.1, 1000.0)  # playback, steps per second
WINDOW_SIDE_RANGE = (100, 8192)  # a window's width and height in logical pixels (8K is 7680 x 4320)
PIXEL_RANGE = (0, 16384)  # a splitter part, a panel, a picture side
QT_INT_MAX = 2**31 - 1  # what Qt's ints hold: steps, layers, heads, units, scroll offsets
MAX_LIST = 65536  # entries of a list read from a file (units, sizes, offsets)
MAX_FILE_BYTES = 16 * 2**20  # a scene is a few KB (its dock layout in base64 the most of it)


def finite_in(value: object, bounds: tuple[float, float]) -> bool:
    """Whether `value` is a real number (not bool, not NaN or infinite) within `bounds`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and bounds[0] <= value <= bounds[1]


def whole_in(value: object, bounds: tuple[int, int]) -> bool:
    """Whether `value` is an int (not bool) within `bounds`."""
    return isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]
