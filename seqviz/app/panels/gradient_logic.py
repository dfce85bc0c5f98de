"""The gradient flow panel's numbers, without Qt: cell kinds, log values and levels, colours, bar heights,
the influence-by-distance average and the panel's texts.

`values` is `input_gradient_norm` (T, S) or a part of it: row t (0-based, step t + 1) is the output
step, column s the input (or source) position, the value ||dy_t/dx_s||_2 >= 0. A causal model's entries
with s > t are exact zeros; NaN and inf may occur (exploding gradients) and are kept as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from seqviz.core.trace import Trace

# Kinds of cell (uint8 codes): a positive finite value, an exact zero, NaN (or any other value a norm
# cannot be), +inf, and a row the background job has not computed yet.
FINITE, ZERO, NAN, INF, PENDING = 0, 1, 2, 3, 4
KIND_NAMES = {FINITE: "value", ZERO: "zero", NAN: "NaN", INF: "inf", PENDING: "not computed yet"}
LOG, LINEAR = "log", "linear"
DEFAULT_TARGET = "the log-probability of the prediction shown at step t"
BARE_TARGET = "the length \u2016h_t\u2016 of the top layer's output at step t"
_SUPERSCRIPT = str.maketrans(
    "-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
)
RGBA = tuple[int, int, int, int]


def cell_kinds(values: np.ndarray) -> np.ndarray:
    """The kind of every cell (same shape, uint8): FINITE, ZERO, NAN or INF."""
    values = np.asarray(values)
    kinds = np.full(values.shape, NAN, np.uint8)
    kinds[np.isfinite(values) & (values > 0)] = FINITE
    kinds[values == 0] = ZERO
    kinds[np.isposinf(values)] = INF
    return kinds


def log_values(values: np.ndarray) -> np.ndarray:
    """log10 of the positive finite values (float64); NaN for zeros, NaN and inf."""
    values = np.asarray(values, np.float64)
    out = np.full(values.shape, np.nan)
    good = np.isfinite(values) & (values > 0)
    out[good] = np.log10(values[good])
    return out


def log_range(values: np.ndarray) -> tuple[float, float] | None:
    """(min, max) of log10 over the positive finite values, or None when there are none."""
    logs = log_values(values)
    good = logs[np.isfinite(logs)]
    return (float(good.min()), float(good.max())) if good.size else None


def decades(span: tuple[float, float] | None) -> tuple[float, float]:
    """Whole decades around a log10 range (at least one decade wide): the levels of the colour scale
    and the bar and distance plots' value range, so their ticks fall on powers of ten."""
    if span is None:
        return (-1.0, 0.0)
    # a float32 power of ten is a hair off (log10 of float32 1e-4 is -4.0000000012): no extra decade
    lo, hi = np.floor(span[0] + 1e-6), np.ceil(span[1] - 1e-6)
    return (float(lo), float(max(hi, lo + 1)))


def decade_label(power: float) -> str:
    """'10⁻⁵' for -5; '1' and '10' for 0 and 1."""
    power = int(round(power))
    return {0: "1", 1: "10"}.get(power, "10" + str(power).translate(_SUPERSCRIPT))


def format_value(value: float) -> str:
    """A value as tooltips and labels give it: six significant digits, '0', 'inf' or 'NaN'."""
    value = float(value)
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    return "0" if value == 0 else f"{value:.6g}"


def cell_text(value: float, pending: bool, causal_zero: bool) -> str:
    """The value line of a tooltip: exact value, or what an empty or special cell means."""
    if pending:
        return "not computed yet"
    text = f"\u2016\u2202y_t/\u2202x_s\u2016 = {format_value(value)}"
    if value == 0 and causal_zero:
        text += " (causal: step t cannot see a later token)"
    elif np.isposinf(value):
        text += " (overflow: the gradient exploded)"
    elif not np.isfinite(value) or value < 0:
        text += " (not a number: the gradient exploded)"
    return text


def rgba_cells(
    values: np.ndarray,
    levels: tuple[float, float],
    table: np.ndarray,
    specials: Mapping[int, RGBA],
    pending_rows: np.ndarray | None = None,
) -> np.ndarray:
    """uint8 colours (..., 4) of `values` (any shape; rows on axis 0): log10 of a positive finite value
    through `table` (a (256, 3) colour map) over `levels`; ZERO, NAN, INF and PENDING (rows where
    `pending_rows` is True) in their `specials` colours."""
    kinds = cell_kinds(values)
    if pending_rows is not None:
        kinds[np.asarray(pending_rows, bool)] = PENDING
    lo, hi = levels
    logs = log_values(values)
    scaled = np.clip((np.nan_to_num(logs, nan=lo) - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    index = np.rint(scaled * (len(table) - 1)).astype(np.intp)
    out = np.empty((*kinds.shape, 4), np.uint8)
    out[..., :3] = table[index]
    out[..., 3] = 255
    for kind, colour in specials.items():
        out[kinds == kind] = colour
    return out


def legend_labels(kinds: set[int], two_sided: bool) -> list[tuple[int, str]]:
    """The map legend's entries for the special kinds of cell the map holds, in a fixed order."""
    labels = {ZERO: "0" if two_sided else "0 (cannot see)", NAN: "NaN", INF: "inf", PENDING: "not computed"}
    return [(kind, labels[kind]) for kind in (ZERO, NAN, INF, PENDING) if kind in kinds]


def text_colour(rgb: tuple[int, int, int]) -> str:
    """Black or white, whichever reads better on `rgb` (relative luminance)."""
    r, g, b = (c / 255 for c in rgb[:3])
    return "#000000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "#ffffff"


# Bars --------------------------------------------------------------------------------------------
def value_range(values: np.ndarray, scale: str) -> tuple[float, float]:
    """The bars' y range for the whole map (fixed while stepping): whole decades of log10 (log), or
    0..largest finite value (linear)."""
    if scale == LOG:
        return decades(log_range(values))
    finite = np.asarray(values)[np.isfinite(values)]
    top = float(finite.max()) if finite.size else 0.0
    return (0.0, top if top > 0 else 1.0)


@dataclass(frozen=True)
class BarLayout:
    """One step's bars: bar s spans y0..y0 + heights[s] in plot coordinates; zeros and NaN have no bar
    (height 0), inf a bar to the top of the range; `kinds` says which is which."""

    y0: float
    heights: np.ndarray  # (S,)
    kinds: np.ndarray  # (S,) FINITE, ZERO, NAN, INF (PENDING: the whole row)


def bar_layout(row: np.ndarray | None, scale: str, span: tuple[float, float], size: int) -> BarLayout:
    """Bars of one map row (None: not computed yet, `size` pending bars) on `scale` over `span`."""
    lo, hi = span
    y0 = lo if scale == LOG else 0.0
    if row is None:
        return BarLayout(y0, np.zeros(size), np.full(size, PENDING, np.uint8))
    kinds = cell_kinds(row)
    tops = log_values(row) if scale == LOG else np.asarray(row, np.float64)
    heights = np.where(kinds == FINITE, np.nan_to_num(tops, nan=y0) - y0, 0.0)
    heights = np.where(kinds == INF, hi - y0, np.maximum(heights, 0.0))
    return BarLayout(y0, heights, kinds)


# Influence against distance ------------------------------------------------------------------------
class DistanceAverage:
    """Mean influence at each distance d = t - s over the computed rows, from the finite entries.

    Rows can arrive one at a time (a background job): `add_rows` keeps per-distance sums, so a row
    costs O(S), and a row given again replaces its earlier contribution. One-sided (causal models):
    d >= 0 only; two-sided (models that read both ways, source positions): d from -(S-1) to T-1,
    negative d meaning later tokens.
    """

    def __init__(self, num_rows: int, num_cols: int, two_sided: bool) -> None:
        self.num_rows, self.num_cols, self.two_sided = num_rows, num_cols, two_sided
        self.first = -(num_cols - 1) if two_sided else 0  # the smallest distance shown
        self.distances = np.arange(self.first, num_rows)  # (n,)
        self.sums = np.zeros(self.distances.size)
        self.counts = np.zeros(self.distances.size, np.int64)
        self.left_out = 0  # NaN and inf entries in the shown distances, not averaged
        self._rows: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, int]] = {}

    def add_rows(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Rows `rows` (0-based) of the map, `values` (len(rows), S)."""
        for r, row in zip(np.asarray(rows, np.intp), np.asarray(values, np.float64), strict=True):
            self._apply(self._rows.pop(int(r), None), -1)
            contribution = self._contribution(int(r), row)
            self._rows[int(r)] = contribution
            self._apply(contribution, +1)

    def _contribution(self, r: int, row: np.ndarray):
        index = r - np.arange(self.num_cols) - self.first  # position of each column's distance
        shown = (index >= 0) & (index < self.distances.size)
        finite = shown & np.isfinite(row)
        n = self.distances.size
        sums = np.bincount(index[finite], weights=row[finite], minlength=n)
        counts = np.bincount(index[finite], minlength=n)
        return sums, counts, index, int((shown & ~np.isfinite(row)).sum())

    def _apply(self, contribution, sign: int) -> None:
        if contribution is not None:
            sums, counts, _index, left_out = contribution
            self.sums += sign * sums
            self.counts += sign * counts
            self.left_out += sign * left_out

    def describe(self, d: int) -> str | None:
        """Hover text at distance `d`: the mean, how many entries it averages, what was left out."""
        i = d - self.first
        if not 0 <= i < self.distances.size:
            return None
        mean, count = format_value(self.means()[i]), int(self.counts[i])
        text = (
            f"distance t \u2212 s = {d}\nmean \u2016\u2202y_t/\u2202x_s\u2016 = {mean} over {count} entries"
        )
        if self.left_out:
            text += f"\n{self.left_out} NaN/inf entries left out of the averages"
        return text

    def means(self) -> np.ndarray:
        """(n,) the mean at each of `distances`; NaN where no finite entry was averaged."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.counts > 0, self.sums / np.maximum(self.counts, 1), np.nan)


def row_by_distance(row: np.ndarray, r: int, two_sided: bool) -> tuple[np.ndarray, np.ndarray]:
    """One row's positive finite values against their distance r - s: (distances, values)."""
    d = r - np.arange(row.size)
    keep = np.isfinite(row) & (row > 0) & ((d >= 0) | two_sided)
    return d[keep], np.asarray(row, np.float64)[keep]


# Texts ------------------------------------------------------------------------------------------
def gradient_target(trace: Trace) -> str:
    """What y_t is: the trace's own description (a TraceMeta field or `extra` key `gradient_target`),
    else what the core computes for a model with a head or a bare module."""
    meta = trace.meta
    given = getattr(meta, "gradient_target", None) or meta.extra.get("gradient_target")
    if given:
        return str(given)
    return DEFAULT_TARGET if meta.task or "probs" in trace else BARE_TARGET


def has_source_columns(trace: Trace, num_cols: int) -> bool:
    """Whether the columns are source positions (sequence-to-sequence), not the input steps."""
    source = trace.source_tokens
    return (
        bool(source)
        and (trace.meta.task == "seq2seq" or trace.meta.kind == "encoder-decoder")
        and (len(source) == num_cols)
    )


def reads_both_ways(trace: Trace, num_cols: int) -> bool:
    """Whether a step's output depends on later inputs: bidirectional and encoder models, and a
    decoder's view of its whole source."""
    return not trace.meta.causal or has_source_columns(trace, num_cols)


def note_text(trace: Trace, num_cols: int) -> str:
    """The panel's note: what y_t is, which way the model reads, and the edits it ran with."""
    parts = [f"y_t = {gradient_target(trace)}"]
    if has_source_columns(trace, num_cols):
        parts.append("columns: source words (the decoder reads the whole source: both sides shown)")
    elif not trace.meta.causal:
        parts.append("reads both ways: later tokens count too (negative distance)")
    else:
        parts.append("causal: reads left to right (later tokens have exactly 0)")
    parts += list(trace.meta.edits)
    return " \u00b7 ".join(parts)


def progress_text(done: int, total: int) -> str:
    return f"computing gradients: {done} / {total} rows"
