"""TrainingView: the Training dock's widgets, laid out; no training logic (seqviz.app.window.training_dock).

From the top: the settings form (folds away while training; scrolls in a short dock), Start / Pause /
Stop, a progress bar, one
status line per architecture with its Save button, "Panels show" (the architecture whose weights the
panels trace) and the x axis of the curves, the snapshot slider ("step 0 ... step 1000"), and the
curves. The curves and the controls share the dock's height through a splitter.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from seqviz.app.panels.controls import ElidedLabel
from seqviz.app.window.training_curves import TrainingCurves
from seqviz.app.window.training_form import TrainingForm

IDLE_STATUS = "Choose a task and architectures, then Start: the panels follow the weights as they train."


class TrainingView(QWidget):
    startClicked = Signal()
    pauseClicked = Signal()  # Pause or Resume
    stopClicked = Signal()
    saveClicked = Signal(int)  # the run's index
    followChosen = Signal(int)  # the run whose weights the panels show
    snapshotChosen = Signal(int)  # the slider's position: an index into the snapshot steps

    def __init__(self, tasks: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = TrainingForm(tasks)
        self.snapshot_steps: list[int] = []
        self._build_buttons()
        self._build_follow()
        self.curves = TrainingCurves()
        self.status = ElidedLabel(IDLE_STATUS)  # the whole text in its tooltip when it does not fit
        self.status.set_lines(2)
        self.status.setObjectName("trainingStatus")
        self.run_rows = QGridLayout()
        self.run_rows.setVerticalSpacing(0)
        self.run_labels: list[ElidedLabel] = []
        self.save_buttons: list[QToolButton] = []
        self._lay_out()

    # construction ---------------------------------------------------------------------------------------
    def _build_buttons(self) -> None:
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Train the chosen architectures from untrained weights (Ctrl+Shift+T)")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause training (the panels keep the weights of now); Resume goes on")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop training: every architecture keeps what it was trained so far")
        self.start_button.clicked.connect(self.startClicked)
        self.pause_button.clicked.connect(self.pauseClicked)
        self.stop_button.clicked.connect(self.stopClicked)
        for button in (self.start_button, self.pause_button, self.stop_button):
            # narrower than the style's 80 px: the dock leaves the panels their room at 1024 px
            button.setMinimumWidth(button.fontMetrics().horizontalAdvance("Resume") + 16)
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.progress = QProgressBar()
        self.progress.setToolTip("Optimiser steps done, of every architecture together")
        self.progress.setTextVisible(True)

    def _build_follow(self) -> None:
        self.follow = QComboBox()
        self.follow.setToolTip("The architecture whose current weights the panels show")
        self.follow.activated.connect(lambda index: self.followChosen.emit(index))
        self.x_axis = QComboBox()
        self.x_axis.addItem("against steps", "step")
        self.x_axis.addItem("against time", "seconds")
        self.x_axis.setToolTip(
            "Curves against optimiser steps, or against each architecture's own training time"
        )
        self.x_axis.currentIndexChanged.connect(lambda _i: self.curves.set_x_axis(self.x_axis.currentData()))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("snapshotSlider")
        self.slider.setToolTip(
            "Show the weights saved at an earlier step in the panels (while paused or after training)"
        )
        self.slider.setPageStep(1)
        self.slider.valueChanged.connect(self._on_slider_moved)
        self.slider_label = QLabel("step 0")
        self.slider_label.setMinimumWidth(self.slider_label.fontMetrics().horizontalAdvance("step 000000"))

    def _lay_out(self) -> None:
        self.settings_button = QToolButton()
        self.settings_button.setText("Settings")
        self.settings_button.setCheckable(True)
        self.settings_button.setChecked(True)
        self.settings_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.settings_button.setAutoRaise(True)
        self.settings_button.setToolTip("Show or hide the training settings (hidden while training)")
        self.settings_button.toggled.connect(self.show_settings)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.form)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        controls = QWidget()
        column = QVBoxLayout(controls)
        column.setContentsMargins(6, 2, 6, 2)
        column.setSpacing(3)
        column.addWidget(self.settings_button)
        column.addWidget(self.scroll, 1)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        column.addLayout(buttons)
        column.addWidget(self.progress)
        column.addWidget(self.status)
        column.addLayout(self.run_rows)
        rows = QGridLayout()  # two columns: a label, then its control
        rows.addWidget(QLabel("Panels show"), 0, 0)
        rows.addWidget(self.follow, 0, 1)
        rows.addWidget(self.slider_label, 1, 0)
        rows.addWidget(self.slider, 1, 1)
        rows.addWidget(QLabel("Curves"), 2, 0)
        rows.addWidget(self.x_axis, 2, 1)
        rows.setColumnStretch(1, 1)
        column.addLayout(rows)
        self.controls = controls
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(controls)
        self.splitter.addWidget(self.curves)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self.show_settings(True)
        self.set_state("idle")

    def show_settings(self, shown: bool) -> None:
        """The settings form open (before training) or folded away (the curves get its room)."""
        self.settings_button.blockSignals(True)
        self.settings_button.setChecked(shown)
        self.settings_button.blockSignals(False)
        self.settings_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.scroll.setVisible(shown)
        QTimer.singleShot(0, self, self.fit_controls)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt): a new height is shared out again
        super().resizeEvent(event)
        QTimer.singleShot(0, self, self.fit_controls)

    def fit_controls(self) -> None:
        """The controls as tall as they need (the form up to two thirds of the dock), the curves the rest."""
        total = sum(self.splitter.sizes())
        if total <= 0:
            return
        form = self.form.sizeHint().height() if self.scroll.isVisible() else 0
        others = self.controls.sizeHint().height() - (
            self.scroll.sizeHint().height() if self.scroll.isVisible() else 0
        )
        wanted = others + max(0, min(form, total * 2 // 3 - others))
        self.splitter.setSizes([wanted, max(total - wanted, self.curves.minimumHeight())])

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt): a side dock that leaves the panels most of the window
        return QSize(340, 600)

    # what the dock shows --------------------------------------------------------------------------------
    def set_state(self, state: str) -> None:
        """ "idle", "starting", "running", "paused" or "ended": which buttons work."""
        training = state in ("starting", "running", "paused")
        self.form.set_training(training)
        self.start_button.setEnabled(not training)
        self.pause_button.setEnabled(state in ("running", "paused"))
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.stop_button.setEnabled(training)
        for button in self.save_buttons:
            button.setEnabled(state in ("paused", "ended"))
        self.slider.setEnabled(state in ("paused", "ended") and len(self.snapshot_steps) > 1)

    def set_runs(self, labels: list[str]) -> None:
        """One status line and Save button per run; the runs in "Panels show"."""
        for widget in (*self.run_labels, *self.save_buttons):
            self.run_rows.removeWidget(widget)
            widget.deleteLater()
        self.run_labels, self.save_buttons = [], []
        for i, label in enumerate(labels):
            text = ElidedLabel(label)  # two lines at most: the rows never run into each other
            text.set_lines(2)
            save = QToolButton(text="Save...")
            save.setToolTip(f"Save the trained {label} as a model file (opens with File > Open model)")
            save.clicked.connect(lambda _=False, index=i: self.saveClicked.emit(index))
            self.run_rows.addWidget(text, i, 0)
            self.run_rows.addWidget(save, i, 1, Qt.AlignmentFlag.AlignTop)
            self.run_labels.append(text)
            self.save_buttons.append(save)
        self.run_rows.setColumnStretch(0, 1)
        self.follow.clear()
        self.follow.addItems(labels)
        QTimer.singleShot(0, self, self.fit_controls)

    def set_run_status(self, index: int, text: str) -> None:
        """A run's line: its steps, loss and held-out accuracy, or its problem (whole in the tooltip)."""
        self.run_labels[index].setText(text)

    def set_snapshots(self, steps: list[int], shown: int | None = None) -> None:
        """The slider's positions (steps with saved weights), at `shown` (default: the last)."""
        self.snapshot_steps = list(steps)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(steps) - 1))
        position = steps.index(shown) if shown in steps else len(steps) - 1
        self.slider.setValue(max(0, position))
        self.slider.blockSignals(False)
        self._label_slider(self.slider.value())
        if steps:
            self.slider.setToolTip(
                f"Show the weights saved at step {steps[0]} ... step {steps[-1]} in the panels"
            )

    def show_step(self, step: int) -> None:
        """While training: the step whose weights the panels show, beside the (disabled) slider."""
        self.slider_label.setText(f"step {step}")

    def _on_slider_moved(self, position: int) -> None:
        self._label_slider(position)
        self.snapshotChosen.emit(position)

    def _label_slider(self, position: int) -> None:
        steps = self.snapshot_steps
        self.slider_label.setText(f"step {steps[position]}" if 0 <= position < len(steps) else "step 0")
