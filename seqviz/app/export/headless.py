"""Headless export: `python main.py --model ID --step N --export out.png` writes a picture and exits,
with no window on screen (Qt's offscreen platform unless QT_QPA_PLATFORM says otherwise).

`python main.py --trace run.npz --export out.png` does the same for a saved trace (no model runs).

`validate(args)` checks everything it can before Qt or torch is imported: the output's type and
folder, the size, the panel, the theme, the step syntax, the model's existence, the scene file, the
trace file (read here). Then `run(request)` builds the window hidden, starts the model job, builds
the panels meanwhile, waits for the trace (a trace file is shown at once), checks the steps against
T, renders and writes atomically.

Exit status: 0 written; 2 bad input (one line on stderr); 1 the file could not be written. The window
shows no error boxes here: its errors (and exceptions in Qt slots) go to a `WindowLog`, set as the
error handler of `seqviz.app.window.dialogs`, and become the exit status.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from seqviz.app.export.files import (
    ANIMATION_SUFFIXES,
    ExportError,
    check_fps,
    check_video_encoder,
    check_writable,
)
from seqviz.app.panels import PANEL_NAMES  # light: names only, no panel module is imported
from seqviz.app.scenes.in_window import THEME_NAMES, Scene, SceneError
from seqviz.core.file_limits import path_problem
from seqviz.core.trace import Trace, TraceFileError

PICTURE_SUFFIXES = (".png", ".svg")
DEFAULT_SIZE = (1920, 1080)  # the whole window; a panel is rendered at the same scale
WINDOW_SIZE = (1600, 900)  # the hidden window's layout size (logical pixels)
MAX_SIDE = 16384
DEFAULT_FPS = 4.0


class UsageError(Exception):
    """Bad input on the command line: exit status 2."""


@dataclass
class ExportRequest:
    output: Path
    model: str | None = None
    text: str | None = None
    compare: tuple[str, ...] = ()  # models run beside the first on its text (MainWindow.compare)
    scene: Scene | None = None
    trace: Trace | None = None  # a saved trace to show instead of running a model
    trace_label: str | None = None
    step: int | None = None  # pictures; None: the scene's step, else the last
    steps: tuple[int | None, int | None] | None = None  # animations: (first, last), None = open end
    size: tuple[int, int] | None = None
    panel: str | None = None
    theme: str | None = None
    fps: float = DEFAULT_FPS
    device: str = "cpu"  # where the model runs (--device, checked by the command line)
    load_options: dict = field(default_factory=dict)  # what the model file lacks (--vocab, --heads)

    @property
    def is_animation(self) -> bool:
        return self.output.suffix.lower() in ANIMATION_SUFFIXES


@dataclass
class WindowLog:
    """What the hidden window reports (there are no boxes in headless mode); it decides the exit status.
    `errors` (title, message) come through `report`, the window's error handler (`on_report` is called
    after each one); `outcomes` are its session's outcomes (seqviz.app.viewer.session.Outcome)."""

    errors: list[tuple[str, str]] = field(default_factory=list)
    outcomes: list = field(default_factory=list)
    on_report: Callable[[], None] | None = None

    def report(self, title: str, message: str, detail: str | None = None) -> None:
        self.errors.append((title, message))
        if self.on_report is not None:
            self.on_report()


# Validation (no Qt, no torch) ---------------------------------------------------------------------
def parse_size(text: str) -> tuple[int, int]:
    """ "1920x1080" -> (1920, 1080)."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX\u00d7]\s*(\d+)\s*", text or "")
    if not match:
        raise UsageError(f"--size {text!r}: expected WIDTHxHEIGHT in pixels, e.g. 1920x1080")
    w, h = int(match[1]), int(match[2])
    if not (0 < w <= MAX_SIDE and 0 < h <= MAX_SIDE):
        raise UsageError(f"--size {text}: width and height must be 1 to {MAX_SIDE} pixels")
    return w, h


def parse_steps(text: str) -> tuple[int | None, int | None]:
    """ "3:20" -> (3, 20); "5:" -> (5, None) (to the last step); ":8" -> (None, 8)."""
    match = re.fullmatch(r"\s*(\d*)\s*:\s*(\d*)\s*", text or "")
    if not match or not (match[1] or match[2]):
        raise UsageError(f"--steps {text!r}: expected FIRST:LAST, e.g. 1:20 (steps count from 1)")
    first, last = (int(v) if v else None for v in (match[1], match[2]))
    if first is not None and first < 1:
        raise UsageError(f"--steps {text}: steps count from 1")
    if first is not None and last is not None and last < first:
        raise UsageError(f"--steps {text}: the range is empty (the last step is before the first)")
    return first, last


def _check_model(model: str) -> None:
    from seqviz.core.hf.loading import cache_hint
    from seqviz.core.hf_cache import find_cached
    from seqviz.demos import catalogue

    problem = None if catalogue.find(model) is not None else path_problem(model)
    if problem is not None:  # a name too long for the file system, a file used as a folder
        raise UsageError(f"--model {model[:80]}: {problem}")
    # a folder (Hugging Face) is checked by its loader, which says what it lacks
    if catalogue.find(model) is not None or Path(model).is_file() or Path(model).is_dir():
        return
    if Path(model).exists():
        raise UsageError(f"--model {model}: not a model file")
    if find_cached(model) is not None:
        return
    ids = ", ".join(e.id for e in catalogue.entries())
    files = (".safetensors", ".pt", ".pth", ".bin", ".ckpt", ".pkl", ".npz", ".seqviz")
    hub = re.fullmatch(r"[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?", model) and Path(model).suffix not in files
    hint = f" ({cache_hint(model)})" if hub else ""  # "gpt2", "org/name": say how to get it
    raise UsageError(
        f"unknown model {model!r}: use a model file or folder, a model in the local Hugging Face cache"
        f"{hint}, or one of {ids}"
    )


def validate(args) -> ExportRequest:
    """An ExportRequest from parsed command-line arguments. Raises UsageError for bad input."""
    output = Path(args.export)
    suffix = output.suffix.lower()
    if suffix not in PICTURE_SUFFIXES + ANIMATION_SUFFIXES:
        raise UsageError(f"--export {output.name}: unknown file type; use .png, .svg, .gif or .mp4")
    request = _source(args, output)
    animated = suffix in ANIMATION_SUFFIXES
    if args.step is not None and animated:
        raise UsageError(f"--step is for pictures; an animation ({suffix}) takes --steps FIRST:LAST")
    if args.steps is not None and not animated:
        raise UsageError(f"--steps is for animations (.gif, .mp4); a picture ({suffix}) takes --step N")
    if args.step is not None and args.step < 1:
        raise UsageError(f"--step {args.step}: steps count from 1")
    request.step = args.step
    request.steps = parse_steps(args.steps) if args.steps is not None else None
    request.size = parse_size(args.size) if args.size is not None else None
    if args.panel is not None and args.panel not in PANEL_NAMES:
        raise UsageError(f"unknown panel {args.panel!r}: use one of {', '.join(PANEL_NAMES)}")
    request.panel = args.panel
    if args.theme is not None and args.theme not in THEME_NAMES:
        raise UsageError(f"unknown theme {args.theme!r}: use one of {', '.join(THEME_NAMES)}")
    request.theme = args.theme
    request.device = getattr(args, "device", None) or "cpu"
    request.load_options = dict(getattr(args, "load_options", None) or {})
    if args.fps is not None:
        if not animated:
            raise UsageError("--fps is for animations (.gif, .mp4)")
        request.fps = args.fps
    _check_output(request)
    return request


def _source(args, output: Path) -> ExportRequest:
    """The request for what to show: a saved trace, or a model (given, the scene's, or the default)."""
    if getattr(args, "trace", None):  # alone: the command line refuses --model, --text or a scene with it
        try:
            trace = Trace.load(args.trace)
        except TraceFileError as exc:
            raise UsageError(f"cannot open trace: {exc}") from None
        return ExportRequest(output, trace=trace, trace_label=f"trace: {Path(args.trace).name}")
    scene = _load_scene(args.scene) if getattr(args, "scene", None) else None
    model = args.model or (scene.model if scene else None)
    if model is None:
        from seqviz.demos import catalogue

        model = catalogue.default_id()
    _check_model(model)
    compare = tuple(getattr(args, "compare", None) or ())
    for other in compare:
        _check_model(other)
    return ExportRequest(output, model=model, text=args.text, compare=compare, scene=scene)


def _load_scene(path: str) -> Scene:
    try:
        return Scene.load(path)
    except SceneError as exc:
        raise UsageError(str(exc)) from None


def _check_output(request: ExportRequest) -> None:
    suffix = request.output.suffix.lower()
    try:
        if request.is_animation:
            check_fps(request.fps, suffix)
        if suffix == ".mp4":
            check_video_encoder()
        check_writable(request.output)
    except ExportError as exc:
        raise UsageError(str(exc)) from None


def export_main(args) -> int:
    """Validate, then export; returns the exit status. Every failure is one line on stderr."""
    try:
        request = validate(args)
    except UsageError as exc:
        return _fail(str(exc), 2)
    try:
        return run(request)
    except UsageError as exc:
        return _fail(str(exc), 2)
    except ExportError as exc:
        return _fail(str(exc), 1)
    except OSError as exc:
        return _fail(f"cannot write {request.output}: {exc.strerror or exc}", 1)
    except Exception as exc:  # a bug: still one line, and no partial file (writes are atomic)
        logging.getLogger("seqviz").debug("export failed", exc_info=True)
        return _fail(f"export failed: {type(exc).__name__}: {exc}", 1)


def _fail(message: str, code: int) -> int:
    message = " ".join(message.split())  # one line, whatever an underlying error's text holds
    print(f"seqviz: {message}", file=sys.stderr, flush=True)
    return code


# Running (Qt and torch) ---------------------------------------------------------------------------
def _quiet_qt() -> None:
    """Qt's offscreen warnings ("This plugin does not support ...") would clutter stderr."""
    from PySide6.QtCore import qInstallMessageHandler

    qt_log = logging.getLogger("seqviz.qt")
    qInstallMessageHandler(lambda _kind, _context, message: qt_log.debug("%s", message))
    logging.getLogger("seqviz").setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore")


def run(request: ExportRequest) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _quiet_qt()
    import tempfile

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from seqviz.app.window import dialogs
    from seqviz.app.window.settings import AppSettings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("seqviz")
    log = WindowLog()
    previous_handler = dialogs.set_error_handler(log.report)
    previous_hook = dialogs.install_excepthook(None)  # an exception in a Qt slot is an error, too
    try:
        with tempfile.TemporaryDirectory(prefix="seqviz-export-") as folder:
            # a throwaway settings file: an export neither reads nor changes the person's own settings
            settings = AppSettings(QSettings(str(Path(folder) / "seqviz.ini"), QSettings.Format.IniFormat))
            window = _build_window(request, settings, log)
            try:
                return _export(window, request, log)
            finally:
                window.stop_background_work()  # a hidden window may never get its close event
                window.close()
                window.deleteLater()
                app.processEvents()
    finally:
        sys.excepthook = previous_hook
        dialogs.set_error_handler(previous_handler)


def _build_window(request: ExportRequest, settings, log: WindowLog):
    """The hidden window showing the request's trace file, or its model's run (the model job started
    first, so torch loads while the panels are built)."""
    import dataclasses

    from PySide6.QtCore import Qt

    from seqviz.app import scenes
    from seqviz.app.window import appearance
    from seqviz.app.window.main_window import MainWindow

    window = MainWindow(settings=settings, lazy_panels=True)
    window.session.device = request.device
    if request.model and request.load_options:
        window.session.load_options[request.model] = request.load_options
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    window.resize(*WINDOW_SIZE)
    window.session.outcome.connect(log.outcomes.append)
    scene = request.scene
    theme = request.theme or (scene.theme if scene else appearance.DEFAULT_THEME)
    settings.theme = theme
    text = request.text if request.text is not None else scene.text if scene else None
    if scene is not None:
        scene = dataclasses.replace(scene, theme=theme, model=request.model, text=text)
        scenes.after_next_outcome(window, lambda o: o.run is not None and scenes.apply_view(window, scene))
    if request.trace is None:
        window.open_model(request.model, text, wait=False)
    window.show()
    if scene is not None:
        scenes.apply_layout(window, scene, restore_geometry=False)
    else:
        appearance.apply_theme(window, theme)
        window.load_panels()
        if request.trace is not None:
            window.show_trace(request.trace, request.trace_label)
    _wait_until_ready(window, log)
    return window


def _wait_until_ready(window, log: WindowLog) -> None:
    """Until the first request has finished, or an error is reported (which may stop it finishing)."""
    from PySide6.QtCore import QEventLoop

    if log.errors or window.is_ready:
        return
    loop = QEventLoop()
    window.ready.connect(loop.quit)
    log.on_report = loop.quit
    try:
        loop.exec()
    finally:
        log.on_report = None


def _check_ready(window, log: WindowLog) -> None:
    """Raise UsageError when the model or the text failed, ExportError for any other error."""
    for title, message in log.errors:
        if title == "Cannot open model":
            raise UsageError(f"cannot open model: {message}")
        raise ExportError(f"{title}: {message}")
    problems = [o.problem for o in log.outcomes if o.problem is not None]
    if problems:
        raise UsageError(f"cannot run the text: {problems[0]}")
    if window.trace is None:
        raise ExportError("the model gave no trace")


def _export(window, request: ExportRequest, log: WindowLog) -> int:
    from PySide6.QtCore import QSize

    from seqviz.app.export.pictures import current_size, export_animation, picture_target, save_picture

    _check_ready(window, log)
    _compare(window, request, log)
    num_steps = window.num_steps
    target = picture_target(window, request.panel)
    if request.size is not None:
        size = QSize(*request.size)
    elif request.scene is not None:  # the scene's layout as it was saved, not re-flowed
        size = current_size(target)
    elif target is window:
        size = QSize(*DEFAULT_SIZE)
    else:  # a panel at the scale the whole window gets
        size = current_size(target) * (DEFAULT_SIZE[0] / window.width())
    if request.is_animation:
        steps = _step_range(request, num_steps)
        export_animation(window, target, request.output, steps, request.fps, size)
        what = f"{len(steps)} frames, steps {steps[0]} to {steps[-1]}"
    else:
        step = request.step if request.step is not None else window.step if request.scene else num_steps
        if not 1 <= step <= num_steps:
            raise UsageError(f"--step {step}: this input has {num_steps} steps; use 1 to {num_steps}")
        window.set_step(step)
        _check_ready(window, log)  # a panel that failed on this step would give a wrong picture
        save_picture(target, request.output, size)
        what = f"step {step} of {num_steps}"
    print(f"seqviz: wrote {request.output} ({size.width()}x{size.height()}, {what})", flush=True)
    return 0


def _compare(window, request: ExportRequest, log: WindowLog) -> None:
    """Run the request's --compare models beside the first; one that cannot run is a usage error."""
    for source in request.compare:
        if not window.compare(source):
            raise UsageError(f"--compare {source}: {window.comparison.problem}")
    _check_ready(window, log)  # a compared run's panel that failed


def _step_range(request: ExportRequest, num_steps: int) -> range:
    first, last = request.steps or (None, None)
    first = 1 if first is None else first
    last = num_steps if last is None else last
    if not (1 <= first <= last <= num_steps):
        raise UsageError(f"--steps {first}:{last}: this input has {num_steps} steps; use 1 to {num_steps}")
    return range(first, last + 1)
