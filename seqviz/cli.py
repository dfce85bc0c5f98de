"""The command line of `python main.py`, `python -m seqviz` and the `seqviz` command.

To add an option, add it in `build_parser`; an option that does its work without a window (listing
models, exporting) is handled in `main` before the window is built, so it never imports Qt.
Options the window understands are passed to `seqviz.app.window.launch.run_app` by name.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import seqviz
from seqviz.app.panels import PANEL_NAMES  # names only: no Qt, no pyqtgraph
from seqviz.core.file_limits import path_problem

if TYPE_CHECKING:
    from seqviz.app.scenes.in_window import Scene


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps prose as usual but keeps the lines of a text that has line breaks (the examples)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "\n".join(indent + line for line in text.splitlines())
        return super()._fill_text(text, width, indent)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seqviz",
        formatter_class=_HelpFormatter,
        description="Step through RNN, GRU, LSTM and Transformer models token by token and see their "
        "hidden states, gates and attention.",
        epilog="Keys: Right/Left step, Space play/pause, Home/End first/last step, Ctrl+O open a model "
        "file, Ctrl+Q quit. Environment: SEQVIZ_SETTINGS_DIR keeps settings in that folder; "
        "SEQVIZ_CACHE_DIR keeps the traces shown while a model loads (default ~/.cache/seqviz/traces); "
        "SEQVIZ_REPORT=1 prints timestamps and the final step (for benchmarks and tests).",
    )
    parser.add_argument("--version", action="version", version=f"seqviz {seqviz.__version__}")
    parser.add_argument(
        "--list-models",
        action="store_true",
        help="print the bundled models, one per line: ID ARCH TASK description (size, held-out score)",
    )
    parser.add_argument(
        "scene", nargs="?", metavar="FILE.seqviz", help="open a saved scene (File > Save scene in the app)"
    )
    parser.add_argument("--model", metavar="ID|FILE", help="a bundled model id or a model file to open")
    parser.add_argument("--text", help="the input to run (default: the model's example)")
    parser.add_argument(
        "--compare",
        action="append",
        metavar="ID|FILE",
        help="run another model on the same text beside the first, under one cursor (repeat: up to 3)",
    )
    parser.add_argument("--theme", metavar="NAME", help="light, dark or presentation (the app remembers it)")
    parser.add_argument(
        "--device",
        metavar="NAME",
        help="where models run: cpu (default), cuda or mps, if this torch has it (the app remembers it)",
    )
    _add_model_file_arguments(parser)
    _add_export_arguments(parser)
    parser.add_argument("--trace", metavar="FILE.npz", help="open a saved trace instead of running a model")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="quit once the window is interactive and what it opens (a scene: its model, text, step, "
        "panels and theme) is on screen; prints one line saying what it shows (exit status 0) or what "
        "failed (status 1); for tests and CI",
    )
    return parser


def _group_with_examples(parser: argparse.ArgumentParser, title: str, about: str, *examples: str):
    """A group of options (returned) described by `about` (its line breaks kept) and example command
    lines."""
    lines = [f"{about} Examples:", *(f"  main.py {example}" for example in examples)]
    return parser.add_argument_group(title, "\n".join(lines))


def _add_model_file_arguments(parser: argparse.ArgumentParser) -> None:
    group = _group_with_examples(
        parser,
        "what a --model file does not record",
        "Files of PyTorch's word_language_model example (its model.pt, or a state dict) lack their\n"
        "vocabulary, and state dicts a Transformer's heads or an RNN's nonlinearity.",
        "--model model.pt --vocab data/wikitext-2",
        "--model transformer_state.pt --vocab vocab.txt --heads 2",
    )
    group.add_argument(
        "--vocab",
        metavar="FILE|FOLDER",
        help="the words of the model, one per line in id order (corpus.dictionary.idx2word), or the data "
        "folder it was trained on (train.txt, valid.txt, test.txt, read as the example's data.Corpus)",
    )
    group.add_argument("--heads", type=int, metavar="N", help="attention heads per layer (its --nhead)")
    group.add_argument(
        "--nonlinearity",
        choices=("tanh", "relu"),
        help="an nn.RNN state dict's nonlinearity (the example's RNN_TANH or RNN_RELU)",
    )


def model_file_options(args: argparse.Namespace) -> tuple[dict, str | None]:
    """(load_model options from --vocab, --heads, --nonlinearity; a usage error or None)."""
    options = {name: getattr(args, name) for name in MODEL_FILE if getattr(args, name) is not None}
    if options and not args.model:
        given = ", ".join(f"--{name}" for name in options)
        return options, f"{given} describe the --model file: give --model PATH"
    if args.heads is not None and args.heads < 1:
        return options, f"--heads {args.heads}: a model has at least one attention head"
    if args.vocab is not None:
        problem = path_problem(args.vocab)
        problem = problem or (None if Path(args.vocab).exists() else "no such file or folder")
        if problem:
            return options, f"--vocab {args.vocab[:80]}: {problem}"
    return options, None


def _add_export_arguments(parser: argparse.ArgumentParser) -> None:
    group = _group_with_examples(
        parser,
        "export without a window",
        "With --export, seqviz writes a picture or an animation and exits (status 0; 2 for bad input,\n"
        "1 if the file cannot be written); no window is shown and no display is needed.",
        "--model longrange-lstm --step 3 --export out.png --size 3840x2160",
        "--model sentiment-gru --text 'not bad' --panel gates --theme dark --export a.svg",
        "--model longrange-transformer --panel attention --export steps.gif --steps 1:20 --fps 4",
        "lecture.seqviz --export slide.png",
        "--model longrange-rnn --compare longrange-lstm --export cmp.png",
        "--trace run.npz --step 9 --export run.png",
    )
    group.add_argument(
        "--export",
        metavar="FILE",
        help="write FILE and exit: .png or .svg (one step), .gif or .mp4 (a range of steps; .mp4 needs "
        "the optional imageio-ffmpeg)",
    )
    group.add_argument(
        "--step", type=int, metavar="N", help="the step of a picture, 1..T (default: the last)"
    )
    group.add_argument(
        "--steps", metavar="A:B", help="the steps of an animation, A to B inclusive (default: all)"
    )
    group.add_argument("--fps", type=float, metavar="N", help="animation frames per second (default: 4)")
    group.add_argument(
        "--size",
        metavar="WxH",
        help="picture size in pixels, e.g. 1920x1080 or 3840x2160; rendered at that resolution "
        "(default: 1920x1080 for the window; a panel at the same scale)",
    )
    group.add_argument(
        "--panel",
        metavar="NAME",
        help=f"one panel instead of the whole window: {', '.join(PANEL_NAMES)}",
    )


EXPORT_ONLY = ("step", "steps", "fps", "size", "panel")
MODEL_FILE = ("vocab", "heads", "nonlinearity")  # load_model's options for the --model file


def _print_cached_models() -> None:
    """The models of the local Hugging Face cache that seqviz traces, one per line like the bundled ones:
    NAME  transformer  hf-cache  family and architecture (`--model NAME` opens one)."""
    from seqviz.core.hf.families import family_of
    from seqviz.core.hf_cache import cached_models

    rows = [(m.repo_id, family_of(m.model_type), m.summary) for m in cached_models()]
    rows = [
        (name, f"{family.name}, {summary} (Hugging Face cache)") for name, family, summary in rows if family
    ]
    width = max((len(name) for name, _ in rows), default=0)
    for name, description in rows:
        print(f"{name:{width}s}  transformer  hf-cache  {description}")


class CommandLineError(Exception):
    """Bad input on the command line: one line on stderr and exit status 2 (before any window)."""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="seqviz: %(levelname)s: %(message)s")
    if args.list_models:
        from seqviz.demos.catalogue import print_model_list

        print_model_list()
        _print_cached_models()
        return 0
    try:
        check_options(args)
        if args.export:
            from seqviz.app.export.headless import export_main

            return export_main(args)
        check_window_options(args)
        _remember_choices(args)
        trace, scene = _read_files(args)
    except CommandLineError as exc:
        print(f"seqviz: {exc}", file=sys.stderr)
        return 2
    from seqviz.app.window.launch import run_app

    return run_app(
        model=getattr(args, "model", None),
        text=getattr(args, "text", None),
        trace=trace,
        trace_label=f"trace: {args.trace}" if args.trace else None,
        smoke=args.smoke,
        scene=scene,
        compare=tuple(args.compare or ()),
        load_options=args.load_options,
        exit_process=True,  # ends the process once the window has closed (quitting is at once)
    )


def check_options(args: argparse.Namespace) -> None:
    """The checks of the window and of --export alike; sets `args.load_options` and the device's
    canonical name. Raises CommandLineError."""
    if args.compare and len(args.compare) > 3:
        raise CommandLineError("--compare: at most 3 models beside the first (4 runs in all)")
    if args.trace and (args.model or args.text is not None or args.scene or args.compare):
        # a trace file is a finished run: a model, a text or a scene would be silently ignored
        raise CommandLineError(
            "--trace FILE shows a saved trace: leave out --model, --text, --compare and the scene file"
        )
    args.load_options, problem = model_file_options(args)
    if problem:
        raise CommandLineError(problem)
    if args.device is not None:
        from seqviz.core.devices import DeviceError, check_device

        try:
            args.device = check_device(args.device)
        except DeviceError as exc:
            raise CommandLineError(f"--device: {exc}") from None


def check_window_options(args: argparse.Namespace) -> None:
    """The checks of a window's command line (--export checks its own). Raises CommandLineError."""
    given = [f"--{name}" for name in EXPORT_ONLY if getattr(args, name) is not None]
    if given:
        raise CommandLineError(f"{', '.join(given)} only work with --export FILE")
    if args.scene and (args.model or args.text is not None):
        # the window shows the scene's own model and text: --model or --text would be silently ignored
        raise CommandLineError(
            "a scene file brings its model and text: leave out --model and --text (with --export "
            "they draw the scene with another model or text)"
        )
    from seqviz.app.window.settings import settings_problem  # the window remembers things there

    problem = settings_problem()
    if problem:
        raise CommandLineError(problem)
    if args.theme is not None:
        from seqviz.app.scenes.in_window import THEME_NAMES

        if args.theme not in THEME_NAMES:
            raise CommandLineError(f"unknown theme {args.theme!r}: use one of {', '.join(THEME_NAMES)}")


def _remember_choices(args: argparse.Namespace) -> None:
    """--theme and --device are remembered for the next start, as the window's menus would."""
    if args.theme is None and args.device is None:
        return
    from seqviz.app.window.settings import AppSettings

    if args.theme is not None:
        AppSettings().theme = args.theme
    if args.device is not None:
        AppSettings().device = args.device


def _read_files(args: argparse.Namespace) -> tuple[seqviz.Trace | None, Scene | None]:
    """The --trace file and the scene file, read before any window exists: a bad file is a clear
    message (CommandLineError), not a window that fails."""
    trace = scene = None
    if args.trace:
        try:
            trace = seqviz.Trace.load(args.trace)
        except seqviz.TraceFileError as exc:
            raise CommandLineError(f"cannot open trace: {exc}") from None
    if args.scene:
        from seqviz.app.scenes.in_window import Scene, SceneError

        try:
            scene = Scene.load(args.scene)
        except SceneError as exc:
            raise CommandLineError(str(exc)) from None
    return trace, scene


if __name__ == "__main__":
    raise SystemExit(main())
