"""Retrain every bundled demo model from scratch, seeded: `python -m seqviz.demos.train`.

    python -m seqviz.demos.train                      # all models -> resources/models/
    python -m seqviz.demos.train --only longrange-lstm,sentiment-gru --out /tmp/models
    python -m seqviz.demos.train --list               # the specs, without training
    python -m seqviz.demos.train --skip-seq2seq       # all but the task (d) models

It also retrains the task (d) sequence-to-sequence models (seqviz.demos.seq2seq_train, ids dates-*) and
the character-level LSTM of Python code (seqviz.demos.charlm_train, code-lstm), so one command rebuilds
every bundled model, and the trace of the default demo's first example shipped beside it
(seqviz.demos.bundled_traces; the app shows it while torch loads).

Each model is trained on freshly generated examples (seeded), then measured on held-out examples from
another seed; the accuracy and the model's sizes go into its card. A text progress bar runs on stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from seqviz.core.resources import models_dir
from seqviz.demos import bundled_traces, charlm_train, seq2seq_train
from seqviz.demos.specs import HELD_OUT_N, HELD_OUT_SEED, SPECS, ModelSpec, build_model, make_card, spec
from seqviz.demos.tasks import get_task
from seqviz.demos.tasks_base import Task
from seqviz.demos.training import ProgressBar, evaluate, fit

DEFAULT_OUT = models_dir()  # in a checkout: <repo>/resources/models, where the shipped files live
LONG_RANGE_CARD_FILLERS = (0, 10, 20, 40, 60)


def held_out_metrics(task: Task, model, seed: int = HELD_OUT_SEED, n: int = HELD_OUT_N) -> tuple[float, dict]:
    """Accuracy on fresh examples from `seed`, plus the task's breakdowns for the card."""
    examples = task.held_out(seed, n)
    result = evaluate(model, examples)
    extra: dict = {"n": result["n"]}
    if task.name == "long-range":
        extra["accuracy_by_filler"] = {
            str(f): round(evaluate(model, task.at_distance(seed, f, 200))["accuracy"], 4)
            for f in LONG_RANGE_CARD_FILLERS
        }
        from seqviz.demos.generation import ending_accuracy

        share, texts = ending_accuracy(model, seed)
        extra["generation"] = {"ends_with_right_language": round(share, 4), "samples": texts}
    elif task.name == "sentiment":
        extra["accuracy_by_phenomenon"] = {g: round(a, 4) for g, a in result["groups"].items()}
    elif task.name == "pos":
        from seqviz.demos.tasks_tagging import ambiguous_only

        extra["ambiguous_word_accuracy"] = round(evaluate(model, ambiguous_only(examples))["accuracy"], 4)
        extra["accuracy_by_language"] = {g: round(a, 4) for g, a in result["groups"].items()}
    return result["accuracy"], extra


def train_one(s: ModelSpec, out_dir: Path) -> tuple[float, float, Path]:
    """Train, measure and save one model; returns (held-out accuracy, seconds, path)."""
    from seqviz.core.modelfile import save_model

    task = get_task(s.task)
    model = build_model(s)
    start = time.monotonic()
    bar = ProgressBar(s.fit.steps, s.id)
    fit(model, task, s.fit, bar)
    seconds = time.monotonic() - start
    accuracy, extra = held_out_metrics(task, model)
    extra["train_seconds"] = round(seconds, 1)
    model.card = make_card(s, task, model, accuracy, extra)
    bar.close(f"held-out accuracy {accuracy:.3f}")
    path = save_model(model, out_dir / f"{s.id}.safetensors")
    return accuracy, seconds, path


def seq2seq_ids() -> list[str]:
    """Ids of the task (d) models, trained by seqviz.demos.seq2seq_train."""
    return list(seq2seq_train.MODELS)


def train_seq2seq_one(model_id: str, out_dir: Path) -> tuple[float, float, Path]:
    start = time.monotonic()
    model = seq2seq_train.train_one(model_id, out_dir)
    return float(model.card.accuracy or 0.0), time.monotonic() - start, out_dir / f"{model_id}.safetensors"


def train_code_one(model_id: str, out_dir: Path) -> tuple[float, float, Path]:
    """The code LSTM (seqviz.demos.charlm_train, whose only model is `model_id`); accuracy: next character."""
    start = time.monotonic()
    model = charlm_train.train_one(out_dir)
    return float(model.card.accuracy or 0.0), time.monotonic() - start, out_dir / f"{model_id}.safetensors"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seqviz.demos.train", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated model ids (default: all)")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default resources/models)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--list", action="store_true", help="list the model specs and exit")
    parser.add_argument("--skip-seq2seq", action="store_true", help="leave the task (d) models out")
    args = parser.parse_args(argv)
    if args.list:
        for s in SPECS:
            print(f"{s.id:24s} {s.task:12s} {s.arch_label:24s} hidden {s.hidden:4d}  steps {s.fit.steps}")
        for model_id in seq2seq_ids():
            print(f"{model_id:24s} seq2seq      (seqviz.demos.seq2seq_train)")
        for model_id in charlm_train.MODELS:
            print(f"{model_id:24s} code         (seqviz.demos.charlm_train)")
        return 0
    known = [s.id for s in SPECS] + ([] if args.skip_seq2seq else seq2seq_ids()) + list(charlm_train.MODELS)
    chosen = [i.strip() for i in args.only.split(",")] if args.only else known
    unknown = [i for i in chosen if i not in known]
    if unknown:
        parser.error(f"unknown model id(s) {', '.join(unknown)}; expected some of {', '.join(known)}")
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    rows = []
    for model_id in chosen:
        if model_id in seq2seq_ids():
            accuracy, seconds, path = train_seq2seq_one(model_id, args.out)
        elif model_id in charlm_train.MODELS:
            accuracy, seconds, path = train_code_one(model_id, args.out)
        else:
            accuracy, seconds, path = train_one(spec(model_id), args.out)
        size = path.stat().st_size / 1024
        rows.append(f"{model_id:24s} accuracy {accuracy:.3f}  {seconds:6.1f} s  {size:6.0f} KB")
    if args.out.resolve() == models_dir().resolve():  # the default demo's trace, shown while torch loads
        rows += [f"wrote {path}" for path in bundled_traces.write_shipped()]
    print("\n".join(rows))
    print(f"total {time.monotonic() - start:.0f} s for {len(chosen)} models", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
