"""Output panel: the model's output distribution at the current step, as a sorted bar chart.

Tasks (meta "task"): "lm" — next-token probabilities, row t-1 after t tokens, the true next token is
`tokens[t]`; "classify" — class probabilities after t tokens; "tag" — the tag of token t;
"seq2seq" — output token t. Known answers are marked: the true next token (lm), meta "targets"
(a label per step, tag/seq2seq) or meta "target" (classify).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from seqviz.app import plotting
from seqviz.app.panels.base import Panel
from seqviz.app.panels.heatmap import PlotCanvas
from seqviz.app.panels.traceinfo import is_causal, output_labels, task_of
from seqviz.app.state import ViewState
from seqviz.app.theme import Theme, current_theme, theme_notifier
from seqviz.core.trace import Trace

TOP_K = 10


class OutputPanel(Panel):
    name = "output"
    title = "Output"

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self._ready = False
        self.task = "lm"
        self.labels: list[str] = []
        self.shown_labels: list[str] = []
        self.shown_probs = np.zeros(0, np.float32)
        self.true_label: str | None = None
        self.true_row: int | None = None  # row of the true answer among the shown bars
        self.header = QLabel(textFormat=Qt.TextFormat.RichText)
        self.footer = QLabel(textFormat=Qt.TextFormat.RichText)
        self.canvas = PlotCanvas()
        self.plot = self.canvas.addPlot(0, 0, enableMenu=False)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.invertY(True)  # most probable on top
        self.plot.showGrid(x=True, alpha=0.25)
        self.plot.setLabel("bottom", "probability")
        self.bars = pg.BarGraphItem(x0=0, y=np.zeros(1), height=0.7, width=np.zeros(1), pen=None)
        self.true_bar = pg.BarGraphItem(x0=0, y=np.zeros(1), height=0.7, width=np.zeros(1), pen=None)
        self.plot.addItem(self.bars)
        self.plot.addItem(self.true_bar)
        self.value_texts = [pg.TextItem(anchor=(0, 0.5)) for _ in range(TOP_K)]
        for text in self.value_texts:
            self.plot.addItem(text, ignoreBounds=True)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.header)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.footer)
        state.stepChanged.connect(self._on_step_changed)
        theme_notifier.themeChanged.connect(self.apply_theme)
        self.apply_theme(current_theme())

    # Trace -------------------------------------------------------------------------------------
    def set_trace(self, trace: Trace | None) -> None:
        self._ready = False
        super().set_trace(trace)

    def applies_to(self, trace: Trace) -> str | None:
        if "probs" not in trace:
            return "This model has no output head to show (the trace has no \u201cprobs\u201d array)."
        return None

    def show_trace(self, trace: Trace) -> None:
        self.probs = trace["probs"]  # (T, K)
        self.task = task_of(trace)
        self.labels = output_labels(trace, self.probs.shape[1])
        self._label_index = {label: i for i, label in enumerate(self.labels)}
        self.k = min(TOP_K, self.probs.shape[1])
        rows = np.arange(self.k, dtype=np.float64)
        self.bars.setOpts(y=rows, width=np.zeros(self.k))
        self.true_bar.setOpts(y=rows, width=np.zeros(self.k))
        for i, text in enumerate(self.value_texts):
            text.setVisible(i < self.k)
        self.plot.setRange(xRange=(0, 1.12), yRange=(-0.5, self.k - 0.5), padding=0)
        self._ready = True
        self._on_step_changed(self.state.step)

    # State -> view ------------------------------------------------------------------------------
    def _on_step_changed(self, step: int) -> None:
        if not self._ready:
            return
        step = min(max(step, 1), self.probs.shape[0])
        row = self.probs[step - 1]  # (K,)
        top = np.argpartition(-row, self.k - 1)[: self.k] if self.k < row.size else np.arange(row.size)
        top = top[np.argsort(-row[top], kind="stable")]
        self.shown_probs = row[top]
        self.shown_labels = [self.labels[i] for i in top]
        self.bars.setOpts(width=self.shown_probs)
        ticks = [(i, plotting.display_token(label)) for i, label in enumerate(self.shown_labels)]
        self.plot.getAxis("left").setTicks([ticks])
        self._mark_truth(step, row)
        theme = current_theme()
        for i, text in enumerate(self.value_texts[: self.k]):
            is_true = i == self.true_row
            suffix = "  \u25c0 true" if is_true else ""
            text.setText(f"{self.shown_probs[i]:.3f}{suffix}", theme.accent if is_true else theme.foreground)
            text.setPos(float(self.shown_probs[i]) + 0.01, i)
        self.header.setText(self._header(step, top))

    def _truth(self, step: int) -> str | None:
        """The known right answer at `step`, or None."""
        meta = self.trace.meta
        if self.task == "lm":
            return self.trace.tokens[step] if step < self.trace.num_steps else None
        if self.task == "classify":
            return meta.get("target")
        targets = meta.get("targets")
        return str(targets[step - 1]) if isinstance(targets, list) and step <= len(targets) else None

    def _mark_truth(self, step: int, row: np.ndarray) -> None:
        self.true_label = self._truth(step)
        index = self._label_index.get(self.true_label) if self.true_label is not None else None
        self.true_row = (
            self.shown_labels.index(self.true_label) if self.true_label in self.shown_labels else None
        )
        widths = np.zeros(self.k)
        if self.true_row is not None:
            widths[self.true_row] = self.shown_probs[self.true_row]
        self.true_bar.setOpts(width=widths)
        if self.true_label is None or index is None:
            self.footer.setText(self._no_truth_text(step))
            return
        rank = int((row > row[index]).sum()) + 1
        what = "true next token" if self.task == "lm" else "true answer"
        tick = " \u2714" if rank == 1 else ""
        label = plotting.display_token(self.true_label)
        self.footer.setText(f"{what} <b>{label}</b>: p = {row[index]:.4f}, rank {rank}{tick}")

    def _no_truth_text(self, step: int) -> str:
        if self.task == "lm" and step >= self.trace.num_steps:
            return "the next token is beyond the input"
        if self.true_label is not None:
            return f"the true answer {self.true_label!r} is not one of the model's outputs"
        return ""

    def _header(self, step: int, top: np.ndarray) -> str:
        token = plotting.display_token(self.trace.tokens[step - 1])
        best = plotting.display_token(self.labels[top[0]])
        if self.task == "classify":
            when = (
                f"after {step} tokens"
                if is_causal(self.trace)
                else "(the model reads the whole input at once)"
            )
            final = " \u2014 the final prediction" if step == self.trace.num_steps else ""
            return f"class probabilities {when}{final}: <b>{best}</b>"
        if self.task == "tag":
            return f"tag of '{token}' (step {step}): predicted <b>{best}</b>"
        if self.task == "seq2seq":
            return f"output token {step}: <b>{best}</b>"
        return f"after '{token}' (step {step}), the next token: <b>{best}</b>"

    # Theme ----------------------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        self.canvas.apply_theme(theme)
        plotting.style_plot(self.plot, theme)
        self.bars.setOpts(brush=pg.mkBrush(theme.bar))
        self.true_bar.setOpts(brush=pg.mkBrush(theme.accent))
        for text in self.value_texts:
            text.setColor(theme.foreground)
            text.setFont(plotting.font(theme, 0.9))
        for label in (self.header, self.footer):
            label.setFont(plotting.font(theme))
