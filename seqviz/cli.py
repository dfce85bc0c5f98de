"""The command line of `python main.py`, `python -m seqviz` and the `seqviz` command.

To add an option, add it in `build_parser`; an option that does its work without a window (listing
models, exporting) is handled in `main` before the window is built, so it never imports Qt.
Options the window understands are passed to `seqviz.app.launch.run_app` by name.
"""

from __future__ import annotations

import argparse
import logging
import sys

import seqviz


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seqviz",
        description="Step through RNN, GRU, LSTM and Transformer models token by token and see their "
        "hidden states, gates and attention.",
        epilog="Keys: Right/Left step, Space play/pause, Home/End first/last step, Ctrl+O open a model "
        "file, Ctrl+Q quit. Environment: SEQVIZ_SETTINGS_DIR keeps settings in that folder; "
        "SEQVIZ_REPORT=1 prints timestamps and the final step (for benchmarks and tests).",
    )
    parser.add_argument("--version", action="version", version=f"seqviz {seqviz.__version__}")
    parser.add_argument("--trace", metavar="FILE.npz", help="open a saved trace instead of running a model")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="quit as soon as the first trace is on screen (exit status 0 if it showed); for tests and CI",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="seqviz: %(levelname)s: %(message)s")
    trace = None
    if args.trace:
        # Read before any window exists: a bad file is a clear message and exit status 2.
        try:
            trace = seqviz.Trace.load(args.trace)
        except seqviz.TraceFileError as exc:
            print(f"seqviz: cannot open trace: {exc}", file=sys.stderr)
            return 2
    from seqviz.app.launch import run_app

    return run_app(
        model=getattr(args, "model", None),
        text=getattr(args, "text", None),
        trace=trace,
        trace_label=f"trace: {args.trace}" if args.trace else None,
        smoke=args.smoke,
    )


if __name__ == "__main__":
    raise SystemExit(main())
