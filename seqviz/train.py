"""Train models headless, the app's Training dock from the command line: `python -m seqviz.train`.

    python -m seqviz.train --task sentiment --arch lstm --steps 600 --seed 0 --out lstm.safetensors
    python -m seqviz.train --task long-range --arch rnn --arch gru --arch lstm --steps 3000 --out runs/
    python -m seqviz.train --task notes.txt --level word --arch gru --hidden 128 --out notes-gru
    python -m seqviz.train --task pos --arch transformer --layers 2 --clip off --lr 0.01 --out pos

`--task` is a bundled task (long-range, sentiment, pos) or the path of a UTF-8 text file (a character-
or word-level language model of it, `--level`). With one `--arch`, `--out` is the file to write
(".safetensors" added if missing); with several, a folder (created) that gets `<task>-<arch>.safetensors`
for each. The architectures train side by side, one step each in turn, with the same settings; a
progress bar runs on stderr, and at the end each architecture's held-out accuracy and file are printed.

The files open in the app (File > Open model) and with seqviz.load_model like a bundled model, with their
training curves and snapshots (seqviz.demos.trained_file). The same command gives bit-identical files.
This is a thin front over seqviz.demos.training_run, the loop the app and the bundled demos use.

Exit status: 0; 1 when a run stopped because its loss or gradient became NaN or infinite (its file holds
the last good weights); 2 for bad input (one line saying what to do; nothing written); 130 when
interrupted with Ctrl+C (what was trained so far is saved).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from seqviz.demos.training_settings import ARCHS, LEVELS, ArchSettings, TrainingInputError, TrainSettings

PROG = "seqviz.train"
SUFFIX = ".safetensors"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, argparse's words, no usage block
        self.exit(2, f"{PROG}: error: {message} (python -m {PROG} --help lists the options)\n")


def _clip(text: str) -> float | None:
    if text.strip().lower() in ("off", "none"):
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'off', not {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    defaults, arch = TrainSettings(task=""), ArchSettings("lstm")
    p = _Parser(
        prog=f"python -m {PROG}",
        description=__doc__.split("\n\n")[0].split(": `")[0] + ".",
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--task", required=True, help="a bundled task (long-range, sentiment, pos) or a text file")
    p.add_argument(
        "--arch", action="append", required=True, choices=ARCHS, help="an architecture; repeat for up to 4"
    )
    p.add_argument("--out", required=True, help="the file (one --arch) or folder (several)")
    p.add_argument("--steps", type=int, default=defaults.steps, help="optimiser steps (default %(default)s)")
    p.add_argument("--seed", type=int, default=defaults.seed, help="random seed (default %(default)s)")
    p.add_argument(
        "--hidden", type=int, default=arch.hidden, help="hidden size / d_model (default %(default)s)"
    )
    p.add_argument("--layers", type=int, default=arch.layers, help="layers (default %(default)s)")
    p.add_argument("--embed", type=int, default=arch.embed, help="recurrent embedding (default %(default)s)")
    p.add_argument("--heads", type=int, default=arch.heads, help="Transformer heads (default %(default)s)")
    p.add_argument("--lr", type=float, default=defaults.lr, help="learning rate (default %(default)s)")
    p.add_argument("--batch-size", type=int, default=defaults.batch_size, help="batch (default %(default)s)")
    p.add_argument(
        "--clip",
        type=_clip,
        default=defaults.clip,
        help="gradient-norm clip, a number or 'off' (default 1.0)",
    )
    p.add_argument(
        "--level", choices=LEVELS, default=defaults.level, help="a text file's tokens (default char)"
    )
    p.add_argument(
        "--eval-every",
        type=int,
        default=defaults.eval_every,
        help="held-out accuracy every N steps (default 50)",
    )
    p.add_argument(
        "--snapshot-every",
        type=int,
        default=defaults.snapshot_every,
        help="keep weights every N (default 100)",
    )
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1: reproducible)")
    return p


def out_paths(out: str, names: list[str]) -> list[Path]:
    """Where each run's file goes: `out` itself for one run (".safetensors" added; inside it if it is a
    folder or ends with "/"), else `out/<name>.safetensors`. TrainingInputError for a folder that is a
    file, or a folder that cannot be made or written to."""
    folder = Path(out)
    if len(names) == 1 and not folder.is_dir() and not out.endswith(("/", os.sep)):
        path = folder if folder.suffix == SUFFIX else folder.with_name(folder.name + SUFFIX)
        paths, folder = [path], path.parent
    elif folder.exists() and not folder.is_dir():
        raise TrainingInputError(
            f"--out {out} is a file, but several architectures need a folder; name a folder"
        )
    else:
        paths = [folder / f"{name}{SUFFIX}" for name in names]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrainingInputError(f"cannot make the folder {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK):
        raise TrainingInputError(f"cannot write in the folder {folder}; choose another --out")
    return paths


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _train(args)
    except TrainingInputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2


def _train(args: argparse.Namespace) -> int:
    import torch

    from seqviz.demos.trained_file import save_trained
    from seqviz.demos.training import ProgressBar
    from seqviz.demos.training_run import TrainingSession

    if args.threads < 1:
        raise TrainingInputError(f"--threads must be 1 or more, not {args.threads}")
    torch.set_num_threads(args.threads)
    settings = TrainSettings(
        args.task, args.level, args.steps, args.batch_size, args.lr, args.seed, args.clip,
        args.eval_every, args.snapshot_every,
    )  # fmt: skip
    archs = [ArchSettings(a, args.hidden, args.layers, args.embed, args.heads) for a in args.arch]
    session = TrainingSession(settings, archs)
    paths = out_paths(args.out, [run.name for run in session.runs])
    status = _loop(session, ProgressBar(settings.steps * len(session.runs), session.data.name))
    lines = []
    for run, path in zip(session.runs, paths, strict=True):
        save_trained(run, path)
        accuracy = run.curves.accuracy[-1] if run.curves.accuracy else run.held_out_accuracy()
        line = f"{run.label:14s} held-out accuracy {accuracy:.3f}  {run.steps_done:>7,} steps  {path}"
        lines.append(line + (f"\n{'':14s} stopped: {run.problem}" if run.problem else ""))
    print("\n".join(lines))
    if status == 0 and any(run.problem for run in session.runs):
        return 1
    return status


def _loop(session, bar) -> int:
    """Step every run to the end, the bar showing each one's loss; 130 if interrupted (runs stopped)."""
    done = 0
    losses: dict[str, float] = {}
    try:
        while not session.finished:
            active = [run for run in session.runs if not run.finished]
            for run, record in zip(active, session.step_all(), strict=True):
                losses[run.label] = record.loss
                done += 1
            bar.update(done, "  ".join(f"{label} {loss:.3f}" for label, loss in losses.items()))
    except KeyboardInterrupt:
        for run in session.runs:
            run.stop()
        bar.close("interrupted: saving what was trained so far")
        return 130
    bar.close("  ".join(f"{run.label} {run.curves.loss[-1]:.3f}" for run in session.runs if run.curves.loss))
    return 0


if __name__ == "__main__":
    sys.exit(main())
