"""Gates panel: one heatmap per gate, colour maps, and equations whose numbers are the trace's."""

import numpy as np
import pytest
from traces import click, gru_trace, lstm_trace, open_panel, rnn_trace, transformer_trace

from seqviz.app.panels import plotting
from seqviz.app.panels.gates import GatesPanel
from seqviz.app.window.theme import current_theme

LSTM_SYMBOLS = {"input_gate": "i", "forget_gate": "f", "output_gate": "o", "candidate": "g", "cell": "c"}


def test_lstm_heatmaps_show_each_gate_of_the_layer(qtbot):
    trace = lstm_trace(T=10, num_layers=2, hidden_size=6)
    viewer, panel = open_panel(qtbot, GatesPanel, trace, size=(900, 900))
    viewer.selection.set_layer(1)
    shown = panel.shown_heatmaps
    assert list(shown) == ["input_gate", "forget_gate", "output_gate", "candidate", "cell"]
    theme = current_theme()
    for name, heatmap in shown.items():
        np.testing.assert_array_equal(heatmap.image.image, trace[name][:, 1, 0, :].T)
        if name in ("candidate", "cell"):
            lo, hi = heatmap.image.getLevels()
            assert lo == -hi and hi >= 1.0  # diverging, centred at 0
            np.testing.assert_array_equal(heatmap.image.lut, plotting.lut(theme.diverging_cmap))
        else:
            assert heatmap.image.getLevels() == pytest.approx((0.0, 1.0))
            np.testing.assert_array_equal(heatmap.image.lut, plotting.lut(theme.sequential_cmap))
    assert all(h.plot.scene() is panel.canvas.scene() for h in panel.heatmaps)


def test_lstm_equation_numbers_are_the_trace_values_and_check_out(qtbot):
    trace = lstm_trace(T=10, num_layers=2, hidden_size=6)
    viewer, panel = open_panel(qtbot, GatesPanel, trace)
    viewer.selection.set_layer(1)
    viewer.selection.set_units((1, 3))
    viewer.cursor.set_step(6)
    v = panel.equation_values
    for name, symbol in LSTM_SYMBOLS.items():
        assert v[symbol] == trace[name][5, 1, 0, 3]
    assert v["c_prev"] == trace["cell"][4, 1, 0, 3]
    assert v["h"] == trace["hidden"][5, 1, 0, 3]
    assert v["c"] == pytest.approx(v["f"] * v["c_prev"] + v["i"] * v["g"], abs=1e-5)
    assert v["h"] == pytest.approx(v["o"] * np.tanh(v["c"]), abs=1e-5)
    text = panel.equation.text()
    assert "unit 3" in text and "step 6" in text
    for key in ("f", "c_prev", "i", "g", "c", "o", "h"):
        assert f"{v[key]:.4f}" in text


def test_first_step_starts_from_zero_and_backward_direction_from_the_next_step(qtbot):
    trace = lstm_trace(T=8, num_layers=1, hidden_size=4, bidirectional=True)
    viewer, panel = open_panel(qtbot, GatesPanel, trace)
    viewer.cursor.set_step(1)
    v = panel.equation_values
    assert v["c_prev"] == 0.0
    assert v["c"] == pytest.approx(v["i"] * v["g"], abs=1e-5)
    viewer.selection.set_direction(1)
    viewer.cursor.set_step(3)
    v = panel.equation_values
    assert v["c_prev"] == trace["cell"][3, 0, 1, 0]  # the backward pass came from step 4
    assert v["c"] == pytest.approx(v["f"] * v["c_prev"] + v["i"] * v["g"], abs=1e-5)
    assert "t+1" in panel.equation.text()


def test_gru_equation(qtbot):
    trace = gru_trace(T=9, num_layers=2, hidden_size=5)
    viewer, panel = open_panel(qtbot, GatesPanel, trace)
    assert list(panel.shown_heatmaps) == ["update_gate", "reset_gate", "candidate"]
    assert all(h.plot.scene() is panel.canvas.scene() for h in panel.heatmaps)
    viewer.selection.set_units((2,))
    viewer.cursor.set_step(4)
    v = panel.equation_values
    gates = ("update_gate", "reset_gate", "candidate")
    assert (v["z"], v["r"], v["n"]) == tuple(trace[n][3, 0, 0, 2] for n in gates)
    assert v["h_prev"] == trace["hidden"][2, 0, 0, 2]
    assert v["h"] == pytest.approx((1 - v["z"]) * v["n"] + v["z"] * v["h_prev"], abs=1e-5)
    for key in ("z", "n", "h_prev", "h", "r"):
        assert f"{v[key]:.4f}" in panel.equation.text()


def test_step_moves_every_cursor_and_reveal(qtbot):
    trace = gru_trace(T=9, hidden_size=5)
    viewer, panel = open_panel(qtbot, GatesPanel, trace)
    viewer.cursor.set_step(4)
    for heatmap in panel.shown_heatmaps.values():
        assert heatmap.cursor.value() == 4
        assert heatmap.mask.isVisible() and heatmap.mask.rect().left() == 4.5


def test_click_a_gate_cell_picks_step_and_unit(qtbot):
    trace = lstm_trace(T=10, hidden_size=6)
    viewer, panel = open_panel(qtbot, GatesPanel, trace, size=(900, 900))
    forget = panel.shown_heatmaps["forget_gate"]
    with qtbot.waitSignal(viewer.cursor.stepChanged):
        click(qtbot, panel.canvas, forget.plot, 7, 4.5)
    assert viewer.cursor.step == 7 and viewer.selection.units == (4,)
    assert panel.selected_unit == 4
    assert panel.equation_values["f"] == trace["forget_gate"][6, 0, 0, 4]


def test_not_applicable_for_rnn_and_transformer(qtbot):
    viewer, panel = open_panel(qtbot, GatesPanel, rnn_trace(T=5))
    assert "no gates" in panel.message
    panel.set_trace(transformer_trace(T=5))
    assert "Transformer" in panel.message
    panel.set_trace(gru_trace(T=5))
    assert panel.message is None


@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_equations_hold_on_a_real_torch_trace(qtbot, arch):
    torch = pytest.importorskip("torch")
    from seqviz.core.recurrent import trace_recurrent

    torch.manual_seed(0)
    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[arch](3, 5, num_layers=2, bidirectional=True)
    h0 = torch.randn(4, 5)  # a non-zero start: step 1 of each direction must read it, not assume zeros
    trace = trace_recurrent(
        module, torch.randn(7, 3), initial_state=(h0, torch.randn(4, 5)) if arch == "lstm" else h0
    )
    viewer, panel = open_panel(qtbot, GatesPanel, trace)
    viewer.selection.set_layer(1)
    viewer.selection.set_units((4,))
    for direction, step in ((0, 1), (0, 5), (1, 7), (1, 3)):
        viewer.selection.set_direction(direction)
        viewer.cursor.set_step(step)
        v = panel.equation_values
        if arch == "lstm":
            assert v["c"] == pytest.approx(v["f"] * v["c_prev"] + v["i"] * v["g"], abs=1e-5)
            assert v["h"] == pytest.approx(v["o"] * np.tanh(v["c"]), abs=1e-5)
        else:
            assert v["h"] == pytest.approx((1 - v["z"]) * v["n"] + v["z"] * v["h_prev"], abs=1e-5)


def test_before_any_pick_the_equation_shows_the_most_varying_unit(qtbot):
    """The same unit the units panel shows by default, not unit 0 (often a flat one)."""
    trace = lstm_trace(T=12, num_layers=2, hidden_size=8, seed=1)
    viewer, panel = open_panel(qtbot, GatesPanel, trace)
    viewer.selection.set_layer(1)
    unit = int(np.argmax(trace["hidden"][:, 1, 0, :].var(axis=0)))
    assert unit != 0
    assert panel.selected_unit == unit
    assert f"unit {unit}</b>" in panel.equation.text()
    viewer.cursor.set_step(5)
    assert panel.equation_values["f"] == pytest.approx(trace["forget_gate"][4, 1, 0, unit])


def test_a_short_wide_panel_keeps_rows_aligned_and_labels_inside_their_plots(qtbot, theme):
    """Presentation fonts at 1600x900 leave the gates a short, wide strip: five heatmaps must not be
    laid out 4 + 1, rows keep one height, and side labels are shortened rather than run into the
    next row."""
    theme("presentation")
    viewer, panel = open_panel(qtbot, GatesPanel, lstm_trace(T=40, hidden_size=32), size=(1000, 360))
    qtbot.wait(20)
    columns = panel._arrangement[0]
    assert columns in (1, 2, 3, 5)
    boxes = [h.plot.getViewBox().sceneBoundingRect() for h in panel.heatmaps]
    for row in range(0, len(boxes), columns):
        assert len({round(b.height()) for b in boxes[row : row + columns]}) == 1
    for heatmap, box in zip(panel.heatmaps, boxes, strict=True):
        label = heatmap.plot.getAxis("left").label
        assert label.mapRectToScene(label.boundingRect()).height() <= box.height() + 25


def test_a_decoder_s_first_equation_starts_from_the_encoder_s_summary(qtbot):
    """The GRU-attention decoder starts from the encoder's state, not zeros: step 1 shows that number."""
    import seqviz

    trace = seqviz.trace(seqviz.load_model("dates-gru-attention"), "the third of march two thousand and five")
    viewer, panel = open_panel(qtbot, GatesPanel, trace)
    viewer.selection.set_units((7,))
    viewer.cursor.set_step(1)
    v = panel.equation_values
    assert v["h_prev"] == trace["initial_hidden"][0, 0, 7] != 0.0
    assert v["h"] == pytest.approx((1 - v["z"]) * v["n"] + v["z"] * v["h_prev"], abs=1e-5)
