"""The viewer model without widgets: one Cursor, a Selection per run, clamped to the trace in one place."""

from __future__ import annotations

from traces import lstm_trace, transformer_trace

from seqviz.app.viewer.model import Limits, ViewerModel


def test_a_new_trace_clamps_layer_direction_head_and_units_once_for_every_panel(qtbot):
    viewer = ViewerModel()
    viewer.set_trace(transformer_trace(T=6, num_layers=4, num_heads=8, d_model=16))
    sel = viewer.selection
    sel.set_layer(3), sel.set_head(7), sel.set_units([2, 15])
    layers, heads, units = [], [], []
    sel.layerChanged.connect(layers.append), sel.headChanged.connect(heads.append)
    sel.unitsChanged.connect(units.append)
    viewer.set_trace(lstm_trace(T=5, num_layers=2, hidden_size=8))  # fewer layers, no heads, 8 units
    assert (sel.layer, sel.head, sel.units) == (1, 0, (2,))
    assert layers == [1] and heads == [0] and units == [(2,)]  # one signal per real change
    assert viewer.cursor.num_steps == 5


def test_setting_values_outside_the_trace_is_clamped_and_unchanged_values_emit_nothing(qtbot):
    viewer = ViewerModel()
    viewer.set_trace(lstm_trace(T=9, num_layers=2, hidden_size=8, bidirectional=True))
    sel, seen = viewer.selection, []
    sel.directionChanged.connect(seen.append)
    sel.set_direction(5)
    sel.set_direction(1)
    assert sel.direction == 1 and seen == [1]
    sel.set_units([3, 3, 99, -1, 4])
    assert sel.units == (3, 4)
    sel.toggle_unit(3)
    assert sel.units == (4,)


def test_the_cursor_is_shared_by_every_run_and_spans_the_longest(qtbot):
    viewer = ViewerModel()
    viewer.set_trace(lstm_trace(T=4))
    second = viewer.add_run()
    viewer.set_trace(transformer_trace(T=10), run=second)
    viewer.cursor.set_step(8)
    assert viewer.cursor.num_steps == 10 and viewer.cursor.step == 8
    viewer.selections[second].set_head(2)
    assert viewer.selection.head == 0  # each run keeps its own selection


def test_panel_options_have_stable_keys_and_signal_on_change(qtbot):
    viewer = ViewerModel()
    seen = []
    viewer.selection.optionChanged.connect(lambda *a: seen.append(a))
    viewer.selection.set_option("attention", "show", "cross_attention")
    viewer.selection.set_option("attention", "show", "cross_attention")
    assert seen == [("attention", "show", "cross_attention")]
    assert viewer.selection.options() == {"attention": {"show": "cross_attention"}}


def test_limits_of_a_projected_lstm_cover_its_wider_gates():
    trace = lstm_trace(T=3, hidden_size=8)
    assert Limits.of(trace).units == 8 and Limits.of(None).units == 0
