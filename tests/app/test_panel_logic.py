"""The panels' Qt-free logic, without a window: the gate equations' numbers and the output ranking.

The equations are checked against a step-by-step reference run from the trace's own gate arrays
(c_t = f*c_prev + i*g, h_t = o*tanh(c_t); GRU h_t = (1-z)*n + z*h_prev), in each direction's reading
order and from its true start, for real torch modules.
"""

from __future__ import annotations

import numpy as np
import pytest
from traces import CLASS_LABELS, TAG_LABELS, VOCAB, gru_trace, lstm_trace, rnn_trace

from seqviz.app.panels.gate_equations import (
    equation_text,
    equation_unit,
    gate_equation,
    gate_names,
    previous_state,
)
from seqviz.app.panels.output_ranking import (
    OutputRanking,
    header_text,
    label_texts,
    top_outputs,
    truth_text,
)
from seqviz.app.panels.traceinfo import gate_kind
from seqviz.core.trace import Trace

LAYERS, HIDDEN, STEPS = 2, 4, 6


def torch_trace(arch: str, initial_state: bool, proj_size: int = 0) -> Trace:
    """seqviz.trace of a bidirectional 2-layer torch LSTM/GRU over a random (T, 3) input."""
    torch = pytest.importorskip("torch")
    import seqviz

    torch.manual_seed(1)
    if arch == "lstm":
        module = torch.nn.LSTM(3, HIDDEN, num_layers=LAYERS, bidirectional=True, proj_size=proj_size)
    else:
        module = torch.nn.GRU(3, HIDDEN, num_layers=LAYERS, bidirectional=True)
    options = {}
    if initial_state:  # non-zero, so a start read as zeros would show
        h0 = torch.randn(LAYERS * 2, proj_size or HIDDEN)
        options["initial_state"] = (h0, torch.randn(LAYERS * 2, HIDDEN)) if arch == "lstm" else h0
    return seqviz.trace(module, torch.randn(STEPS, 3), **options)


def reading_order(direction: int, steps: int) -> list[int]:
    """1-based steps in the order the direction reads them (backward: T, T-1, ..., 1)."""
    return list(range(steps, 0, -1)) if direction == 1 else list(range(1, steps + 1))


def start_state(trace: Trace, name: str, layer: int, direction: int) -> np.ndarray:
    """(H,) the state before a direction's first step: the trace's initial array, else zeros."""
    initial = trace.get(f"initial_{name}")
    return initial[layer, direction].astype(np.float64) if initial is not None else np.zeros(HIDDEN)


@pytest.mark.parametrize("initial_state", [False, True])
def test_lstm_equation_matches_a_step_by_step_reference(initial_state):
    trace = torch_trace("lstm", initial_state)
    for layer in range(LAYERS):
        for direction in (0, 1):
            c = start_state(trace, "cell", layer, direction)
            for step in reading_order(direction, STEPS):
                i, f, o, g = (
                    trace[n][step - 1, layer, direction].astype(np.float64) for n in gate_names("lstm")[:4]
                )
                c_prev, c = c, f * c + i * g  # (H,)
                for unit in range(HIDDEN):
                    eq = gate_equation(trace, "lstm", layer, direction, unit, step)
                    assert eq.previous == pytest.approx(c_prev[unit], abs=1e-5)
                    assert eq.values["c"] == pytest.approx(c[unit], abs=1e-5)
                    assert eq.values["h"] == pytest.approx(o[unit] * np.tanh(c[unit]), abs=1e-5)
                    assert eq.values["f"] == trace["forget_gate"][step - 1, layer, direction, unit]


@pytest.mark.parametrize("initial_state", [False, True])
def test_gru_equation_matches_a_step_by_step_reference(initial_state):
    trace = torch_trace("gru", initial_state)
    for layer in range(LAYERS):
        for direction in (0, 1):
            h = start_state(trace, "hidden", layer, direction)
            for step in reading_order(direction, STEPS):
                z, n = (
                    trace[a][step - 1, layer, direction].astype(np.float64)
                    for a in ("update_gate", "candidate")
                )
                h_prev, h = h, (1 - z) * n + z * h  # (H,)
                for unit in range(HIDDEN):
                    eq = gate_equation(trace, "gru", layer, direction, unit, step)
                    assert eq.previous == pytest.approx(h_prev[unit], abs=1e-5)
                    assert eq.values["h"] == pytest.approx(h[unit], abs=1e-5)
                    assert eq.values["r"] == trace["reset_gate"][step - 1, layer, direction, unit]


@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_each_direction_s_first_step_starts_from_zeros_or_the_given_state(arch):
    name = "cell" if arch == "lstm" else "hidden"
    plain, started = torch_trace(arch, False), torch_trace(arch, True)
    for direction, first in ((0, 1), (1, STEPS)):  # the backward direction starts at the last token
        eq = gate_equation(plain, arch, 1, direction, 2, first)
        assert eq.previous == 0.0
        assert eq.previous_sub == ("t+1" if direction else "t\u22121")
        eq = gate_equation(started, arch, 1, direction, 2, first)
        assert eq.previous == started[f"initial_{name}"][1, direction, 2] != 0.0
    # the backward direction's step 1 came from step 2, not from the start
    assert gate_equation(started, arch, 0, 1, 0, 1).previous == started[name][1, 0, 1, 0]


def test_a_projected_lstm_has_no_per_unit_h():
    trace = torch_trace("lstm", True, proj_size=2)
    eq = gate_equation(trace, "lstm", 0, 0, 3, 2)
    assert "h" not in eq.values
    assert eq.previous == trace["cell"][0, 0, 0, 3]
    assert "projected LSTM" in equation_text(eq, "x")


def test_an_encoder_decoder_s_unrecorded_start_is_unknown_not_zero():
    trace = gru_trace(T=4, num_layers=1, hidden_size=3)
    trace = Trace(dict(trace.items()), tokens=trace.tokens, meta=trace.meta.replace(kind="encoder-decoder"))
    eq = gate_equation(trace, "gru", 0, 0, 1, 1)
    assert eq.previous is None and eq.as_dict()["h_prev"] is None
    assert "? (the encoder's summary)" in equation_text(eq, "a")
    assert previous_state(trace, "hidden", 0, 0, 1, 2) == trace["hidden"][0, 0, 0, 1]


def test_equation_text_has_every_number_and_escapes_the_token():
    trace = lstm_trace(T=5, num_layers=1, hidden_size=3)
    eq = gate_equation(trace, "lstm", 0, 0, 2, 3)
    text = equation_text(eq, "<unk>")
    assert text.startswith("<b>unit 2</b> \u00b7 step 3 '&lt;unk&gt;'")
    for key, value in eq.as_dict().items():
        assert f"{value:.4f}" in text, key
    assert set(eq.as_dict()) == {"i", "f", "o", "g", "c", "h", "c_prev"}


def test_gates_that_exist_and_the_unit_shown():
    assert gate_kind(lstm_trace(T=3)) == "lstm" and gate_kind(gru_trace(T=3)) == "gru"
    assert gate_kind(rnn_trace(T=3)) is None
    assert gate_names("lstm") == ("input_gate", "forget_gate", "output_gate", "candidate", "cell")
    assert gate_names("gru") == ("update_gate", "reset_gate", "candidate")
    trace = lstm_trace(T=12, num_layers=2, hidden_size=8, seed=1)
    most_varying = int(np.argmax(trace["hidden"][:, 1, 0, :].var(axis=0)))
    assert equation_unit(trace, 1, 0, (), 8) == most_varying != 0
    assert equation_unit(trace, 1, 0, (2, 5), 8) == 5  # the last one picked
    assert equation_unit(trace, 1, 0, (2, 9), 8) == 2  # a unit the layer lacks is skipped


# Output ranking -----------------------------------------------------------------------------------
def test_top_outputs_are_the_largest_first_ties_in_index_order():
    row = np.array([0.1, 0.3, 0.05, 0.3, 0.25], np.float32)
    assert top_outputs(row, 3).tolist() == [1, 3, 4]
    assert top_outputs(row, 10).tolist() == [1, 3, 4, 0, 2]  # k beyond K: every output
    big = np.random.default_rng(0).dirichlet(np.ones(500)).astype(np.float32)
    assert top_outputs(big, 10).tolist() == np.argsort(-big, kind="stable")[:10].tolist()


def test_language_model_truth_is_the_next_token():
    trace = lstm_trace(T=8, task="lm")
    ranking = OutputRanking(trace)
    out = ranking.at(3, 4)
    row = trace["probs"][2]
    assert out.labels == [VOCAB[i] for i in np.argsort(-row, kind="stable")[:4]]
    np.testing.assert_array_equal(out.probs, np.sort(row)[::-1][:4])
    assert out.true_label == trace.tokens[3]
    assert out.true_index == VOCAB.index(trace.tokens[3])
    assert out.true_prob == row[out.true_index]
    assert out.true_rank == int((row > row[out.true_index]).sum()) + 1
    assert out.true_row == (out.labels.index(out.true_label) if out.true_rank <= 4 else None)
    last = ranking.at(8, 4)
    assert last.true_label is None and last.true_row is None
    assert (
        truth_text("lm", last, label_texts("lm", ranking.labels), 8) == "the next token is beyond the input"
    )


def test_a_true_answer_below_the_top_k_keeps_its_rank_but_has_no_row():
    probs = np.array([[0.5, 0.3, 0.15, 0.05]], np.float32)
    meta = {"task": "tag", "output_labels": TAG_LABELS, "targets": [3]}
    out = OutputRanking(Trace({"probs": probs}, tokens=["w"], meta=meta)).at(1, 3)
    assert (out.true_label, out.true_rank, out.true_row) == ("ADJ", 4, None)
    assert truth_text("tag", out, TAG_LABELS, 1) == "true answer <b>ADJ</b>: p = 0.0500, rank 4"


def test_classifier_truth_is_the_one_target_at_every_step():
    trace = gru_trace(T=5, task="classify")
    assert OutputRanking(trace).truth(5) is None  # no targets: unknown
    trace.meta = trace.meta.replace(targets=[CLASS_LABELS.index("positive")])
    ranking = OutputRanking(trace)
    assert [ranking.truth(s) for s in range(1, 6)] == ["positive"] * 5
    out = ranking.at(5, 2)
    assert out.labels[out.true_row] == "positive"
    text = header_text(trace, "classify", 5, "e", out.labels[0])
    assert text == f"class probabilities after 5 tokens \u2014 the final prediction: <b>{out.labels[0]}</b>"


def test_tagger_truth_follows_the_targets_and_skips_unknown_ones():
    trace = gru_trace(T=4, task="tag")
    trace.meta = trace.meta.replace(targets=[0, 1, -1, 2])
    ranking = OutputRanking(trace)
    assert [ranking.truth(s) for s in range(1, 5)] == ["DET", "NOUN", None, "VERB"]
    out = ranking.at(3, 4)
    assert out.true_label is None and truth_text("tag", out, TAG_LABELS, 4) == ""
    assert header_text(trace, "tag", 2, "<s>", "NOUN") == "tag of '&lt;s&gt;' (step 2): predicted <b>NOUN</b>"


def test_an_lm_token_outside_the_outputs_is_said_so():
    probs = np.array([[0.6, 0.4], [0.5, 0.5]], np.float32)
    trace = Trace({"probs": probs}, tokens=["a", "z"], meta={"task": "lm", "output_labels": ["a", "b"]})
    out = OutputRanking(trace).at(1, 2)
    assert out.true_label == "z" and out.true_index is None and out.true_rank is None
    assert "'z' is not one of the model's outputs" in truth_text("lm", out, ["a", "b"], 2)
    assert header_text(trace, "lm", 1, "a", "a") == "after 'a' (step 1), the next token: <b>a</b>"
    assert header_text(trace, "seq2seq", 2, "z", "b") == "output token 2: <b>b</b>"


def test_label_texts_show_token_spaces_but_keep_class_names():
    assert label_texts("lm", [" ", "new york"]) == ["\u2423", "new york"]
    assert label_texts("classify", ["somewhat negative overall", " "]) == ["somewhat negative overall", " "]
