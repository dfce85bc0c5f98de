"""Training a language model of a person's text file (seqviz.demos.text_corpus, TextFeed): each bad
file gets its own clear message; character and word models learn and trace."""

from __future__ import annotations

import random

import pytest
import torch

import seqviz
from seqviz.demos import tasks_grammar, text_corpus
from seqviz.demos.training_run import (
    ArchSettings,
    TrainingData,
    TrainingInputError,
    TrainingRun,
    TrainingSession,
    TrainSettings,
)


def grammar_text(sentences: int, seed: int = 0) -> str:
    """Sentences of the demos' tiny English grammar, one a line: a text with structure to learn."""
    rng = random.Random(seed)
    return "\n".join(" ".join(w for w, _ in tasks_grammar.sentence(rng, "en")) for _ in range(sentences))


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text(grammar_text(600), encoding="utf-8")
    return path


def _prepare(path, level: str = "char", **settings) -> TrainingData:
    return TrainingData.prepare(TrainSettings(str(path), level=level, **settings))


def test_a_character_level_text_is_split_tokenized_and_held_out(text_file) -> None:
    data = _prepare(text_file)
    corpus = data.corpus
    text = text_file.read_text()
    assert data.title == "notes.txt (characters)" and data.name == "notes" and data.kind == "lm"
    assert corpus.train_ids.numel() + int(len(text) * 0.1) == len(text)
    assert corpus.tokenizer.decode(corpus.train_ids[:40].tolist()) == list(text[:40])
    assert set(corpus.tokenizer.vocab) == set(text[: corpus.train_ids.numel()]) | {"<unk>"}
    assert 60 <= len(data.example_text) <= 100 and data.example_text in " ".join(text[-2000:].split())


def test_a_word_level_vocabulary_is_the_repeated_words_lowercase(tmp_path) -> None:
    path = tmp_path / "words.txt"
    path.write_text(grammar_text(400).replace("the", "The") + " zyzzyva", encoding="utf-8")
    corpus = _prepare(path, "word").corpus
    vocab = corpus.tokenizer.vocab
    assert "the" in vocab and "The" not in vocab and "zyzzyva" not in vocab and "<unk>" in vocab
    assert corpus.tokenizer.level == "word" and corpus.held_out_ids[-1] == vocab.index("<unk>")


@pytest.mark.parametrize(("level", "arch"), [("char", "lstm"), ("char", "transformer"), ("word", "gru")])
def test_text_models_learn_and_trace(text_file, level: str, arch: str) -> None:
    s = TrainSettings(str(text_file), level=level, steps=40, batch_size=8, lr=1e-2, eval_every=40)
    run = TrainingRun(TrainingData.prepare(s), ArchSettings(arch, hidden=32, layers=1), s)
    while not run.finished:
        run.step()
    assert sum(run.curves.loss[-5:]) < 0.8 * sum(run.curves.loss[:5])
    assert run.curves.accuracy[-1] > run.curves.accuracy[0] + 0.1
    trace = seqviz.trace(run.current_model(), run.data.example_text)
    assert trace["probs"].shape[0] == len(trace.tokens) > 10


def test_a_recurrent_text_model_carries_its_state_between_windows(text_file) -> None:
    s = TrainSettings(str(text_file), steps=3, batch_size=4)
    run = TrainingRun(TrainingData.prepare(s), ArchSettings("gru", hidden=8), s)
    feed = run._feed  # noqa: SLF001 - the feed's state is what this test is about
    run.step()
    carried = feed.state.clone()
    assert carried.shape == (1, 4, 8) and not carried.requires_grad
    run.step()
    assert not torch.equal(feed.state, carried)


def _refusal(path, level: str = "char", **settings) -> str:
    with pytest.raises(TrainingInputError) as caught:
        TrainingSession(TrainSettings(str(path), level=level, **settings), [ArchSettings("lstm")])
    return str(caught.value)


def test_a_missing_file_or_a_folder_is_refused(tmp_path) -> None:
    assert "there is no file" in _refusal(tmp_path / "gone.txt")
    assert "is a folder; choose a text file" in _refusal(tmp_path)


def test_an_empty_file_is_refused(tmp_path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    assert _refusal(tmp_path / "empty.txt") == (
        "empty.txt is empty; choose a text file with at least 2,000 characters"
    )


@pytest.mark.parametrize("data", [b"PK\x03\x04\x00\x00binary", "caf\u00e9 ol\u00e9 ".encode("latin-1") * 500])
def test_a_binary_or_non_utf8_file_is_refused(tmp_path, data: bytes) -> None:
    (tmp_path / "x.bin").write_bytes(data)
    assert _refusal(tmp_path / "x.bin") == (
        "x.bin is not plain text; save it as UTF-8 text (.txt) and choose it again"
    )


def test_a_text_too_short_says_how_long_it_is_and_what_is_needed(tmp_path) -> None:
    (tmp_path / "short.txt").write_text("a few words only. " * 20, encoding="utf-8")
    message = _refusal(tmp_path / "short.txt")
    assert "short.txt is too short: it has 359 characters" in message and "at least 2,000" in message
    message = _refusal(tmp_path / "short.txt", "word")
    assert "it has 100 words" in message  # punctuation marks are words here and "at least 500" in message


def test_a_text_too_short_for_the_batch_says_which_batch_would_do(text_file) -> None:
    message = _refusal(text_file, batch_size=1024)
    assert "too short for batch size 1024" in message and "use a batch size of" in message


def test_a_text_too_big_is_refused_before_it_is_read(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(text_corpus, "MAX_TEXT_BYTES", 1000)
    (tmp_path / "big.txt").write_text("x" * 2000, encoding="utf-8")
    assert "big.txt is 2.0 KB; seqviz trains on text files of up to 1000 bytes" in _refusal(
        tmp_path / "big.txt"
    )


@pytest.mark.parametrize("arch", ["transformer", "lstm"])
def test_held_out_accuracy_is_next_token_accuracy_over_the_held_out_text(text_file, arch: str) -> None:
    s = TrainSettings(str(text_file), steps=5, batch_size=4)
    run = TrainingRun(TrainingData.prepare(s), ArchSettings(arch, hidden=16), s)
    for _ in range(5):
        run.step()
    ids, model = run.data.corpus.held_out_ids, run.current_model()
    # the reference: a Transformer reads consecutive windows one at a time; a recurrent model the whole
    # held-out text in one go
    span = run.data.window(arch) if arch == "transformer" else ids.numel()
    right = 0
    with torch.no_grad():
        for at in range(0, ids.numel() - 1, span):
            x = ids[at : at + span + 1]
            right += int((model(x[None, :-1])[0].argmax(-1) == x[1:]).sum())
    assert run.held_out_accuracy() == pytest.approx(right / (ids.numel() - 1), abs=2e-4)
