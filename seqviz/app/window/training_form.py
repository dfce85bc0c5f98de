"""TrainingForm: the Training dock's settings, as TrainingChoices (seqviz.app.viewer.training_choices).

Task (a bundled task, or a text file read by characters or words), the architectures (RNN, GRU,
LSTM, Transformer: each on or off, with its hidden size and layers), learning rate, steps, batch
size, seed, gradient clipping and how often the panels follow. Every control says what it does in
its tooltip. The form only edits values: the dock starts training and remembers them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QLocale, Qt, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from seqviz.app.viewer.training_choices import (
    ARCH_NAMES,
    ARCH_TITLES,
    BOUNDS,
    TRANSFORMER_HEADS,
    ArchChoice,
    TrainingChoices,
    clamp,
)

FILE_TASK = "file"
TEXT_FILE_FILTER = "Text files (*.txt *.md *.text *.csv);;All files (*)"
LEVELS = (("char", "characters"), ("word", "words"))


def _spin(name: str, tip: str, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    low, high = BOUNDS[name]
    box.setRange(int(low), int(high))
    box.setSingleStep(step)
    box.setToolTip(tip)
    box.setAccelerated(True)
    return box


class ArchRow:
    """One architecture's checkbox, hidden size and layers."""

    def __init__(self, arch: str) -> None:
        self.arch = arch
        title = ARCH_TITLES[arch]
        self.check = QCheckBox(title)
        self.check.setObjectName(f"train_{arch}")
        self.check.setToolTip(f"Train a {title} (one to four architectures train side by side)")
        size = "d_model (a multiple of 4 heads)" if arch == "transformer" else "hidden units per layer"
        self.hidden = _spin("hidden", f"{title}: {size}", TRANSFORMER_HEADS if arch == "transformer" else 16)
        self.layers = _spin("layers", f"{title}: number of stacked layers")
        if arch == "transformer":  # d_model is split among the heads
            self.hidden.setSingleStep(TRANSFORMER_HEADS)
            self.hidden.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
        self.check.toggled.connect(self._on_toggled)
        self._on_toggled(False)

    def _on_toggled(self, on: bool) -> None:
        self.hidden.setEnabled(on)
        self.layers.setEnabled(on)

    def choice(self) -> ArchChoice:
        hidden = self.hidden.value()
        if self.arch == "transformer":
            hidden = -(-hidden // TRANSFORMER_HEADS) * TRANSFORMER_HEADS
        return ArchChoice(self.arch, self.check.isChecked(), hidden, self.layers.value())

    def set_choice(self, choice: ArchChoice) -> None:
        self.check.setChecked(choice.enabled)
        self.hidden.setValue(choice.hidden)
        self.layers.setValue(choice.layers)


class LearningRateBox(QComboBox):
    """The learning rate: usual values to pick, or any number typed ("1e37": a lesson on divergence).
    `value()` is what is typed, brought into BOUNDS["lr"]; the default when it is not a number."""

    PRESETS = ("0.0003", "0.001", "0.003", "0.01", "0.03", "0.1", "1")

    def __init__(self) -> None:
        super().__init__()
        self.setEditable(True)
        self.addItems(self.PRESETS)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        validator = QDoubleValidator(*BOUNDS["lr"], 12, self)
        validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
        validator.setLocale(QLocale.c())  # "0.003" whatever the person's locale writes
        self.setValidator(validator)
        self.setToolTip(
            "Adam's learning rate (type any number, e.g. 1e37); one too large makes the loss NaN: "
            "that architecture stops, keeping its last good weights"
        )

    def value(self) -> float:
        return clamp("lr", self.currentText(), TrainingChoices().lr)

    def setValue(self, value: float) -> None:  # noqa: N802 (as the spin boxes)
        self.setCurrentText(f"{value:g}")


class TrainingForm(QWidget):
    changed = Signal()  # any value changed (the dock remembers them)

    def __init__(self, tasks: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text_file = ""
        self.choose_text_file = lambda: None  # set by the dock: a file dialog; returns a path or None
        self._build_task(tasks)
        self.rows = {arch: ArchRow(arch) for arch in ARCH_NAMES}
        self._build_numbers()
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Task", self.task)
        form.addRow(self.file_row)
        form.addRow(self._arch_grid())
        form.addRow("Learning rate", self.lr)
        form.addRow("Steps", self.steps)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Seed", self.seed)
        form.addRow(self.clip_on, self.clip)
        form.addRow("Panels every", self.follow_every)
        self.set_choices(TrainingChoices())
        self._connect_changes()

    # construction ---------------------------------------------------------------------------------------
    def _build_task(self, tasks: list[tuple[str, str]]) -> None:
        self.task = QComboBox()
        self.task.setToolTip(
            "What to learn: a lecture task with a known answer, or a text file (a language model)"
        )
        for name, title in tasks:
            self.task.addItem(title, name)
        self.task.addItem("Text file...", FILE_TASK)
        self.task.activated.connect(self._on_task_activated)
        self.file_label = QLabel()
        self.file_label.setTextFormat(Qt.TextFormat.PlainText)
        self.file_button = QPushButton("Choose...")
        self.file_button.setToolTip("Choose the text file to train a language model on")
        self.file_button.clicked.connect(self._ask_for_file)
        self.level = QComboBox()
        for level, title in LEVELS:
            self.level.addItem(title, level)
        self.level.setToolTip(
            "A character-level model reads one character at a time; a word-level one, words"
        )
        self.file_row = QWidget()
        row = QHBoxLayout(self.file_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.file_label, 1)
        row.addWidget(self.file_button)
        row.addWidget(self.level)

    def _build_numbers(self) -> None:
        self.lr = LearningRateBox()
        self.steps = _spin("steps", "Optimiser steps per architecture", 100)
        self.batch_size = _spin("batch_size", "Examples (or text windows) per optimiser step")
        self.seed = _spin("seed", "The random seed: the same seed and settings train the same weights")
        self.clip_on = QCheckBox("Clip gradients at")
        self.clip_on.setToolTip(
            "Scale the gradient down when its norm exceeds the threshold (exploding gradients)"
        )
        self.clip = QDoubleSpinBox()
        self.clip.setDecimals(2)
        self.clip.setRange(*BOUNDS["clip"])
        self.clip.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.clip.setToolTip("The largest gradient norm an optimiser step uses")
        self.clip_on.toggled.connect(self.clip.setEnabled)
        self.follow_every = _spin(
            "follow_every",
            "Trace the text with the current weights every this many steps: the panels follow training",
            10,
        )
        self.follow_every.setSuffix(" steps")

    def _arch_grid(self) -> QWidget:
        grid_widget = QWidget()
        grid = QGridLayout(grid_widget)
        grid.setContentsMargins(0, 2, 0, 2)
        grid.setVerticalSpacing(2)
        for column, text in ((1, "hidden"), (2, "layers")):
            grid.addWidget(QLabel(text), 0, column)
        for i, row in enumerate(self.rows.values(), start=1):
            grid.addWidget(row.check, i, 0)
            grid.addWidget(row.hidden, i, 1)
            grid.addWidget(row.layers, i, 2)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)
        return grid_widget

    def _connect_changes(self) -> None:
        for combo in (self.task, self.level):
            combo.currentIndexChanged.connect(self.changed)
        for box in (self.steps, self.batch_size, self.seed, self.clip, self.follow_every):
            box.valueChanged.connect(self.changed)
        self.lr.currentTextChanged.connect(self.changed)
        self.clip_on.toggled.connect(self.changed)
        for row in self.rows.values():
            row.check.toggled.connect(self.changed)
            row.hidden.valueChanged.connect(self.changed)
            row.layers.valueChanged.connect(self.changed)

    # values ---------------------------------------------------------------------------------------------
    def choices(self) -> TrainingChoices:
        return TrainingChoices(
            task=self.task.currentData() or FILE_TASK,
            text_file=self.text_file,
            level=self.level.currentData(),
            archs=tuple(row.choice() for row in self.rows.values()),
            lr=self.lr.value(),
            steps=self.steps.value(),
            batch_size=self.batch_size.value(),
            seed=self.seed.value(),
            clip_on=self.clip_on.isChecked(),
            clip=self.clip.value(),
            follow_every=self.follow_every.value(),
        )

    def set_choices(self, choices: TrainingChoices) -> None:
        index = self.task.findData(choices.task)
        self.task.setCurrentIndex(index if index >= 0 else 0)
        self.set_text_file(choices.text_file)
        self.level.setCurrentIndex(max(0, self.level.findData(choices.level)))
        for choice in choices.archs:
            self.rows[choice.arch].set_choice(choice)
        self.lr.setValue(choices.lr)
        self.steps.setValue(choices.steps)
        self.batch_size.setValue(choices.batch_size)
        self.seed.setValue(choices.seed)
        self.clip_on.setChecked(choices.clip_on)
        self.clip.setValue(choices.clip)
        self.clip.setEnabled(choices.clip_on)
        self.follow_every.setValue(choices.follow_every)
        self._show_file_row()

    def set_text_file(self, path: str) -> None:
        self.text_file = path
        self.file_label.setText(Path(path).name if path else "no file chosen")
        self.file_label.setToolTip(path)

    def set_training(self, training: bool) -> None:
        """While training, only how often the panels follow can change."""
        for widget in self.findChildren(QWidget):
            if widget is not self.follow_every and not isinstance(widget, QLabel):
                widget.setEnabled(not training)
        if not training:  # a row's sizes follow its checkbox
            for row in self.rows.values():
                row.hidden.setEnabled(row.check.isChecked())
                row.layers.setEnabled(row.check.isChecked())
            self.clip.setEnabled(self.clip_on.isChecked())

    # slots ----------------------------------------------------------------------------------------------
    def _on_task_activated(self, _index: int) -> None:
        if self.task.currentData() == FILE_TASK and not self.text_file:
            self._ask_for_file()
        self._show_file_row()

    def _ask_for_file(self) -> None:
        path = self.choose_text_file()
        if path:
            self.set_text_file(str(path))
            self.changed.emit()

    def _show_file_row(self) -> None:
        self.file_row.setVisible(self.task.currentData() == FILE_TASK)
