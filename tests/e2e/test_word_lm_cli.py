"""main.py opens PyTorch's word_language_model example files: --vocab, --heads, and the messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import word_lm_example as ex

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")


def run_main(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The corpus folder, its vocab.txt, an LSTM's model.pt and a Transformer's state dict."""
    folder = tmp_path_factory.mktemp("wlm")
    corpus = ex.Corpus(ex.write_corpus(folder / "data" / "wikitext-2"))
    lstm = ex.build("LSTM", len(corpus.idx2word))
    transformer = ex.build("Transformer", len(corpus.idx2word))
    for model in (lstm, transformer):
        ex.train_steps(model, corpus.train, steps=2)
    return {
        "corpus": folder / "data" / "wikitext-2",
        "vocab": ex.write_vocab(corpus, folder / "words.txt"),
        "lstm": ex.save_whole(lstm, folder / "lstm.pt"),
        "transformer": ex.save_state_dict(transformer, folder / "transformer_state.pt"),
    }


def test_the_example_model_opens_with_its_vocabulary(files):
    result = run_main("--model", str(files["lstm"]), "--vocab", str(files["vocab"]), "--smoke")
    assert result.returncode == 0, result.stderr
    assert "smoke ok: model=" in result.stdout and "lstm.pt" in result.stdout
    assert "step=1/12" in result.stdout  # its example: the first 12 words of the vocabulary


def test_a_transformer_state_dict_says_to_pass_heads_and_then_opens(files):
    args = ("--model", str(files["transformer"]), "--vocab", str(files["corpus"]), "--smoke")
    refused = run_main(*args)
    assert refused.returncode == 1
    assert "does not record its number of attention heads: pass --heads N" in refused.stderr
    opened = run_main(*args, "--heads", "2", "--text", "the cat sat on the zebra")
    assert opened.returncode == 0, opened.stderr
    assert "text='the cat sat on the zebra', step=1/6" in opened.stdout


def test_a_picture_without_a_window(files, tmp_path):
    out = tmp_path / "attention.png"
    result = run_main(
        "--model", str(files["transformer"]), "--vocab", str(files["corpus"]), "--heads", "2",
        "--panel", "attention", "--export", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 1000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--vocab", "words.txt"), "--vocab describe the --model file: give --model PATH"),
        (("--model", "x.pt", "--vocab", "no/such/folder"), "--vocab no/such/folder: no such file or folder"),
        (("--model", "x.pt", "--heads", "0"), "--heads 0: a model has at least one attention head"),
    ],
)
def test_bad_model_file_options_are_one_line_and_exit_2(args, message):
    result = run_main(*args, "--smoke", timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == f"seqviz: {message}"
