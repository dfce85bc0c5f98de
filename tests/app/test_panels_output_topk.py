"""Output panel on large-vocabulary traces: only the top outputs per step are stored (top_ids,
top_probs) with the true token's probability and rank (target_prob, target_rank); and models
without an output head."""

from __future__ import annotations

import numpy as np
import pytest
from traces import open_panel

from seqviz.app.panels.output import OutputPanel
from seqviz.app.panels.output_ranking import truth_text
from seqviz.app.panels.output_topk import TopKRanking, has_top_outputs, top_token_labels
from seqviz.core.trace import Trace

PIECES = {7: "the", 12: "cat", 30: "sat", 41: "on", 55: "mat", 60: "dog", 73: "[MASK]", 99: "##s"}


def topk_trace(task: str = "lm", seed: int = 0, **meta) -> Trace:
    """T=5 steps over ids 7, 12, 30, 41, 55; each step's top 4 of the PIECES ids, sorted; the true
    next token's probability and rank where there is one (an lm's last step has none)."""
    rng = np.random.default_rng(seed)
    token_ids = [7, 12, 30, 41, 55]
    vocabulary = sorted(PIECES)
    top_ids = np.array([rng.permutation(vocabulary)[:4] for _ in token_ids], np.int32)  # (T, 4)
    top_probs = np.sort(rng.dirichlet(np.ones(8), size=5)[:, :4], axis=1)[:, ::-1].astype(np.float32)
    arrays = {"hidden": np.zeros((5, 1, 1, 4), np.float32), "top_ids": top_ids, "top_probs": top_probs}
    if task == "lm":
        arrays["target_prob"] = np.array([0.2, 0.01, 0.3, 0.004, np.nan], np.float32)
        arrays["target_rank"] = np.array([2, 17, 1, 250, -1], np.int32)
    meta = {
        "arch": "transformer",
        "kind": "decoder" if task == "lm" else "encoder",
        "task": task,
        "causal": task == "lm",
        "token_ids": token_ids,
        "top_tokens": {str(i): piece for i, piece in PIECES.items()},  # as JSON stores it
        **meta,
    }
    return Trace(arrays, tokens=[PIECES[i] for i in token_ids], meta=meta)


def ticks(panel: OutputPanel) -> list[str]:
    return [label for _, label in panel.plot.getAxis("left")._tickLevels[0]]


def test_a_causal_lm_shows_its_top_tokens_by_name_and_the_true_tokens_probability_and_rank(qtbot):
    trace = topk_trace()
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    for step in range(1, 5):
        viewer.cursor.set_step(step)
        ids, probs = trace["top_ids"][step - 1], trace["top_probs"][step - 1]
        assert ticks(panel) == [PIECES[i] for i in ids]
        np.testing.assert_array_equal(panel.shown_probs, probs)
        np.testing.assert_allclose(panel.bars.opts["width"], probs)
        p, rank = trace["target_prob"][step - 1], trace["target_rank"][step - 1]
        assert f"p = {p:.4f}, rank {rank}" in panel.footer.text()
        assert PIECES[trace.meta.token_ids[step]] in panel.footer.text()
        true_id = trace.meta.token_ids[step]
        if true_id in ids:  # among the bars: that bar is marked
            row = list(ids).index(true_id)
            assert panel.true_row == row and panel.true_bar.opts["width"][row] == pytest.approx(probs[row])
        else:
            assert panel.true_row is None and not np.any(panel.true_bar.opts["width"])
    viewer.cursor.set_step(5)
    assert "beyond the input" in panel.footer.text()
    assert "the next token" in panel.header.text() and PIECES[55] in panel.header.text()


def test_the_first_choice_is_ticked_and_named_in_the_header(qtbot):
    trace = topk_trace()
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    viewer.cursor.set_step(3)  # target_rank 1 at step 3
    assert "rank 1 \u2714" in panel.footer.text()
    best = PIECES[int(trace["top_ids"][2][0])]
    assert f"<b>{best}</b>" in panel.header.text()


def test_a_saved_top_k_trace_shows_the_same(qtbot, tmp_path):
    trace = Trace.load(topk_trace().save(tmp_path / "run.npz"))
    assert has_top_outputs(trace) and top_token_labels(trace)[99] == "##s"
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    viewer.cursor.set_step(2)
    assert ticks(panel) == [PIECES[i] for i in trace["top_ids"][1]]


def test_ids_the_trace_does_not_name_show_as_numbers():
    trace = topk_trace(top_tokens={})
    out = TopKRanking(trace).at(1, 4)
    assert out.texts == [f"#{i}" for i in trace["top_ids"][0]]


def test_a_true_token_below_the_top_k_without_its_probability_says_so():
    trace = topk_trace()
    arrays = {name: trace[name] for name in ("hidden", "top_ids", "top_probs")}  # no target arrays
    bare = Trace(arrays, tokens=trace.tokens, meta=trace.meta)
    ranking = TopKRanking(bare)
    for step in range(1, 5):
        out = ranking.at(step, 4)
        true_id = trace.meta.token_ids[step]
        if true_id in out.top:
            assert out.true_rank == list(out.top).index(true_id) + 1
        else:
            text = truth_text("lm", out, [], 5, top_only=True)
            assert text == f"the true answer '{PIECES[true_id]}' is not among the top 4"


def test_a_masked_lm_shows_what_it_puts_in_the_blank(qtbot):
    trace = topk_trace(task="mlm", masked=[2])
    tokens = list(trace.tokens)
    tokens[2] = "[MASK]"
    trace = Trace({name: trace[name] for name in trace}, tokens=tokens, meta=trace.meta)
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    viewer.cursor.set_step(3)
    best = PIECES[int(trace["top_ids"][2][0])]
    assert panel.header.text() == f"the masked token at position 3: <b>{best}</b>"
    assert ticks(panel) == [PIECES[i] for i in trace["top_ids"][2]]
    viewer.cursor.set_step(2)
    assert "(not masked)" in panel.header.text()
    assert panel.footer.text() == ""  # no truth known: nothing claimed


def test_a_masked_lm_with_targets_marks_the_original_token():
    trace = topk_trace(task="mlm", masked=[1])
    true_id = int(trace["top_ids"][1][2])
    trace.meta = trace.meta.replace(targets=[-1, true_id, -1, -1, -1])
    out = TopKRanking(trace).at(2, 4)
    assert (out.true_row, out.true_rank, out.true_label) == (2, 3, PIECES[true_id])
    assert "true token" in truth_text("mlm", out, [], 5, top_only=True)


def test_a_model_without_a_head_says_so_in_its_own_words(qtbot):
    note = (
        "MiniLM has no output head (a BERT encoder without a language-model head, such as a sentence encoder)"
    )
    trace = Trace(
        {"hidden": np.zeros((2, 1, 1, 4), np.float32)},
        meta={"arch": "transformer", "kind": "encoder", "task": "", "head_note": note},
    )
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    assert panel.message == note


def test_a_sentence_encoder_has_no_output_head(qtbot):
    trace = Trace(
        {"hidden": np.zeros((3, 2, 1, 4), np.float32), "attention": np.zeros((2, 2, 3, 3), np.float32)},
        tokens=["[CLS]", "hi", "[SEP]"],
        meta={"arch": "transformer", "kind": "encoder", "task": "", "causal": False},
    )
    viewer, panel = open_panel(qtbot, OutputPanel, trace)
    assert panel.message.startswith("This model has no output head (a sentence encoder)")
