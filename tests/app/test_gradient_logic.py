"""The gradient flow panel's Qt-free logic: cell kinds, log levels, colours, bars, the distance average
(against a plain loop over the map) and the note, without a window."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from traces import encoder_decoder_trace, lstm_trace, transformer_trace

from seqviz.app.panels import gradient_logic as logic
from seqviz.app.panels.gradient_logic import FINITE, INF, LINEAR, LOG, NAN, PENDING, ZERO
from seqviz.core.trace import Trace

TABLE = np.stack([np.arange(256)] * 3, axis=1).astype(np.uint8)  # grey ramp: index = red channel
SPECIALS = {ZERO: (1, 1, 1, 255), NAN: (2, 2, 2, 255), INF: (3, 3, 3, 255), PENDING: (4, 4, 4, 255)}


def causal_map(T: int = 7, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = (10.0 ** rng.uniform(-6, 1, (T, T))).astype(np.float32)
    return np.where(np.triu(np.ones((T, T), bool), k=1), 0.0, values).astype(np.float32)


def test_cell_kinds():
    kinds = logic.cell_kinds(np.array([1e-30, 0.0, np.nan, np.inf, -1.0, -np.inf, 3.0]))
    assert kinds.tolist() == [FINITE, ZERO, NAN, INF, NAN, NAN, FINITE]


def test_log_values_and_range_skip_zeros_nan_and_inf():
    values = np.array([[1e-4, 0.0, np.nan], [np.inf, 10.0, 1.0]], np.float32)
    logs = logic.log_values(values)
    assert logs[0, 0] == pytest.approx(-4) and logs[1, 1] == pytest.approx(1) and logs[1, 2] == 0
    assert np.isnan(logs[0, 1]) and np.isnan(logs[0, 2]) and np.isnan(logs[1, 0])
    assert logic.log_range(values) == pytest.approx((-4, 1))
    assert logic.log_range(np.array([0.0, np.nan, np.inf])) is None


def test_decades_are_whole_and_at_least_one_wide():
    assert logic.decades((-4.3, 0.2)) == (-5.0, 1.0)
    assert logic.decades((-2.0, -2.0)) == (-2.0, -1.0)
    assert logic.decades((float(np.log10(np.float32(1e-4))), 0.0)) == (-4.0, 0.0)
    assert logic.decades(None) == (-1.0, 0.0)
    assert [logic.decade_label(p) for p in (-5, 0, 1, 12)] == ["10\u207b\u2075", "1", "10", "10\u00b9\u00b2"]


def test_values_are_formatted_exactly_and_specials_by_name():
    assert logic.format_value(np.float32(1.2345678e-7)) == "1.23457e-07"
    assert logic.format_value(0.0) == "0"
    assert logic.format_value(np.inf) == "inf" and logic.format_value(np.nan) == "NaN"
    zero = logic.cell_text(0.0, pending=False, causal_zero=True)
    assert zero.endswith("= 0 (causal: step t cannot see a later token)")
    assert "inf" in logic.cell_text(np.inf, False, False) and "NaN" in logic.cell_text(np.nan, False, False)
    assert logic.cell_text(np.nan, pending=True, causal_zero=False) == "not computed yet"


def test_cell_colours_follow_log10_and_special_colours():
    values = np.array([[1e-3, 1e-1, 10.0, 0.0], [np.nan, np.inf, 1.0, 1e-3]], np.float32)
    rgba = logic.rgba_cells(values, (-3.0, 1.0), TABLE, SPECIALS)
    assert rgba.shape == (2, 4, 4) and rgba.dtype == np.uint8
    assert rgba[0, 0, 0] == 0 and rgba[0, 2, 0] == 255  # the ends of the colour map
    assert rgba[0, 1, 0] == round((-1 + 3) / 4 * 255)  # log10 0.1 = -1, half-way
    assert tuple(rgba[0, 3]) == SPECIALS[ZERO]
    assert tuple(rgba[1, 0]) == SPECIALS[NAN] and tuple(rgba[1, 1]) == SPECIALS[INF]
    pending = logic.rgba_cells(values, (-3.0, 1.0), TABLE, SPECIALS, pending_rows=np.array([False, True]))
    assert (pending[1] == SPECIALS[PENDING]).all() and (pending[0] == rgba[0]).all()
    assert logic.rgba_cells(np.full((2, 2), np.nan), (-1.0, 0.0), TABLE, SPECIALS).shape == (2, 2, 4)


def test_text_colour_reads_on_its_fill():
    assert logic.text_colour((253, 231, 37)) == "#000000"  # viridis yellow
    assert logic.text_colour((68, 1, 84)) == "#ffffff"  # viridis purple


def test_bars_on_log_and_linear_scales():
    row = np.array([1e-4, 0.0, np.nan, np.inf, 1.0], np.float32)
    span = logic.value_range(row[None], LOG)
    assert span == (-4.0, 0.0)  # whole decades around the finite values only
    bars = logic.bar_layout(row, LOG, (-5.0, 0.0), row.size)
    assert bars.y0 == -5.0
    np.testing.assert_allclose(bars.heights, [1.0, 0.0, 0.0, 5.0, 5.0], atol=1e-6)
    assert bars.kinds.tolist() == [FINITE, ZERO, NAN, INF, FINITE]
    linear = logic.bar_layout(row, LINEAR, logic.value_range(row[None], LINEAR), row.size)
    np.testing.assert_allclose(linear.heights, [1e-4, 0.0, 0.0, 1.0, 1.0], atol=1e-6)
    pending = logic.bar_layout(None, LOG, span, 5)
    assert (pending.kinds == PENDING).all() and not pending.heights.any()
    assert logic.value_range(np.full((2, 2), np.nan), LINEAR) == (0.0, 1.0)


def reference_average(values: np.ndarray, rows, two_sided: bool) -> dict[int, float]:
    """Mean of the finite values at each distance t - s, by a plain loop."""
    sums: dict[int, list[float]] = {}
    for t in rows:
        for s in range(values.shape[1]):
            d = t - s
            if (d >= 0 or two_sided) and np.isfinite(values[t, s]):
                sums.setdefault(d, []).append(float(values[t, s]))
    return {d: float(np.mean(v)) for d, v in sums.items()}


def check_average(average: logic.DistanceAverage, expected: dict[int, float]) -> None:
    means = average.means()
    for d, mean in zip(average.distances.tolist(), means.tolist(), strict=True):
        if d in expected:
            assert mean == pytest.approx(expected[d], rel=1e-6), d
        else:
            assert np.isnan(mean), d


@pytest.mark.parametrize(("shape", "two_sided"), [((7, 7), False), ((7, 7), True), ((5, 9), True)])
def test_distance_average_equals_a_plain_loop(shape, two_sided):
    rng = np.random.default_rng(3)
    values = (10.0 ** rng.uniform(-8, 2, shape)).astype(np.float32)
    values[1, 0], values[4, 2], values[3, 3] = np.nan, np.inf, 0.0
    average = logic.DistanceAverage(*shape, two_sided=two_sided)
    average.add_rows(np.arange(shape[0]), values)
    check_average(average, reference_average(values, range(shape[0]), two_sided))
    assert average.distances[0] == (-(shape[1] - 1) if two_sided else 0)
    assert average.left_out == 2  # the NaN and the inf
    expected_counts = {d: 0 for d in average.distances.tolist()}
    for t in range(shape[0]):
        for s in range(shape[1]):
            if (t - s >= 0 or two_sided) and np.isfinite(values[t, s]):
                expected_counts[t - s] += 1
    assert average.counts.tolist() == list(expected_counts.values())


def test_distance_average_of_rows_arriving_one_by_one():
    values = causal_map(8)
    average = logic.DistanceAverage(8, 8, two_sided=False)
    for r in (5, 0, 7, 2):
        average.add_rows([r], values[[r]])
    check_average(average, reference_average(values, [5, 0, 7, 2], False))
    average.add_rows([5], values[[5]] * 10)  # a row given again replaces its earlier values
    changed = values.copy()
    changed[5] *= 10
    check_average(average, reference_average(changed, [5, 0, 7, 2], False))


def test_causal_future_zeros_never_enter_the_average():
    values = causal_map(6)
    average = logic.DistanceAverage(6, 6, two_sided=False)
    average.add_rows(np.arange(6), values)
    assert (average.distances >= 0).all() and (average.counts == np.arange(6, 0, -1)).all()


def test_row_by_distance():
    row = np.array([1.0, 0.5, 0.0, np.nan, 0.25], np.float32)
    d, v = logic.row_by_distance(row, 2, two_sided=False)
    assert d.tolist() == [2, 1] and v.tolist() == [1.0, 0.5]
    d, v = logic.row_by_distance(row, 2, two_sided=True)
    assert d.tolist() == [2, 1, -2] and v.tolist() == [1.0, 0.5, 0.25]


def test_gradient_target_from_the_trace_or_by_the_model_kind():
    trace = lstm_trace(T=4)
    assert logic.gradient_target(trace) == logic.DEFAULT_TARGET
    bare = Trace({"hidden": trace["hidden"]}, tokens=trace.tokens, meta={"arch": "lstm"})
    assert logic.gradient_target(bare) == logic.BARE_TARGET
    extra = Trace(dict(trace), tokens=trace.tokens, meta=trace.meta.replace(gradient_target="log p(tag)"))
    assert logic.gradient_target(extra) == "log p(tag)"
    field = SimpleNamespace(meta=SimpleNamespace(gradient_target="y field", extra={}, task="lm"))
    assert logic.gradient_target(field) == "y field"  # a TraceMeta field, once the core adds one


def test_note_says_which_way_the_model_reads():
    assert "causal" in logic.note_text(lstm_trace(T=4), 4)
    both = logic.note_text(lstm_trace(T=4, bidirectional=True), 4)
    assert "reads both ways" in both and logic.reads_both_ways(lstm_trace(T=4, bidirectional=True), 4)
    assert "reads both ways" in logic.note_text(transformer_trace(T=4, causal=False), 4)
    seq2seq = encoder_decoder_trace(T=4, S=6)
    assert logic.has_source_columns(seq2seq, 6) and logic.reads_both_ways(seq2seq, 6)
    assert "source" in logic.note_text(seq2seq, 6)
    edited = lstm_trace(T=4)
    edited = Trace(dict(edited), tokens=edited.tokens, meta=edited.meta.replace(edits=["W_hh \u00d7 1.5"]))
    assert "W_hh \u00d7 1.5" in logic.note_text(edited, 4)
    assert logic.progress_text(40, 200) == "computing gradients: 40 / 200 rows"


def test_gradient_logic_imports_without_qt():
    code = """
import sys
class BlockQt:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'):
            raise ImportError('Qt is blocked: ' + name)
sys.meta_path.insert(0, BlockQt())
import numpy as np
from seqviz.app.panels import gradient_logic as g
a = g.DistanceAverage(3, 3, False)
a.add_rows([0, 1, 2], np.eye(3))
print(g.format_value(a.means()[0]))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"
