"""The Training dock's files: saving a trained architecture, the text file to train on, and showing a
trained file opened in the window (its curves, its snapshots on the slider).

File dialogs open in the folder their kind of file was last saved in or opened from (the settings,
as the export dialogs do).
"""

from __future__ import annotations

from pathlib import Path

from seqviz.app.export import dialogs as export_dialogs
from seqviz.app.window import dialogs
from seqviz.demos.training_curves import Curves

TRAINED_FOLDER = "trained_folder"  # the settings' key of the folder trained models were saved in
TEXT_FOLDER = "training_text_folder"  # ... and of the folder a text file was trained on from
MODEL_FILTER = "seqviz model (*.safetensors)"
TEXT_FILTER = "Text files (*.txt *.md *.text);;All files (*)"


def save_run(window, run, path: str | None = None) -> Path | None:
    """Save `run` (a TrainingRun, not training now) as a model file, asking where when `path` is None;
    None if the person cancels, or (with an error box) if it cannot be written."""
    if path is None:
        name = f"{run.label.lower().replace(' ', '-')}-{run.steps_done}-steps.safetensors"
        suggested = export_dialogs.in_last_folder(TRAINED_FOLDER, name)
        title = f"Save the trained {run.label}"
        path = export_dialogs.choose_save_path(window, title, MODEL_FILTER, suggested)
        if not path:
            return None
    from seqviz.demos.trained_file import save_trained

    try:
        saved = save_trained(run, path)
    except (OSError, ValueError) as exc:  # ModelFileError is a ValueError
        dialogs.show_error(window, "Cannot save the trained model", str(exc))
        return None
    export_dialogs.remember_folder(TRAINED_FOLDER, saved)
    return saved


def choose_text_file(window) -> str | None:
    """Ask for the text file a language model is trained on."""
    folder = export_dialogs.last_folder(TEXT_FOLDER)
    path = dialogs.choose_file(window, "Train a language model on a text file", TEXT_FILTER, folder)
    if path:
        export_dialogs.remember_folder(TEXT_FOLDER, path)
    return path


def trained_in_seqviz(model) -> bool:
    """A model opened from a file that save_trained wrote (its card has a training record)."""
    card = getattr(getattr(model, "module", None), "card", None)
    metrics = getattr(card, "metrics", None)
    source = getattr(model, "source", "")
    return isinstance(metrics, dict) and "training" in metrics and source.endswith(".safetensors")


def show_trained_file(dock, model) -> bool:
    """Show the training of `model`, opened from a trained file, in `dock` (a TrainingDock): its curves
    by step, and its snapshots on the slider as versions of the model on screen. False (the reason in
    the dock) if its training record cannot be read."""
    from seqviz.core.modelfile import ModelFileError
    from seqviz.demos.trained_file import read_training

    view = dock.ensure_view()
    try:
        trained = read_training(model.source)
    except (ModelFileError, OSError, ValueError) as exc:
        view.status.setText(f"Its training curves cannot be shown: {exc}")
        return False
    dock.session, dock.trained_file = None, trained
    steps = trained.snapshot_steps
    view.set_runs([trained.label])
    arch = trained.model.card.metrics.get("arch", "")
    view.curves.set_runs([trained.label], [arch], trained.settings.get("clip"), max(steps, default=0))
    view.x_axis.setCurrentIndex(0)  # a file keeps no times
    view.x_axis.setEnabled(False)
    dock.points = [Curves.copy_of(trained.curves)]
    view.curves.set_points(0, dock.points[0])
    status = trained.problem or f"trained for {max(steps, default=0)} steps; the slider shows its snapshots"
    view.set_run_status(0, f"{trained.label}: {status}")
    view.status.setText(f"{Path(trained.path).name}: a model trained in seqviz.")
    dock.follow.adopt(model, 0, max(steps, default=None))  # its snapshots are versions of it
    return True
