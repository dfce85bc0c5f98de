"""Keeping a trained model (seqviz.demos.trained_file) and the headless command (python -m seqviz.train):
the file opens like a bundled model, holds its curves and snapshots, and the same seed writes the same
bytes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import seqviz
from seqviz.core.modelfile import ModelFileError, save_model
from seqviz.demos.trained_file import read_training, save_trained
from seqviz.demos.training_run import ArchSettings, TrainingSession, TrainSettings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def session() -> TrainingSession:
    s = TrainSettings("sentiment", steps=20, batch_size=16, eval_every=10, snapshot_every=10)
    session = TrainingSession(s, [ArchSettings("lstm", hidden=16), ArchSettings("transformer", hidden=16)])
    while not session.finished:
        session.step_all()
    return session


@pytest.mark.parametrize("index", [0, 1])
def test_a_saved_run_opens_like_a_bundled_model_and_traces_as_the_live_one(session, tmp_path, index) -> None:
    run = session.runs[index]
    path = save_trained(run, tmp_path / "model.safetensors")
    model = seqviz.load_model(path)
    card = model.card
    assert card.title == f"Sentiment - {run.label} (trained in seqviz)"
    assert "trained in seqviz for 20 steps" in card.description and "held-out accuracy" in card.description
    assert (
        card.accuracy == round(run.curves.accuracy[-1], 4)
        and card.examples[0] == "the movie was not very good"
    )
    assert (
        card.metrics["training"]["settings"]["steps"] == 20 and card.metrics["parameters"] == run.parameters
    )
    text = session.data.example_text
    live, saved = seqviz.trace(run.current_model(), text), seqviz.trace(model, text)
    assert live.keys() == saved.keys() and all(np.array_equal(live[k], saved[k]) for k in live)


def test_the_snapshots_and_curves_read_back(session, tmp_path) -> None:
    run = session.runs[0]
    trained = read_training(save_trained(run, tmp_path / "m.safetensors"))
    assert trained.label == "LSTM" and trained.snapshot_steps == [0, 10, 20] and trained.problem is None
    for step in trained.snapshot_steps:
        state = trained.model_at(step).state_dict()
        assert all(torch.equal(state[k], run.snapshots[step][k]) for k in state)
    assert trained.curves.loss == run.curves.loss and trained.curves.accuracy == run.curves.accuracy
    assert trained.curves.eval_step == [0, 10, 20] and trained.curves.seconds == []  # no times in a file
    assert trained.settings["task"] == "sentiment" and trained.settings["clip"] == 1.0
    with pytest.raises(KeyError, match="no snapshot at step 5"):
        trained.model_at(5)


def test_a_model_without_a_training_record_is_refused_by_read_training(tmp_path) -> None:
    path = save_model(seqviz.load_model("untrained-gru"), tmp_path / "plain.safetensors")
    with pytest.raises(ModelFileError, match="not one trained in seqviz"):
        read_training(path)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "seqviz.train", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )


def test_the_command_writes_the_same_bytes_for_the_same_seed_and_a_folder_for_several(tmp_path) -> None:
    small = ["--task", "pos", "--steps", "8", "--hidden", "8", "--batch-size", "8", "--snapshot-every", "4"]
    first = _cli(*small, "--arch", "gru", "--out", "a", cwd=tmp_path)
    again = _cli(*small, "--arch", "gru", "--out", "b.safetensors", cwd=tmp_path)
    assert first.returncode == again.returncode == 0, first.stderr
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()
    assert "GRU" in first.stdout and "held-out accuracy" in first.stdout and "a.safetensors" in first.stdout
    several = _cli(*small, "--arch", "gru", "--arch", "transformer", "--out", "runs", cwd=tmp_path)
    assert several.returncode == 0, several.stderr
    files = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert files == ["pos-gru.safetensors", "pos-transformer.safetensors"]
    assert (tmp_path / "runs" / "pos-gru.safetensors").read_bytes() == (
        tmp_path / "a.safetensors"
    ).read_bytes()
    assert len(several.stdout.splitlines()) == 2


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--task", "nosuch", "--arch", "gru"], "neither a bundled task"),
        (["--task", "sentiment", "--arch", "gru", "--lr", "-1"], "learning rate must be a number above 0"),
        (["--task", "sentiment", "--arch", "gru", "--hidden", "300000", "--layers", "3"], "would need about"),
        (["--task", "sentiment", "--arch", "cnn"], "invalid choice: 'cnn'"),
        (["--task", "sentiment", "--arch", "gru", "--clip", "maybe"], "a number or 'off'"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, args, words) -> None:
    result = _cli(*args, "--out", "out", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seqviz.train: error: ") and words in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_a_diverged_run_is_saved_with_its_last_good_weights_and_exits_1(tmp_path) -> None:
    result = _cli("--task", "sentiment", "--arch", "gru", "--hidden", "8", "--steps", "10", "--lr", "1e37",
                  "--out", "nan", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 1 and "stopped: the loss became" in result.stdout
    trained = read_training(tmp_path / "nan.safetensors")
    assert trained.problem and "kept the weights of step 0" in trained.problem
    assert "Training stopped early" in trained.model.card.description


def test_extra_tensors_need_the_snapshot_prefix() -> None:
    model = seqviz.load_model("untrained-rnn")
    with pytest.raises(ValueError, match="must start with 'snapshot.'"):
        save_model(model, "/nonexistent/x.safetensors", {"backbone.head.weight": torch.zeros(1)})


def test_help_documents_every_option_with_examples(capsys) -> None:
    from seqviz import train

    with pytest.raises(SystemExit) as caught:
        train.main(["--help"])
    text = capsys.readouterr().out
    assert caught.value.code == 0 and "python -m seqviz.train --task sentiment --arch lstm" in text
    for option in ("--task", "--arch", "--out", "--steps", "--seed", "--hidden", "--layers", "--embed",
                   "--heads", "--lr", "--batch-size", "--clip", "--level", "--eval-every",
                   "--snapshot-every", "--threads"):  # fmt: skip
        assert option in text


def test_one_architecture_into_an_existing_folder(tmp_path) -> None:
    from seqviz.train import out_paths

    assert out_paths(str(tmp_path), ["pos-gru"]) == [tmp_path / "pos-gru.safetensors"]
    assert out_paths(str(tmp_path / "new") + "/", ["pos-gru"]) == [tmp_path / "new" / "pos-gru.safetensors"]
    assert out_paths(str(tmp_path / "m"), ["pos-gru"]) == [tmp_path / "m.safetensors"]
