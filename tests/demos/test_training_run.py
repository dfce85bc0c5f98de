"""Training in steps (seqviz.demos.training_run): the loop lowers the loss, reports the gradient norm
before clipping, stops cleanly on NaN with the last good weights, refuses what cannot be trained, and
takes exactly the bundled demos' steps (one loop). Small models, tens of steps."""

from __future__ import annotations

import dataclasses
import random

import pytest
import torch

from seqviz.core.file_limits import format_bytes
from seqviz.demos import specs
from seqviz.demos.tasks import get_task
from seqviz.demos.training import AdamStep, fit, task_loss
from seqviz.demos.training_memory import Shape, check_fits, estimate
from seqviz.demos.training_run import (
    ArchSettings,
    TrainingData,
    TrainingInputError,
    TrainingRun,
    TrainingSession,
    TrainSettings,
    task_choices,
)

SMALL = {"rnn": 16, "gru": 16, "lstm": 16, "transformer": 16}


def _run(task: str = "sentiment", arch: str = "gru", **settings) -> TrainingRun:
    s = TrainSettings(task, **{"steps": 30, "batch_size": 16, **settings})
    return TrainingRun(TrainingData.prepare(s), ArchSettings(arch, hidden=SMALL[arch]), s)


def _train(run: TrainingRun) -> TrainingRun:
    while not run.finished:
        run.step()
    return run


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_bundled_tasks_are_offered() -> None:
    assert [name for name, _ in task_choices()] == ["long-range", "sentiment", "pos"]
    assert dict(task_choices())["sentiment"] == "Sentiment"


@pytest.mark.parametrize(
    ("task", "arch"), [("long-range", "lstm"), ("sentiment", "gru"), ("pos", "transformer"), ("pos", "rnn")]
)
def test_the_loss_falls_and_curves_fill_on_each_task(task: str, arch: str) -> None:
    run = _train(_run(task, arch, steps=60, batch_size=32, eval_every=30, snapshot_every=30, lr=1e-2))
    c = run.curves
    assert c.step == list(range(1, 61)) and len(c.loss) == len(c.grad_norm) == len(c.seconds) == 60
    first, last = sum(c.loss[:10]) / 10, sum(c.loss[-10:]) / 10
    assert last < 0.85 * first, f"{task} {arch}: loss {first:.3f} -> {last:.3f}"
    assert c.eval_step == [0, 30, 60] and c.accuracy[-1] > c.accuracy[0]
    assert c.seconds == sorted(c.seconds) and sorted(run.snapshots) == [0, 30, 60]
    assert run.finished and run.steps_done == 60 and run.problem is None


def test_a_step_reports_the_gradient_norm_before_clipping() -> None:
    # AdamStep against torch's clip_grad_norm_ on an identical model and batch
    s = specs.ModelSpec("t", "sentiment", "lstm", hidden=16)
    a, b = specs.build_model(s), specs.build_model(s)
    examples = get_task("sentiment").sample(random.Random(0), 16)
    chunk = [ex for ex in examples if len(ex.tokens) == len(examples[0].tokens)]  # one length: no padding
    norm = AdamStep(a.parameters(), 1e-3, 10, clip=1e-3).step(task_loss(a, chunk, 0.0), 0)
    task_loss(b, chunk, 0.0).backward()
    assert norm == pytest.approx(float(torch.nn.utils.clip_grad_norm_(b.parameters(), 1e-3)), rel=1e-6)
    assert norm > 1e-3, "the norm before clipping, not after"


def test_clipping_on_and_off_differ_and_report_the_same_first_norm() -> None:
    clipped, free = _run(clip=1e-3), _run(clip=None)
    first_clipped, first_free = clipped.step(), free.step()
    assert first_clipped.grad_norm == pytest.approx(first_free.grad_norm) and first_free.grad_norm > 1e-3
    for _ in range(5):
        clipped.step(), free.step()
    assert not _equal(_weights(clipped.model), _weights(free.model))


def test_a_nan_loss_stops_the_run_with_the_weights_of_the_last_finite_loss() -> None:
    run = _run(lr=1e37)  # Adam moves every weight by ~lr: the second step overflows
    initial = _weights(run.model)
    records = [run.step() for _ in range(30) if not run.finished]
    last = records[-1]
    assert run.finished and last.loss != last.loss and last.accuracy is None  # nan
    assert f"at step {last.step}" in run.problem and "learning rate 1e+37" in run.problem
    assert f"kept the weights of step {run.steps_done}" in run.problem and run.steps_done == 0
    assert _equal(_weights(run.model), initial) and _equal(run.snapshots[0], initial)
    assert all(v == v for v in run.curves.loss), "no NaN in the curves"


def test_after_a_non_finite_loss_the_weights_are_those_of_the_step_before_the_last() -> None:
    run = _run(snapshot_every=1)
    for _ in range(5):
        run.step()
    with torch.no_grad():
        next(run.model.parameters()).fill_(float("inf"))  # the weights of step 5 now give no finite loss
    record = run.step()
    assert record.step == 6 and run.finished and run.steps_done == 4
    assert "the loss became NaN at step 6" in run.problem or "became infinite at step 6" in run.problem
    assert "kept the weights of step 4" in run.problem
    assert _equal(_weights(run.model), run.snapshots[4])
    with pytest.raises(RuntimeError, match="finished"):
        run.step()


def test_stop_keeps_what_was_trained_with_a_snapshot_and_an_evaluation() -> None:
    run = _run(snapshot_every=100, eval_every=100)
    for _ in range(7):
        run.step()
    run.stop()
    assert run.finished and run.steps_done == 7 and sorted(run.snapshots) == [0, 7]
    assert run.curves.eval_step == [0, 7]
    assert _equal(_weights(run.model_at(7)), _weights(run.model))
    assert _equal(_weights(run.current_model()), _weights(run.model))
    assert not _equal(_weights(run.model_at(0)), _weights(run.model))


def test_the_bundled_fit_and_a_training_run_take_identical_steps() -> None:
    """One loop: the demos' fit and TrainingRun give the same weights for the same settings."""
    s = TrainSettings("long-range", steps=25, batch_size=16, lr=2e-3, seed=5, clip=0.5, eval_every=10)
    run = _train(TrainingRun(TrainingData.prepare(s), ArchSettings("lstm", hidden=24, embed=8), s))
    bundled_fit = specs.spec("longrange-lstm").fit  # the pool size and scored weight carry over
    cfg = dataclasses.replace(bundled_fit, steps=25, batch_size=16, lr=2e-3, seed=5, clip=0.5)
    spec = specs.ModelSpec("x", "long-range", "lstm", hidden=24, embed=8, fit=cfg)
    model = specs.build_model(spec)
    fit(model, get_task("long-range"), cfg)
    assert _equal(_weights(model), _weights(run.model))


def test_runs_of_a_session_do_not_depend_on_each_other() -> None:
    s = TrainSettings("pos", steps=12, batch_size=8)
    alone = TrainingSession(s, [ArchSettings("lstm", hidden=16)])
    together = TrainingSession(s, [ArchSettings("gru", hidden=16), ArchSettings("lstm", hidden=16)])
    while not together.finished:
        assert len(together.step_all()) == 2
    while not alone.finished:
        alone.step_all()
    assert [r.label for r in together.runs] == ["GRU", "LSTM"]
    assert _equal(_weights(alone.runs[0].model), _weights(together.runs[1].model))


def test_two_runs_of_one_architecture_get_labels_of_their_own() -> None:
    s = TrainSettings("sentiment", steps=2)
    archs = [ArchSettings("lstm", hidden=16), ArchSettings("lstm", hidden=32), ArchSettings("gru", hidden=16)]
    session = TrainingSession(s, archs)
    assert [r.label for r in session.runs] == ["LSTM 16", "LSTM 32", "GRU"]
    assert [r.name for r in session.runs] == ["sentiment-lstm-16", "sentiment-lstm-32", "sentiment-gru"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"steps": 0}, "number of steps"),
        ({"batch_size": -1}, "batch size"),
        ({"lr": 0.0}, "learning rate"),
        ({"lr": float("nan")}, "learning rate"),
        ({"clip": -1.0}, "clipping threshold"),
        ({"eval_every": 0}, "evaluate every"),
        ({"task": "nosuchtask"}, "neither a bundled task"),
    ],
)
def test_settings_nothing_can_be_trained_with_are_refused(change: dict, words: str) -> None:
    s = dataclasses.replace(TrainSettings("sentiment"), **change)
    with pytest.raises(TrainingInputError, match=words):
        TrainingSession(s, [ArchSettings("gru")])


@pytest.mark.parametrize(
    ("arch", "words"),
    [
        (ArchSettings("cnn"), "unknown architecture 'cnn'"),
        (ArchSettings("gru", hidden=0), "hidden size"),
        (ArchSettings("transformer", hidden=30, heads=4), "multiple of its number of heads"),
    ],
)
def test_architectures_no_model_has_are_refused(arch: ArchSettings, words: str) -> None:
    with pytest.raises(TrainingInputError, match=words):
        TrainingSession(TrainSettings("sentiment"), [arch])
    with pytest.raises(TrainingInputError, match="one to 4"):
        TrainingSession(TrainSettings("sentiment"), [ArchSettings("gru")] * 5)


def test_a_model_too_big_for_memory_is_refused_up_front_with_the_estimate() -> None:
    with pytest.raises(TrainingInputError) as caught:
        TrainingRun(
            TrainingData.prepare(TrainSettings("sentiment")),
            ArchSettings("lstm", hidden=200_000, layers=2),
            TrainSettings("sentiment"),
        )
    message = str(caught.value)
    assert "would need about" in message and " TB to train" in message
    assert "more than this machine has available" in message and "use hidden" in message


def test_the_memory_estimate_and_the_width_that_fits() -> None:
    shape = Shape("lstm", 4096, 2, 4, 1, 100, 32, 64, 12)

    def params(h: int) -> int:
        return 4 * h * (h + 32) * 2 + 100 * h

    found = estimate(params(4096), shape)
    assert found.optimiser == 5 * 4 * params(4096) and found.snapshots == 12 * 4 * params(4096)
    assert found.activations == 4 * 2 * (32 * 64 * 4096 * 7 * 2 + 32 * 64 * 100 * 3)
    with pytest.raises(TrainingInputError) as caught:
        check_fits("LSTM", shape, params, available=2**30)
    assert f"about {format_bytes(found.total)} to train" in str(caught.value)
    assert "use hidden 1024 or fewer layers" in str(caught.value)  # 0.7 GB of the 0.8 GB allowed
    assert check_fits("LSTM", shape, params, available=2**40).total == found.total


def test_building_a_run_does_not_move_the_callers_random_numbers() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    run = _run()
    run.step()
    run.model_at(0), run.current_model()
    assert torch.equal(torch.rand(3), expected)
