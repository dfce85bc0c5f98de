"""A model trained in seqviz, kept: ONE `.safetensors` file that opens like a bundled model.

`save_trained(run, path)` writes the run's live weights as a seqviz model file (seqviz.core.modelfile:
`seqviz.load_model(path)` and the app's File > Open model read it), with

    the card      title "Sentiment - LSTM (trained in seqviz)", a description with the sizes, the steps
                  and the held-out accuracy; metrics: arch, sizes, parameters and under "training" the
                  TrainSettings, the label, the curves, the snapshot steps and the problem (if any)
    the tokenizer in the TokenModel metadata, as for every seqviz model
    the snapshots extra tensors "snapshot.<step>.<parameter name>" (modelfile.EXTRA_TENSOR_PREFIX):
                  load_model leaves them out of the model, `read_training(path).model_at(step)` uses them

The file is deterministic: the same settings give the same bytes. So it holds no wall-clock times (the
curves are by step; the live times are the app's to show during a session) and, for a text file, the
file's name rather than its path. The write is atomic (a temporary file, then a rename): a worker that
dies while saving leaves any earlier file whole.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from seqviz.core.modelfile import EXTRA_TENSOR_PREFIX, ModelFileError, load_model, save_model
from seqviz.core.seqmodel import ModelCard, TokenModel
from seqviz.core.statedict import read_tensors
from seqviz.demos.specs import ARCH_NAMES
from seqviz.demos.training_data import model_spec
from seqviz.demos.training_run import Curves, TrainingRun

TIMES = ("seconds", "eval_seconds")  # curves left out of a file (see the module's docstring)


def save_trained(run: TrainingRun, path: str | os.PathLike) -> Path:
    """Save `run`'s model as it is now, with its card, curves and snapshots; returns the path."""
    model = run.current_model()
    model.card = trained_card(run)
    extra = {
        f"{EXTRA_TENSOR_PREFIX}{step}.{name}": tensor
        for step, state in sorted(run.snapshots.items())
        for name, tensor in state.items()
    }
    return save_model(model, path, extra)


def trained_card(run: TrainingRun) -> ModelCard:
    """The card of a trained run: what it is, how it was trained and how well it does."""
    data, arch, s = run.data, run.arch, run.settings
    curves = run.curves
    evaluated_now = curves.eval_step and curves.eval_step[-1] == run.steps_done
    accuracy = curves.accuracy[-1] if evaluated_now else run.held_out_accuracy()
    transformer = arch.arch == "transformer"
    width = "d_model" if transformer else "hidden"
    sizes = f"{_arch_label(run)}, {arch.layers} layer{'s' * (arch.layers > 1)}, {width} {arch.hidden}"
    sizes += f", {arch.heads} heads" if transformer else f", embedding {arch.embed}"
    what = (
        f"{data.task.description}; held-out accuracy {accuracy:.1%}"
        if data.task is not None
        else f"a {data.corpus.level}-level language model of {data.corpus.name}; the next token right "
        f"{accuracy:.1%} of the time in the last 10% of the text (held out)"
    )
    clip = f"clipping at {s.clip:g}" if s.clip is not None else "no clipping"
    description = (
        f"{run.label} ({sizes}; {run.parameters:,} parameters), trained in seqviz for {run.steps_done:,} "
        f"steps (batch {s.batch_size}, learning rate {s.lr:g}, {clip}, seed {s.seed}): {what}"
    )
    if run.problem:
        description += f". Training stopped early: {run.problem}"
    settings = asdict(s)
    if data.corpus is not None:
        settings["task"] = data.corpus.name  # the name, not the path: the same file on any machine
    training = {
        "label": run.label,
        "settings": settings,
        "steps_done": run.steps_done,
        "snapshot_steps": sorted(run.snapshots),
        "curves": {k: v for k, v in curves.to_json().items() if k not in TIMES},
        "problem": run.problem,
    }
    metrics = {
        "arch": arch.arch,
        "arch_label": _arch_label(run),
        "hidden_size": arch.hidden,
        "num_layers": arch.layers,
        **({"num_heads": arch.heads} if transformer else {"embedding_size": arch.embed}),
        "parameters": run.parameters,
        "vocabulary_size": len(run.model.tokenizer.vocab),
        "outputs": len(run.model.output_labels),
        "train_steps": run.steps_done,
        "train_seed": s.seed,
        "training": training,
    }
    return ModelCard(
        id=run.model.card.id,
        title=f"{data.title} - {run.label} (trained in seqviz)",
        task=run.model.card.task,
        description=description,
        examples=list(data.examples),
        accuracy=round(accuracy, 4),
        metrics=metrics,
    )


def _arch_label(run: TrainingRun) -> str:
    """ "bidirectional LSTM", "Transformer encoder", "GRU", ...: as the bundled models' cards say."""
    if run.data.task is not None:
        return model_spec(run.data, run.arch, run.settings).arch_label
    return "Transformer decoder" if run.arch.arch == "transformer" else ARCH_NAMES[run.arch.arch]


@dataclass
class TrainedFile:
    """What `read_training` reads: the final model, its training record and its snapshots."""

    path: Path
    model: TokenModel  # the weights saved last (eval mode)
    label: str  # "LSTM", "GRU 128", ...
    settings: dict  # the TrainSettings as saved (a text file's name in "task")
    curves: Curves  # by step; `seconds` and `eval_seconds` are empty (a file holds no times)
    snapshot_steps: list[int]
    problem: str | None = None
    _snapshots: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict, repr=False)

    def model_at(self, step: int) -> TokenModel:
        """A new TokenModel (eval mode) with the weights of the snapshot at `step`."""
        if step not in self._snapshots:
            raise KeyError(f"no snapshot at step {step}; the snapshots are at {self.snapshot_steps}")
        with torch.random.fork_rng(devices=[]):
            copy = TokenModel.from_metadata(self.model.metadata())
        try:
            copy.load_state_dict(self._snapshots[step])
        except RuntimeError as exc:
            raise ModelFileError.at(self.path, f"its snapshot of step {step} does not fit the model") from exc
        return copy.eval()


def read_training(path: str | os.PathLike) -> TrainedFile:
    """Read a file of `save_trained`; ModelFileError for a file that is not one (or is damaged)."""
    path = Path(path)
    model = load_model(path)
    card = getattr(model, "card", None)
    training = card.metrics.get("training") if isinstance(card, ModelCard) else None
    if not isinstance(training, dict):
        raise ModelFileError.at(path, "it is a model, but not one trained in seqviz (no training record)")
    try:
        curves = Curves.from_json(training.get("curves"))
        steps = [int(s) for s in training.get("snapshot_steps", [])]
        label, settings = str(training["label"]), dict(training["settings"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError.at(path, f"its training record is damaged ({exc})") from None
    return TrainedFile(
        path, model, label, settings, curves, steps, training.get("problem"), _snapshots(path, steps)
    )


def _snapshots(path: Path, steps: list[int]) -> dict[int, dict[str, torch.Tensor]]:
    """The snapshot tensors by step, checked against the steps the record names."""
    tensors, _ = read_tensors(path)
    out: dict[int, dict[str, torch.Tensor]] = {}
    for key, tensor in tensors.items():
        if key.startswith(EXTRA_TENSOR_PREFIX):
            step, _, name = key.removeprefix(EXTRA_TENSOR_PREFIX).partition(".")
            if not step.isdigit() or not name:
                raise ModelFileError.at(path, f"it holds a tensor {key!r} that is no snapshot")
            out.setdefault(int(step), {})[name] = tensor
    if sorted(out) != sorted(steps):
        raise ModelFileError.at(
            path, f"its snapshots are at steps {sorted(out)}, its training record names {sorted(steps)}"
        )
    return out
