"""The Training dock's Qt-free parts: the worker thread (with a stand-in session: the real one is in
tests/app/test_training_dock.py) and the remembered choices."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import pytest

from seqviz.app.viewer.training_choices import BOUNDS, ArchChoice, TrainingChoices
from seqviz.app.viewer.training_worker import TrainingWorker
from seqviz.demos.training_curves import Curves


@dataclass(frozen=True)
class Record:
    step: int
    seconds: float
    loss: float
    grad_norm: float
    accuracy: float | None


@dataclass
class FakeCurves:
    step: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    eval_step: list = field(default_factory=lambda: [0])
    eval_seconds: list = field(default_factory=lambda: [0.0])
    accuracy: list = field(default_factory=lambda: [0.5])


class FakeRun:
    def __init__(self, label: str, steps: int, fail_at: int | None = None, hold_at: int = 0) -> None:
        self.label, self.steps, self.fail_at, self.hold_at = label, steps, fail_at, hold_at
        self.steps_done, self.finished, self.stopped = 0, False, False
        self.curves = FakeCurves()
        self.release = threading.Event()  # a step from `hold_at` on waits for it

    def step(self) -> Record:
        if self.hold_at and self.steps_done >= self.hold_at:
            self.release.wait(10)
        if self.steps_done + 1 == self.fail_at:
            raise RuntimeError("boom")
        self.steps_done += 1
        self.finished = self.steps_done >= self.steps
        return Record(self.steps_done, self.steps_done * 0.01, 1.0 / self.steps_done, 2.0, None)

    def stop(self) -> None:
        self.finished = self.stopped = True

    def current_model(self):
        return ("weights", self.label, self.steps_done)


class FakeSession:
    def __init__(self, runs) -> None:
        self.runs = runs

    def step_all(self):
        return [run.step() for run in self.runs if not run.finished]

    @property
    def finished(self) -> bool:
        return all(run.finished for run in self.runs)


def _drain(worker: TrainingWorker):
    assert worker.join(30)
    return worker.take()


def test_the_worker_reports_every_step_of_every_run_and_the_followed_weights_every_n_steps():
    runs = [FakeRun("GRU", 10), FakeRun("LSTM", 6)]
    worker = TrainingWorker(lambda: FakeSession(runs), follow=1, follow_every=3)
    worker.start()
    progress = _drain(worker)
    assert progress.session.runs == runs
    assert [c.accuracy for c in progress.curves] == [[0.5], [0.5]]  # step 0's evaluation
    assert [(i, r.step) for i, r in progress.records if i == 0] == [(0, s) for s in range(1, 11)]
    assert [(i, r.step) for i, r in progress.records if i == 1] == [(1, s) for s in range(1, 7)]
    assert progress.model == (1, 6, ("weights", "LSTM", 6))  # only the latest is kept
    assert progress.ended and progress.error is None
    assert not any(run.stopped for run in runs)  # they finished on their own


def test_the_first_step_waits_until_the_window_has_shown_the_untrained_weights():
    run = FakeRun("LSTM", 5)
    worker = TrainingWorker(lambda: FakeSession([run]), follow_every=10)
    worker.start()
    progress = worker.take()
    for _ in range(100):
        if progress.session is not None:
            break
        worker.join(0.05)
        progress = worker.take()
    # the untrained weights come in the session's report (a report of the session alone looked
    # like a version dropped to the window, which released training before the model switch)
    assert progress.model == (0, 0, ("weights", "LSTM", 0))
    worker.join(0.2)
    assert run.steps_done == 0  # held: the window's model switch does not share the GIL with steps
    worker.release()
    progress = _drain(worker)
    assert run.steps_done == 5 and progress.model == (0, 5, ("weights", "LSTM", 5))


def test_pause_holds_the_steps_and_resume_goes_on():
    run = FakeRun("LSTM", 1000, hold_at=5)
    worker = TrainingWorker(lambda: FakeSession([run]))
    worker.pause()
    worker.start()
    progress = worker.take()
    for _ in range(100):  # the session is made, then it waits
        if progress.session is not None:
            break
        worker.join(0.05)
        progress = worker.take()
    worker.join(0.2)
    assert run.steps_done == 0 and worker.paused
    worker.resume()
    while run.steps_done < 5:
        worker.join(0.01)
    worker.stop()  # during step 6: it is finished, then the worker stops
    run.release.set()
    progress = _drain(worker)
    assert run.finished and run.stopped  # Stop keeps what was trained: a final snapshot
    assert run.steps_done == 6
    assert [r.step for _, r in progress.records] == list(range(1, 7))


def test_stop_while_paused_ends_the_thread():
    run = FakeRun("LSTM", 1000)
    worker = TrainingWorker(lambda: FakeSession([run]))
    worker.pause()
    worker.start()
    worker.stop()
    progress = _drain(worker)
    assert progress.ended and run.stopped and run.steps_done == 0


def test_an_exception_in_a_step_stops_every_run_keeping_what_was_trained():
    runs = [FakeRun("GRU", 50, fail_at=7), FakeRun("LSTM", 50)]
    worker = TrainingWorker(lambda: FakeSession(runs))
    worker.start()
    progress = _drain(worker)
    assert "RuntimeError: boom" in progress.error and "kept" in progress.error
    assert all(run.stopped for run in runs)
    assert runs[0].steps_done == 6


def test_bad_input_is_its_message_and_nothing_starts():
    class Refused(ValueError):
        pass

    def make():
        raise Refused("The text file is empty: choose a file with text in it.")

    worker = TrainingWorker(make, input_errors=(Refused,))
    worker.start()
    progress = _drain(worker)
    assert progress.error == "The text file is empty: choose a file with text in it."
    assert progress.session is None and progress.ended


def test_curve_points_keep_accuracy_only_where_it_was_measured():
    points = Curves()
    points.add(Record(1, 0.1, 2.0, 3.0, None))
    points.add(Record(2, 0.2, math.nan, math.nan, 0.75))
    assert points.step == [1, 2] and points.eval_step == [2] and points.accuracy == [0.75]
    assert points.eval_seconds == [0.2]


# the remembered choices ----------------------------------------------------------------------------
def test_choices_survive_json_and_bad_values_come_back_into_bounds():
    choices = TrainingChoices(task="sentiment", lr=0.01, steps=300, clip_on=False, follow_every=5)
    assert TrainingChoices.from_json(choices.to_json()) == choices
    odd = {
        "task": 3,
        "lr": "nan",
        "steps": 10**12,
        "seed": -5,
        "clip_on": "yes",
        "level": "byte",
        "archs": [{"arch": "transformer", "enabled": True, "hidden": 30, "layers": 99}, {"arch": "cnn"}],
    }
    read = TrainingChoices.from_json(odd)
    assert read.task == "long-range" and read.lr == 3e-3 and read.level == "char"
    assert read.steps == BOUNDS["steps"][1] and read.seed == 0 and read.clip_on is True
    transformer = read.archs[-1]
    assert transformer == ArchChoice("transformer", True, 32, 4)  # d_model: a multiple of 4 heads
    assert TrainingChoices.from_json("not a dict") == TrainingChoices()


@pytest.mark.parametrize(
    ("choices", "words"),
    [
        (
            TrainingChoices(archs=tuple(ArchChoice(a) for a in ("rnn", "gru", "lstm", "transformer"))),
            "architecture",
        ),
        (TrainingChoices(task="file"), "text file"),
    ],
)
def test_choices_that_cannot_start_say_why(choices, words):
    assert words in choices.problem()


def test_choices_become_the_training_api_settings():
    from seqviz.demos.training_run import ArchSettings, TrainSettings

    choices = TrainingChoices(task="file", text_file="/tmp/notes.txt", level="word", clip_on=False, steps=400)
    settings = choices.train_settings(TrainSettings)
    assert (settings.task, settings.level, settings.clip, settings.steps) == (
        "/tmp/notes.txt",
        "word",
        None,
        400,
    )
    archs = choices.arch_settings(ArchSettings)
    assert [a.arch for a in archs] == ["gru", "lstm"]
