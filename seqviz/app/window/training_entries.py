"""The model chooser's entries for weights being trained ("GRU (training)", source "training:GRU").

Such an entry names no file and no catalogue id: the weights live in the Training dock's session
(or in the trained file it shows). Choosing it again asks the dock to show that run, as choosing the
architecture in "Panels show" does; an entry whose run is gone (another session started with other
architectures) is removed once it is not the one on screen.
"""

from __future__ import annotations

from seqviz.app.window.training_follow import SOURCE_PREFIX


class TrainingEntries:
    def __init__(self, dock) -> None:
        self.dock = dock
        self.window = dock.window
        self.window.toolbar.route_source(SOURCE_PREFIX, self.choose)
        self.window.session.modelChanged.connect(lambda _model: self.prune())

    def labels(self) -> list[str]:
        """The labels of the runs whose weights can be shown now."""
        dock = self.dock
        if dock.session is not None:
            return [run.label for run in dock.session.runs]
        return [dock.trained_file.label] if dock.trained_file is not None else []

    def choose(self, source: str) -> None:
        """The entry of `source` was chosen: the dock shows that run's weights (an entry no run answers
        any more goes, with a message)."""
        label = source.removeprefix(SOURCE_PREFIX)
        labels = self.labels()
        if label in labels:
            self.dock.show_run(labels.index(label))
            return
        model = self.window.model
        if model is not None and model.source == source:  # on screen, and nothing newer of it is left
            return
        if model is not None:
            self.window.toolbar.select_source(model.source, model.label)
        self.prune()
        self.window.notices.set_request_note(
            f"The {label} weights being trained are gone (another training session replaced them): "
            "choose an architecture in the Training dock, or open a saved model file."
        )

    def prune(self) -> None:
        """Remove the entries of runs that cannot be shown any more (not the one on screen)."""
        keep = [f"{SOURCE_PREFIX}{label}" for label in self.labels()]
        self.window.toolbar.remove_sources(SOURCE_PREFIX, keep)
