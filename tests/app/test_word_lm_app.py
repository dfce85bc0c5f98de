"""The window with PyTorch's word_language_model example: opened with its vocabulary, its unknown words
named, and Generate on a large vocabulary (top-k traces keep the last step's distribution)."""

from __future__ import annotations

import numpy as np
import pytest
import word_lm_example as ex
from traces import shown

from seqviz.app import MainWindow
from seqviz.app.viewer import runs
from seqviz.core.top_outputs import LARGE_VOCABULARY

pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wlm")
    corpus = ex.Corpus(ex.write_corpus(folder / "data" / "wikitext-2"))
    model = ex.build("GRU", len(corpus.idx2word))
    ex.train_steps(model, corpus.train, steps=3)
    (folder / "elsewhere").mkdir()  # not beside its data folder: the vocabulary must be given
    return folder / "data" / "wikitext-2", ex.save_state_dict(model, folder / "elsewhere" / "gru_state.pt")


def test_the_window_opens_an_example_file_with_the_options_for_its_source(qtbot, dialog_log, example):
    corpus, path = example
    window = shown(qtbot, MainWindow(), (1200, 700))
    window.session.load_options[str(path)] = {"vocab": corpus}
    assert window.open_model(str(path), "the cat sat on the zebra")
    assert dialog_log == []
    assert window.model.label == "word_language_model GRU (gru_state.pt)"
    assert window.trace.tokens == ["the", "cat", "sat", "on", "the", "<unk>"]
    notes = window.notices.label.text()
    assert "Not in the model's vocabulary (it reads its unknown token; outlined in red): 'zebra'" in notes
    assert window.tokens.strip.rows[-1].labels[5] == "zebra"  # the chip shows the word, marked
    assert window.tokens.strip.chip_mark(5) == "unknown"


def test_without_its_options_the_error_says_what_to_pass(qtbot, dialog_log, example):
    _, path = example
    window = shown(qtbot, MainWindow(), (1200, 700))
    assert not window.open_model(str(path))
    title, message = dialog_log[-1]
    assert title == "Cannot open model" and "--vocab data/wikitext-2" in message


def test_file_open_finds_the_data_folder_beside_the_model(qtbot, dialog_log, example):
    corpus, path = example
    beside = corpus.parent.parent / "model.pt"  # as the example's main.py writes it
    beside.write_bytes(path.read_bytes())
    window = shown(qtbot, MainWindow(), (1200, 700))
    assert window.open_model(str(beside)), dialog_log
    assert window.text == "the dog saw the cat on the mat ." and window.num_steps == 9  # valid.txt's


def test_generate_samples_a_large_vocabulary_from_the_last_steps_distribution(tmp_path):
    words = [f"w{i}" for i in range(LARGE_VOCABULARY + 10)]
    model = ex.build("LSTM", len(words), seed=1)
    opened = runs.load(str(ex.save_whole(model, tmp_path / "big.pt")), vocab=words)
    run = runs.run(opened, "w1 w2 w3")
    assert "probs" not in run.trace and "next_probs" in run.trace
    longer = runs.generate_one(opened, run, 0.0, np.random.default_rng(0))  # greedy
    log_probs, _ = ex.log_probs(model, [1, 2, 3])
    assert longer.text == f"w1 w2 w3 w{int(log_probs[-1].argmax())}"
    assert longer.trace.num_steps == 4


def comparing_two_example_files(qtbot, dialog_log, example) -> tuple:
    """(A window on the example's file, opened with --vocab, comparing an LSTM of the same corpus that
    was given no options; that LSTM's path)."""
    corpus, path = example
    other = ex.save_whole(ex.build("LSTM", len(ex.Corpus(corpus).idx2word), seed=2), path.parent / "lstm.pt")
    window = shown(qtbot, MainWindow(), (1400, 800))
    window.session.load_options[str(path)] = {"vocab": corpus}
    assert window.open_model(str(path), "the cat sat on the mat")
    assert window.compare(str(other)), dialog_log
    return window, other


def test_a_compared_example_file_opens_with_its_options_or_the_first_runs(qtbot, dialog_log, example):
    """One --vocab serves the --model file and a --compare file of the same corpus; a file given its
    own options uses them."""
    corpus, path = example
    window, other = comparing_two_example_files(qtbot, dialog_log, example)
    assert window.comparison.compared[0].run.trace.tokens == window.trace.tokens
    window.stop_comparing()
    window.session.load_options[str(other)] = {"vocab": ["the", "cat", "<unk>"]}  # its own
    assert not window.compare(str(other))  # its own (wrong) vocabulary is used, and says so
    assert "vocabulary" in window.comparison.problem


def test_the_next_start_reopens_the_example_file_with_its_vocabulary(qtbot, dialog_log, example):
    """The settings remember what the file needed (--vocab) with the model, not the path alone."""
    from seqviz.app.window.settings import AppSettings

    corpus, path = example
    window = shown(qtbot, MainWindow(), (1200, 700))
    window.session.load_options[str(path)] = {"vocab": corpus}
    assert window.open_model(str(path), "the cat sat")
    window.close()
    assert AppSettings().model_options == {"vocab": str(corpus)}
    again = shown(qtbot, MainWindow(), (1200, 700))
    again.start(wait=True)
    assert dialog_log == [] and again.model.source == str(path) and again.text == "the cat sat"
    again.open_model("longrange-lstm")  # a bundled model needs nothing
    assert AppSettings().model_options == {}


def test_a_scene_keeps_what_the_example_files_need(qtbot, dialog_log, example, tmp_path):
    """A scene of a word_language_model file (and a compared one) opens again without --vocab."""
    import json

    from seqviz.app import scenes

    corpus, path = example
    window, other = comparing_two_example_files(qtbot, dialog_log, example)
    saved = scenes.capture(window).save(corpus.parent.parent / "lesson.seqviz")
    data = json.loads(saved.read_text())
    assert data["model_options"] == {"vocab": "data/wikitext-2"}  # beside the scene: relative
    assert data["compare"][0]["model_options"] == {"vocab": "data/wikitext-2"}
    again = shown(qtbot, MainWindow(), (1400, 800))
    assert scenes.apply(again, scenes.Scene.load(saved)), dialog_log
    assert again.model.source == str(path) and again.trace.tokens == window.trace.tokens
    assert again.comparison.compared[0].model.source == str(other)
