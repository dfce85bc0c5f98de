"""Hugging Face models in the window: File > Open model folder on the real MiniLM, the masked-LM demo
(double-click a token, or type the mask token), a causal LM's next-token top-k and Generate, a
sequence-to-sequence model's output, the local cache in the chooser, and the app without transformers.

The tiny random model folders are the core tests' (tests/core/hf/hf_folders.py, built once per session);
numbers are checked against transformers' own models."""

from __future__ import annotations

import html
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hf_cache_layout import add_cached_repo
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QContextMenuEvent

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "hf"))  # the core's HF fixtures
import hf_folders  # noqa: E402

from seqviz.app.window.main_window import MainWindow  # noqa: E402
from seqviz.app.window.toolbar import SOURCE_ROLE  # noqa: E402

pytest.importorskip("transformers")


@pytest.fixture
def window(qtbot, dialog_log):
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1400, 860)
    window.show()
    yield window
    window.stop_background_work()


def wait_for_run(qtbot, window: MainWindow, check) -> None:
    """Deliver the model jobs already asked for, until `check()` holds."""
    qtbot.waitUntil(lambda: (window.session.jobs.drain(), check())[1], timeout=60_000)


def chip_centre(window: MainWindow, position: int) -> QPoint:
    strip = window.tokens.strip
    strip.rows[-1].keep_visible(position, strip.view_width)
    return strip.chip_rect(position).center()


def transformers_mlm_probs(folder: Path, ids: list[int], position: int) -> np.ndarray:
    """softmax of transformers' own BertForMaskedLM logits at `position` (V,)."""
    from transformers import AutoModelForMaskedLM

    model = AutoModelForMaskedLM.from_pretrained(folder, attn_implementation="eager").eval()
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0, position]
    return torch.softmax(logits.double(), dim=-1).numpy()


def test_open_model_folder_shows_the_real_minilm(qtbot, window, dialog_log):
    dialog_log.next_file = str(hf_folders.minilm_folder())
    window.commands.open_folder.trigger()
    wait_for_run(qtbot, window, lambda: window.model is not None and window.run is not None)
    assert dialog_log == []
    trace = window.trace
    assert trace.tokens[0] == "[CLS]" and trace.tokens[-1] == "[SEP]"
    assert trace["attention"].shape[:2] == (6, 12)
    grid = window.panels["attention"].thumbnails
    assert (grid.shape.layers, grid.shape.heads) == (6, 12)
    assert "no output head" in window.panels["output"].message
    strip = window.tokens.strip
    assert strip.special == {0, trace.num_steps - 1}  # [CLS] and [SEP] drawn as outlines
    assert "special token" in strip.tooltip_at(0, 0) and "special token" not in strip.tooltip_at(0, 1)


def test_double_click_masks_a_token_and_shows_the_predictions_for_it(qtbot, window):
    folder = hf_folders.folder("bert")
    assert window.open_model(str(folder), "the quick brown fox jumps over the lazy dog")
    position = window.trace.tokens.index("brown")
    original = list(window.trace.meta.token_ids)
    qtbot.mouseDClick(window.tokens.strip, Qt.MouseButton.LeftButton, pos=chip_centre(window, position))
    wait_for_run(qtbot, window, lambda: window.trace.tokens[position] == "[MASK]")
    assert window.step == position + 1 and window.masking.masks == (position,)
    output = window.panels["output"]
    assert output.header.text().startswith(f"the masked token at position {position + 1}: <b>")
    masked_ids = [*original[:position], window.model.tokenizer.mask_token_id, *original[position + 1 :]]
    probs = transformers_mlm_probs(folder, masked_ids, position)
    top = np.argsort(-probs, kind="stable")[: len(output.shown_probs)]
    assert list(output.ranking.at(position + 1, len(top)).top) == top.tolist()
    np.testing.assert_allclose(output.shown_probs, probs[top], atol=1e-5)
    truth = original[position]  # "brown": its probability and rank in the blank
    rank = int((probs > probs[truth]).sum()) + 1
    assert f"p = {probs[truth]:.4f}, rank {rank}" in output.footer.text()
    assert "brown" in output.footer.text()
    # the same chip again takes the mask off
    assert "take the mask off" in window.tokens.strip.tooltip_at(0, position)
    qtbot.mouseDClick(window.tokens.strip, Qt.MouseButton.LeftButton, pos=chip_centre(window, position))
    wait_for_run(qtbot, window, lambda: window.trace.tokens[position] == "brown")
    assert window.masking.masks == ()


def test_the_right_click_menu_masks_too_and_special_tokens_cannot_be_masked(qtbot, window):
    window.open_model(str(hf_folders.folder("bert")), "the lazy dog")
    strip = window.tokens.strip
    assert not strip.can_mask(0)  # [CLS]
    at = chip_centre(window, 2)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, strip.mapToGlobal(at))
    strip.contextMenuEvent(event)
    action = strip.mask_menu.actions()[0]
    assert action.text() == "Mask this token"
    action.trigger()
    strip.mask_menu.close()
    wait_for_run(qtbot, window, lambda: window.trace.tokens[2] == "[MASK]")


def test_a_typed_mask_token_is_a_blank_too(qtbot, window):
    window.open_model(str(hf_folders.folder("bert")), "the lazy dog")
    assert window.set_text("the [MASK] dog")
    position = window.trace.tokens.index("[MASK]")
    window.set_step(position + 1)
    assert window.panels["output"].header.text().startswith(f"the masked token at position {position + 1}")
    strip = window.tokens.strip
    assert "typed in the text" in strip.tooltip_at(0, position) and not strip.can_mask(position)
    assert window.panels["output"].footer.text() == ""  # nobody knows the true word of a typed blank


def test_a_causal_lm_shows_the_next_token_and_generates_from_the_cache(qtbot, window):
    window.open_model(str(hf_folders.folder("gpt2")), "the quick brown fox")
    trace = window.trace
    output = window.panels["output"]
    window.set_step(2)
    p, rank = trace["target_prob"][1], trace["target_rank"][1]
    assert f"p = {p:.4f}, rank {rank}" in output.footer.text()
    assert trace.tokens[2] in output.footer.text()  # the true next token, as it reads
    steps, expected = trace.num_steps, int(np.argmax(trace["next_probs"]))
    assert window.generate(2, temperature=0.0)
    assert window.num_steps == steps + 2 and window.trace.meta.token_ids[steps] == expected
    assert window.text.startswith("the quick brown fox") and window.text != "the quick brown fox"


def test_a_sequence_to_sequence_model_shows_its_output_and_cross_attention(qtbot, window):
    window.open_model(str(hf_folders.folder("t5")), "the house is wonderful")
    trace = window.trace
    assert len(window.tokens.strip.rows) == 2  # source above, output below
    attention = window.panels["attention"]
    assert "cross_attention" in attention.kinds
    window.set_step(1)
    best = window.panels["output"].shown_labels[0]
    assert window.panels["output"].header.text() == f"output token 1: <b>{html.escape(best)}</b>"
    assert trace.meta.output_ids[0] == int(trace["top_ids"][0][0])  # greedy: the first choice


def test_a_model_of_the_local_cache_opens_from_the_chooser(qtbot, tmp_path, monkeypatch, dialog_log):
    cache = tmp_path / "hub"
    files = {p.name: p for p in hf_folders.folder("gpt2").iterdir() if p.is_file()}
    add_cached_repo(cache, "org/tiny-gpt2", files)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    window = MainWindow()
    qtbot.addWidget(window)
    index = window.toolbar.model_combo.findData("org/tiny-gpt2", SOURCE_ROLE)
    assert index > 0
    window.toolbar.model_combo.activated.emit(index)
    wait_for_run(qtbot, window, lambda: window.model is not None and window.model.source == "org/tiny-gpt2")
    assert dialog_log == [] and window.trace.meta.task == "lm"
    window.stop_background_work()


def test_without_transformers_the_app_says_how_to_add_it(qtbot, window, dialog_log, monkeypatch):
    import seqviz.core.hf.pretrained as pretrained

    monkeypatch.setattr(pretrained, "transformers_available", lambda: False)
    assert not window.open_model(str(hf_folders.folder("bert")))
    assert len(dialog_log) == 1
    title, message = dialog_log[0]
    assert title == "Cannot open model" and 'pip install "seqviz[hf]"' in message


def test_gradients_and_the_difference_view_work_on_top_k_traces(qtbot, window, dialog_log):
    """A causal LM's trace holds top-k outputs, not probs: its gradient map fills in, and a second
    run beside it (the same model, with a head ablated) shows its difference and its own outputs."""
    folder = str(hf_folders.folder("gpt2"))
    window.open_model(folder, "the quick brown fox")
    window.finish_background_work()
    gradients = window.panels["gradients"]
    assert gradients.message is None and not gradients.pending.any()
    assert np.isfinite(gradients.values).all() and gradients.values.any()
    from seqviz.edits import AblateHead

    assert window.compare(folder, edits=[AblateHead(0, 1)])
    column = window.comparison.compared[-1].column
    difference, output = column.panels["difference"], column.panels["output"]
    assert difference.message is None and output.message is None
    window.set_step(2)
    assert output.shown_labels and output.header.text().startswith("after ")
    assert (
        np.abs(np.asarray(column.run_viewer.trace["hidden"]) - np.asarray(window.trace["hidden"])).max() > 0
    )
    assert dialog_log == []


def test_find_units_offers_b_with_the_model_s_next_best_guess_written_by_its_tokenizer(qtbot, window):
    """Differ's default B: the text with the token at the step swapped for the model's next best guess
    (from top_ids: Hugging Face traces keep no probs), decoded by the tokenizer (no 'Ġ', no spaces added)."""
    text = "the quick brown fox jumps"
    assert window.open_model(str(hf_folders.folder("gpt2")), text)
    window.set_step(3)
    window.dock_area.docks["find_units"].raise_()
    panel = window.dock_area.panels["find_units"]
    qtbot.waitUntil(lambda: panel.other_edit.text() != "", timeout=10_000)
    trace, model = window.trace, window.model
    labels = trace.meta.output_labels
    guess = next(
        int(i)
        for i in trace["top_ids"][1]  # the prediction after step 2, for step 3
        if labels[i] not in (trace.tokens[2], *model.special_tokens) and any(c.isalnum() for c in labels[i])
    )
    ids = list(trace.meta.token_ids)
    ids[2] = guess
    assert panel.other_edit.text() == model.decode(ids) != text
    assert "\u0120" not in panel.other_edit.text()


def test_a_compared_run_outlines_its_special_tokens_and_takes_masks(qtbot, window, dialog_log):
    """B's token strip is drawn as A's: [CLS] and [SEP] outlined; a double-click masks B's token."""
    folder = str(hf_folders.folder("bert"))
    assert window.open_model(folder, "the quick brown fox")
    assert window.compare(folder), dialog_log
    column = window.comparison.compared[0].column
    strip = column.tokens.strip
    tokens = window.comparison.compared[0].run.trace.tokens
    assert strip.special == {0, len(tokens) - 1} == window.tokens.strip.special  # [CLS] ... [SEP]
    position = tokens.index("brown")
    strip.rows[-1].keep_visible(position, strip.view_width)
    qtbot.mouseDClick(strip, Qt.MouseButton.LeftButton, pos=strip.chip_rect(position).center())
    run = window.comparison.compared[0].run
    assert run.masks == (position,) and run.trace.tokens[position] == "[MASK]"
    assert window.trace.tokens[position] == "brown"  # A keeps its text
    assert "take the mask off" in strip.tooltip_at(0, position)


def test_a_scene_of_a_model_folder_opens_again(qtbot, window, dialog_log, tmp_path):
    """Scenes took only model files: a Hugging Face folder's scene was refused ('is not a file')."""
    from seqviz.app import scenes

    folder = hf_folders.copy_folder("bert", tmp_path / "bert")
    assert window.open_model(str(folder), "the quick brown fox")
    window.masking.toggle(2)
    saved = scenes.capture(window).save(tmp_path / "mask.seqviz")
    assert '"model": "bert"' in saved.read_text()  # beside the scene: relative
    other = MainWindow()
    qtbot.addWidget(other)
    assert scenes.apply(other, scenes.Scene.load(saved)), dialog_log
    assert other.model.source == str(folder) and other.trace.num_steps == window.trace.num_steps
    other.stop_background_work()
