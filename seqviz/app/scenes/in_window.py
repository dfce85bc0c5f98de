"""Scenes in windows: `capture(window)` the scene a window shows, `apply(window, scene)` to show one.

The file format is `seqviz.app.scenes.scene_file` (Scene, SceneError, no Qt); its names are importable from
here too. Reopening a scene gives the same picture as the window it was saved from, pixel for pixel,
in a new window or in one that showed something else: the dock layout is restored into a renewed,
empty dock area once the window has its size and the trace is shown (so panels have their minimum
sizes), and everything else a picture shows is either in the scene or derived from it (combo box,
label and plot axis sizes do not depend on what a panel showed before: see `docks` and `export`).
"""

from __future__ import annotations

from collections.abc import Callable

from seqviz.app.scenes.scene_file import SCENE_SUFFIX, THEME_NAMES, Scene, SceneError, SceneRun

__all__ = ["SCENE_SUFFIX", "THEME_NAMES", "Scene", "SceneError", "SceneRun", "apply", "capture"]


# scenes and windows -------------------------------------------------------------------------------
def capture(window) -> Scene:
    """The scene a window shows now. Raises SceneError when it shows a trace file (no model run)."""
    from seqviz.app.window.theme import current_theme

    run, model = window.run, window.model
    if run is None or model is None:
        raise SceneError("scenes hold a model and its input; this window shows a trace file")
    sel, panels = window.viewer.selection, window.dock_area.panels
    return Scene(
        model=model.source,
        text=run.text,
        step=max(1, window.step),
        layer=sel.layer,
        direction=sel.direction,
        head=sel.head,
        units=tuple(sel.units),
        theme=current_theme().name,
        speed=window.playback.speed,
        panels=sel.options(),
        window_size=(window.width(), window.height()),
        dock_state=_b64(window.dock_area.save_layout()),
        geometry=_b64(window.saveGeometry()),
        splitters={
            name: {key: list(split.sizes()) for key, split in found.items()}
            for name, p in panels.items()
            if (found := p.splitters())
        },
        token_offsets=tuple(row.offset for row in window.tokens.strip.rows),
        compare=_compared_runs(window),
        edits=tuple(window.edits),
        model_options=dict(window.session.load_options.get(model.source, {})),
    )


def _compared_runs(window) -> tuple[SceneRun, ...]:
    """The runs compared beside the first (seqviz.app.window.compare), with their own selections."""
    found = []
    for index, compared in enumerate(window.comparison.compared, start=1):
        sel = window.viewer.selections[index]
        text = None if compared.follows_text else compared.run.text
        source = compared.model.source
        selected = (sel.layer, sel.direction, sel.head, sel.units, sel.options())
        options = dict(window.session.load_options.get(source, {}))  # what its file needs
        found.append(SceneRun(source, text, *selected, edits=compared.edits, model_options=options))
    return tuple(found)


def _apply_compared(window, runs: tuple[SceneRun, ...]) -> None:
    """Compare the scene's runs (none: back to one run), each with its selection and panel options."""
    window.stop_comparing()
    for run in runs:
        if run.model_options:
            window.session.load_options[run.model] = dict(run.model_options)
        if not window.compare(run.model, run.text, edits=run.edits):
            raise SceneError(f"cannot compare {run.model}: {window.comparison.problem}")
        _select(window.viewer.selections[-1], run)


def _b64(data) -> str:
    return bytes(data.toBase64()).decode("ascii")


def _qbytes(text: str):
    from PySide6.QtCore import QByteArray

    return QByteArray.fromBase64(text.encode("ascii"))


def apply(
    window,
    scene: Scene,
    *,
    wait: bool = True,
    restore_geometry: bool = True,
    done: Callable[[str | None], None] | None = None,
) -> bool:
    """Show `scene` in `window`: theme and size now, then the model and text, then the layout, step
    and selection once the trace is shown. With wait=False the model runs in the background and the
    rest follows when it is done; then `done(None)` is called once the whole scene is shown, or
    `done(message)` with one line saying why it is not (the model, the text or the view failed; an
    error in the view goes to `done` instead of the excepthook). Returns False if the model or text
    failed (only meaningful with wait). An error while the layout is applied is reported the same way
    (to `done`, else as a SceneError): never an abort, never a `done` that does not come."""
    window.playback.pause()  # a playing window would move on from the scene's step
    if scene.model_options:  # what its model file needs to open (--vocab, --heads, --nonlinearity)
        window.session.load_options[scene.model] = dict(scene.model_options)
    try:
        apply_layout(window, scene, restore_geometry=restore_geometry)
    except Exception as exc:
        message = f"showing the scene failed: {type(exc).__name__}: {exc}"
        if done is None:
            raise SceneError(message) from exc
        done(message)
        return False
    if wait:
        ok = window.open_model(scene.model, scene.text, wait=True)
        if ok and window.trace is not None:
            apply_view(window, scene)
        return ok and window.trace is not None

    def show_view(outcome) -> None:
        if outcome.run is None:
            if done is not None:
                done(f"the scene's text cannot run: {outcome.problem}")
            return
        if done is None:
            apply_view(window, scene)
            return
        try:
            apply_view(window, scene)
        except Exception as exc:  # reported to the caller, who asked to hear how it ended
            done(f"showing the scene failed: {type(exc).__name__}: {exc}")
            return
        done(None)

    after_next_outcome(window, show_view, failed=done)
    window.open_model(scene.model, scene.text, wait=False)
    return True


def apply_layout(window, scene: Scene, *, restore_geometry: bool = True) -> None:
    """Theme, panels, window size and playback speed of `scene` (the docks follow in apply_view)."""
    from seqviz.app.window import appearance

    appearance.apply_theme(window, scene.theme)
    window.load_panels()
    if restore_geometry and scene.geometry:
        window.restoreGeometry(_qbytes(scene.geometry))
    if scene.window_size:
        window.resize(*scene.window_size)
    if scene.speed is not None:
        window.playback.set_speed(scene.speed)
        window.toolbar.set_speed(window.playback.speed)


def restore_docks(window, scene: Scene) -> None:
    """The dock layout of `scene`, exactly as saved.

    Qt restores dock sizes within the limits of the panels' minimum sizes as they are at that moment,
    and a panel that was off screen (a tab behind, a dock of the old layout) updates its minimum only
    once it is laid out. So the layout is restored twice: the first pass puts every panel on screen
    with what it shows now, the second restores the saved sizes against settled minimums. Each pass
    starts from a renewed, empty dock area (restoring over a layout leaves its tab bars on screen) in
    a window of the scene's size (with no docks placed, nothing keeps the window from taking it)."""
    from PySide6.QtWidgets import QApplication

    if not scene.dock_state:
        return
    for _ in range(2):
        window.dock_area = window.dock_area.renewed()
        QApplication.processEvents()
        if scene.window_size:
            window.resize(*scene.window_size)
        QApplication.processEvents()  # the dock area gets its final size
        if not window.dock_area.restore_layout(_qbytes(scene.dock_state)):
            window.dock_area.default_layout()
        QApplication.processEvents()


def after_next_outcome(window, then, failed: Callable[[str], None] | None = None) -> None:
    """Call `then(outcome)` once, after the window has shown the next outcome; if the request fails
    instead, forget it (and call `failed("title: message")`, given one)."""
    session = window.session

    def on_outcome(outcome) -> None:
        disconnect()
        then(outcome)

    def on_failed(title: str, message: str) -> None:
        disconnect()
        if failed is not None:
            failed(f"{title}: {message}")

    def disconnect() -> None:
        session.outcome.disconnect(on_outcome)
        session.failed.disconnect(on_failed)

    session.outcome.connect(on_outcome)
    session.failed.connect(on_failed)


def apply_view(window, scene: Scene) -> None:
    """The selection, panel choices, step, dock layout, splitters and token scrolling of `scene`, on
    the trace the window shows. The order matters: what a panel shows sets its minimum size, which
    the dock layout must meet as it did when saved; splitters and scrolling follow the dock sizes."""
    _select(window.viewer.selection, scene)
    if scene.edits and not window.set_edits(scene.edits):  # the window said why in an error box
        raise SceneError("its edits do not fit the model; the window shows it unedited")
    _apply_compared(window, scene.compare)  # before the docks: the columns take part of the width
    window.finish_background_work()  # an option may re-trace (W_hh scale): show its result
    window.set_step(scene.step)
    restore_docks(window, scene)
    _restore_splitters(window.dock_area.panels, scene.splitters)
    _restore_token_offsets(window.tokens.strip, scene.token_offsets)


def _select(sel, scene: Scene | SceneRun) -> None:
    """A run's selection and panel options (clamped by the viewer to what its trace has)."""
    sel.set_layer(scene.layer)
    sel.set_direction(scene.direction)
    sel.set_head(scene.head)
    sel.set_units(scene.units)
    for panel, options in scene.panels.items():
        for key, value in options.items():
            sel.set_option(panel, key, value)  # a value the trace lacks keeps the panel's default


def _restore_splitters(panels: dict, splitters: dict[str, dict[str, list[int]]]) -> None:
    """Set the panels' splitters to the saved sizes; again while a pending layout pass (which shares
    a resized splitter out in proportion) moved them."""
    from PySide6.QtWidgets import QApplication

    wanted = []
    for name, sizes in splitters.items():
        found = panels[name].splitters() if name in panels else {}
        wanted += [(found[a], s) for a, s in sizes.items() if a in found and len(s) == found[a].count()]
    for _ in range(3):
        moved = [(split, sizes) for split, sizes in wanted if split.sizes() != sizes]
        if not moved:
            break
        for split, sizes in moved:
            split.setSizes(sizes)
        QApplication.processEvents()


def _restore_token_offsets(strip, offsets: tuple[int, ...]) -> None:
    """Scroll the token strip as it was (following the step scrolls by how it got there)."""
    if len(offsets) != len(strip.rows):
        return
    for row, offset in zip(strip.rows, offsets, strict=True):
        row.offset = max(0, min(offset, row.total - strip.view_width))
    strip.scrolled.emit()
    strip.update()
