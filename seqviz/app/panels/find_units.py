"""Find units panel: rank a layer's units, then follow, match, compare and edit the ones that matter.

Two modes (the Select and Differ buttons):
- Select: the units on within steps first..last and off elsewhere (LSTMVis's select). The span comes
  from its spin boxes, or from shift-clicking (shift-dragging) token chips in the strip, which write
  the viewer's `("tokens", "span")` option.
- Differ: the units whose values differ most at a step between this run (A) and a second text (B,
  by default this text with the word at the step swapped for the model's next best guess).

Row actions on the chosen rows (every row when none is selected): Follow (the Selected units panel
plots them), Match (where else they switch on: marks on the token chips, through the viewer's
`("tokens", "marks")` option, and a list of the model's examples), and in Differ mode Compare with B
and Set to B's values (an edit of this run). The panel ranks the trace on screen itself; what needs
the model (tracing B, the examples, comparing, editing) it asks for with signals, which the window's
FindUnitsTool (seqviz.app.window.find_units) answers through `set_other`, `show_example_matches`
and `set_status`.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from seqviz.app.panels import find_units_logic as logic
from seqviz.app.panels import token_marks
from seqviz.app.panels.base import Panel
from seqviz.app.panels.controls import DIRECTION_LABELS, ControlRow, OptionCombo, SelectionCombo
from seqviz.app.viewer.model import ViewerModel
from seqviz.core.token_display import display_token
from seqviz.core.trace import Trace
from seqviz.core.unit_search import TextMatch

NAME = "find_units"
MODES = (
    ("Select", "Units on within a span of steps and off elsewhere"),
    ("Differ", "Units that differ most between this text (A) and a second text (B) at a step"),
)
EDIT_TIP = "Edit this run: these units take B's values (the model carries them on)"
NOT_EDITABLE = "Units of a Transformer cannot be set (its heads can be ablated: right-click one)"
MATCH_FRACTION = 0.8  # "most" of the units on: all of ten is rare outside the selection itself


class FindUnitsPanel(Panel):
    name = NAME
    title = "Find units"

    differRequested = Signal(str, bool)  # B's text, wait: trace it and call set_other
    examplesMatchRequested = Signal(object, bool)  # the Ranking of the chosen rows, wait
    compareRequested = Signal(str)  # B's text: open a comparison with it
    editsRequested = Signal(list)  # seqviz.edits for this run

    def __init__(self, viewer: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(viewer, parent)
        self.ranking: logic.Ranking | None = None
        self.other: Trace | None = None  # B, traced by the window
        self.special_tokens: tuple[str, ...] = ()  # never offered as B's word (set by the window)
        self.decode = None  # the model's ids -> text, for B's text (set by the window)
        self._shown_tokens: list[str] = []  # the text of the trace shown last
        self._build_controls()
        self._build_modes()
        self._build_table()
        self.content = QWidget()
        layout = QVBoxLayout(self.content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.controls)
        layout.addLayout(self.modes)
        layout.addWidget(self.table, 3)
        layout.addLayout(self._build_actions())
        layout.addWidget(self.matches, 1)
        # a tool, not a figure: in a short dock it scrolls rather than squeeze the panels beside it
        self.scroller = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        self.scroller.setWidget(self.content)
        QVBoxLayout(self.body).setContentsMargins(0, 0, 0, 0)
        self.body.layout().addWidget(self.scroller)
        self._connect()

    # construction ---------------------------------------------------------------------------------
    def _build_controls(self) -> None:
        self.controls = ControlRow()
        self.array_box = self.controls.add("Array", OptionCombo(self.selection, NAME, "array"))
        self.layer_box = self.controls.add("Layer", SelectionCombo(self.selection, "layer"))
        self.direction_box = self.controls.add("Direction", SelectionCombo(self.selection, "direction"))
        self.controls.finish()
        self.top_box = QSpinBox(minimum=1, maximum=9999, value=10, prefix="top ")
        self.top_box.setToolTip("How many units to rank")

    def _build_modes(self) -> None:
        self.first_box, self.last_box = QSpinBox(minimum=1), QSpinBox(minimum=1)
        self.here_button = QPushButton("Current step")
        self.here_button.setToolTip("Select the current step (or shift-click / shift-drag token chips)")
        select = _row(QLabel("Steps"), self.first_box, QLabel("to"), self.last_box, self.here_button)
        self.other_edit = QLineEdit(placeholderText="a second text, e.g. with one word changed")
        self.differ_step_box = QSpinBox(minimum=1)
        self.differ_button = QPushButton("Rank")
        self.differ_button.setToolTip("Trace the second text (B) and rank the units by |B \u2212 A|")
        differ = _row(
            QLabel("B"), self.other_edit, QLabel("at step"), self.differ_step_box, self.differ_button
        )
        differ.layout().setStretch(1, 1)  # the text takes the room
        differ.layout().setStretch(5, 0)
        self.pages = QStackedWidget()
        self.pages.addWidget(select)
        self.pages.addWidget(differ)
        self.mode_buttons = QButtonGroup(self)
        self.modes = QHBoxLayout()
        self.modes.setContentsMargins(4, 0, 4, 0)
        for index, (text, tip) in enumerate(MODES):
            button = QPushButton(text, checkable=True, checked=index == 0, toolTip=tip)
            self.mode_buttons.addButton(button, index)
            self.modes.addWidget(button)
        self.modes.addWidget(self.pages, 1)

    def _build_table(self) -> None:
        self.heading = self.controls.note  # what the table ranks, after the controls
        self.table = QTableWidget(0, 4)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Choose rows for the actions below (none chosen: every row)")
        self.table.setMinimumHeight(self.fontMetrics().height() * 4)

    def _build_actions(self) -> QGridLayout:
        """Two rows of actions: on any ranking, and with B (Differ)."""
        self.follow_button = QPushButton("Follow")
        self.follow_button.setToolTip("Plot these units over time in the Selected units panel")
        self.match_button = QPushButton("Match")
        self.match_button.setToolTip("Where else these units switch on: in this text and in the examples")
        self.compare_button = QPushButton("Compare with B")
        self.edit_button = QPushButton("Set to B's values")
        self.when_box = QComboBox()
        self.when_box.addItem("at this step", logic.AT_STEP)
        self.when_box.addItem("from here on", logic.ONWARD)
        self.when_box.setToolTip(
            "At this step: the model carries the set values on. From here on: B's values at every "
            "later step too (one edit, holding B's values of each unit at each step)"
        )
        self.matches = QTextBrowser()  # scrolls: a long list of matches never makes the panel taller
        self.matches.setMinimumHeight(self.fontMetrics().height() * 2)
        grid = QGridLayout()
        grid.setContentsMargins(4, 0, 4, 0)
        for column, widget in enumerate((self.follow_button, self.match_button, self.top_box)):
            grid.addWidget(widget, 0, column)
        for column, widget in enumerate((self.compare_button, self.edit_button, self.when_box)):
            grid.addWidget(widget, 1, column)
        grid.setColumnStretch(3, 1)
        return grid

    def _connect(self) -> None:
        self.array_box.valueChanged.connect(self._rank)
        self.selection.layerChanged.connect(self._rank)
        self.selection.directionChanged.connect(self._rank)
        self.selection.optionChanged.connect(self._on_option_changed)
        self.top_box.valueChanged.connect(self._rank)
        self.first_box.valueChanged.connect(self._rank)
        self.last_box.valueChanged.connect(self._rank)
        self.differ_step_box.valueChanged.connect(self._rank)
        self.mode_buttons.idClicked.connect(self._on_mode_changed)
        self.here_button.clicked.connect(lambda: self.select_steps(self.cursor.step, self.cursor.step))
        self.other_edit.returnPressed.connect(self._on_differ_clicked)
        self.differ_button.clicked.connect(self._on_differ_clicked)
        self.follow_button.clicked.connect(self.follow)
        self.match_button.clicked.connect(lambda: self.match())
        self.compare_button.clicked.connect(lambda: self.compareRequested.emit(self.other_edit.text()))
        self.edit_button.clicked.connect(self.set_to_other_values)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        # what the controls need, no more: a table's generous hint made the docks' tab group taller
        # than the other panels ask, and the panels under it shorter
        return self.content.minimumSizeHint()

    # trace ----------------------------------------------------------------------------------------
    def applies_to(self, trace: Trace) -> str | None:
        return None if logic.array_choices(trace) else "This trace has no per-unit arrays to search."

    def show_trace(self, trace: Trace) -> None:
        names = logic.array_choices(trace)
        self.array_box.set_choices(names, names, default=names[0])
        _, layers, directions, units = trace[names[0]].shape
        self.layer_box.set_choices([str(i + 1) for i in range(layers)])
        self.direction_box.set_choices(DIRECTION_LABELS[:directions])
        self.controls.set_shown(self.direction_box, directions > 1)
        for box in (self.first_box, self.last_box, self.differ_step_box):
            with QSignalBlocker(box):
                box.setMaximum(trace.num_steps)
        with QSignalBlocker(self.top_box):
            self.top_box.setMaximum(units)
        if self.other is not None and self.other.meta.model_id != trace.meta.model_id:
            self.set_other(None)  # B came from another model: its units mean nothing here
        self.selection.set_option(token_marks.PANEL, token_marks.MARKS, "")  # found in another trace
        new_text, self._shown_tokens = trace.tokens != self._shown_tokens, list(trace.tokens)
        self._ready = True
        self._rank()
        if new_text:  # not the same text traced again (with edits): the span and B start afresh
            self.matches.clear()
            QTimer.singleShot(0, self._after_step_set)  # the window moves the cursor after set_trace

    def _after_step_set(self) -> None:
        """A new trace: select the current step and offer B with its word swapped."""
        if self.trace is None or not self._ready:
            return
        step = max(1, self.cursor.step)
        self.select_steps(step, step, switch=False)
        self._offer_other(step)

    def _offer_other(self, step: int) -> None:
        """B = this text with the word at `step` swapped, unless the person typed a B of their own."""
        if self.other_edit.isModified() and self.other_edit.text():
            return
        self.other_edit.setText(logic.other_text(self.trace, step, self.special_tokens, self.decode))
        with QSignalBlocker(self.differ_step_box):
            self.differ_step_box.setValue(step)

    # requests from the person or a script ---------------------------------------------------------
    def select_steps(self, first: int, last: int, *, switch: bool = True) -> None:
        """Rank the units on within steps first..last (1-based) and off elsewhere."""
        for box, value in ((self.first_box, first), (self.last_box, last)):
            with QSignalBlocker(box):
                box.setValue(value)
        if switch and self.pages.currentIndex() != 0:
            self._show_mode(0)
        else:
            self._rank()

    def differ(self, text: str, step: int | None = None, *, wait: bool = False) -> None:
        """Rank the units by |B - A| at `step` (default: the one in the box) once B = `text` is traced
        (by the window: in the background, or before this returns with `wait`)."""
        self.other_edit.setText(text)
        self.other = None  # the previous B no longer ranks while this one is traced
        if step is not None:
            with QSignalBlocker(self.differ_step_box):
                self.differ_step_box.setValue(step)
        self._show_mode(1)
        self.set_status(f"Tracing B: {text}")
        self.differRequested.emit(text, wait)

    def set_other(self, trace: Trace | None) -> None:
        """B's trace (from the window), or None to forget it; ranks at the first step where A and B
        differ when the step in the box reads the same token in both."""
        self.other = trace
        if trace is not None and self.trace is not None:
            step = self.differ_step_box.value()
            if logic.token_at(self.trace, step) == logic.token_at(trace, step):
                changed = logic.first_difference(self.trace.tokens, trace.tokens)
                if changed is not None and changed <= self.trace.num_steps:
                    with QSignalBlocker(self.differ_step_box):
                        self.differ_step_box.setValue(changed)
        self._rank()

    def set_status(self, text: str) -> None:
        """One plain line under the actions (what Match found, what went wrong)."""
        self.matches.setPlainText(text)

    def chosen_units(self) -> list[int]:
        """The units of the selected rows, or of every row when none is selected."""
        if self.ranking is None:
            return []
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.ranking.units[r] for r in rows] or self.ranking.units

    def follow(self) -> None:
        """The chosen units, over time, in the Selected units panel (and the ranked array)."""
        if self.ranking is None:
            return
        self.selection.set_layer(self.ranking.layer)
        self.selection.set_direction(self.ranking.direction)
        self.selection.set_option("units", "array", self.ranking.array)
        self.selection.set_units(self.chosen_units())

    def match(self, *, wait: bool = False) -> None:
        """Where else the chosen units switch on: marks on the token chips, the steps listed, and the
        model's examples asked of the window."""
        if self.ranking is None or self.trace is None:
            return
        units = self.chosen_units()
        steps = logic.match_marks(self.trace, self.ranking, units, MATCH_FRACTION)
        self.selection.set_option(token_marks.PANEL, token_marks.MARKS, ",".join(map(str, steps)))
        share = (
            f"at least {MATCH_FRACTION:.0%} of {len(units)} units" if len(units) > 1 else f"unit {units[0]}"
        )
        self.set_status(f"On ({share}) at: {logic.describe_steps(self.trace, steps)}")
        rows = tuple(row for row in self.ranking.rows if row.unit in set(units))
        self.examplesMatchRequested.emit(logic.restricted(self.ranking, rows), wait)

    def show_example_matches(self, matches: list[TextMatch]) -> None:
        """The model's examples where the units switch on (from the window), under the steps."""
        lines = [
            f"example {i + 1}: " + ", ".join(f"'{display_token(m.tokens[s])}'" for s in m.steps[:8])
            for i, m in enumerate(matches)
            if m.steps
        ]
        self.matches.moveCursor(QTextCursor.MoveOperation.End)  # plain text: a token may look like a tag
        self.matches.insertPlainText("\n" + ("\n".join(lines) or "In none of the model's examples."))

    def set_to_other_values(self) -> None:
        """Ask for an edit of this run: the chosen units take B's values at the step (or onward)."""
        if self.ranking is None or self.other is None or self.ranking.mode != logic.DIFFER:
            return
        edits = logic.transplant(
            self.ranking,
            self.other,
            self.chosen_units(),
            self.differ_step_box.value(),
            self.trace.num_steps,
            self.when_box.currentData(),
        )
        self.set_status(logic.edit_note(self.trace, self.ranking, self.when_box.currentData(), edits[0]))
        self.editsRequested.emit(edits)

    # state -> view --------------------------------------------------------------------------------
    def _on_differ_clicked(self) -> None:
        self.differ(self.other_edit.text())

    def _show_mode(self, index: int) -> None:
        self.mode_buttons.button(index).setChecked(True)
        self.pages.setCurrentIndex(index)
        self._rank()

    def _on_mode_changed(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        if index == 1 and self.other is None and self.trace is not None:
            self._offer_other(max(1, self.cursor.step))  # the word at the step the person is on
        self._rank()

    def _on_option_changed(self, panel: str, key: str, value: str) -> None:
        span = token_marks.parse_span(value)
        if (panel, key) != (token_marks.PANEL, token_marks.SPAN) or not span or not self._ready:
            return
        if span != (self.first_box.value(), self.last_box.value()) or self.pages.currentIndex() != 0:
            self.select_steps(*span)  # chosen on the token strip

    def _show_span(self) -> None:
        """The Select span outlined on the token strip (nothing in Differ mode)."""
        first, last = sorted((self.first_box.value(), self.last_box.value()))
        span = token_marks.span_text(first, last) if self.pages.currentIndex() == 0 else ""
        self.selection.set_option(token_marks.PANEL, token_marks.SPAN, span)

    def _rank(self, *_args) -> None:
        if not self._ready or self.trace is None:
            return
        self.ranking, problem = self._ranking()
        self._show_span()
        self._fill_table()
        self.heading.setText(problem or (self.ranking.title if self.ranking else ""))
        differ = self.ranking is not None and self.ranking.mode == logic.DIFFER
        editable = differ and self.trace.is_recurrent  # value edits set recurrent states
        self.compare_button.setEnabled(differ)
        for button in (self.edit_button, self.when_box):
            button.setEnabled(editable)
        self.edit_button.setToolTip(EDIT_TIP if self.trace.is_recurrent else NOT_EDITABLE)
        for button in (self.follow_button, self.match_button):
            button.setEnabled(self.ranking is not None)

    def _ranking(self) -> tuple[logic.Ranking | None, str | None]:
        """The ranking the controls ask for, or None and the one line that says why not."""
        where = (self.array_box.value, self.selection.layer, self.selection.direction, self.top_box.value())
        try:
            if self.pages.currentIndex() == 0:
                first, last = self.first_box.value(), self.last_box.value()
                return logic.select_rows(self.trace, first, last, *where), None
            if self.other is None:
                return None, "Type a second text (B) and press Rank: the units that differ most at the step."
            return logic.differ_rows(self.trace, self.other, self.differ_step_box.value(), *where), None
        except ValueError as exc:
            return None, str(exc)

    def _fill_table(self) -> None:
        ranking = self.ranking
        mode = ranking.mode if ranking else logic.SELECT
        self.table.setHorizontalHeaderLabels(list(logic.HEADERS[mode]))
        self.table.setRowCount(len(ranking.rows) if ranking else 0)
        for r in range(self.table.rowCount()):
            for c, text in enumerate(ranking.cells(r)):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)


def _row(*widgets: QWidget) -> QWidget:
    holder = QWidget()
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(4, 2, 4, 2)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(1)
    return holder
