"""Comparison: two to four runs side by side under one shared cursor (`MainWindow.compare`).

The first run (A) keeps the window: toolbar, token strip, dock panels. Each compared run (B, C, D) is
a column of its own panels beside the dock area (rows under it on a narrow window), labelled in the
window and so in every picture. The runs share the ViewerModel's Cursor; each has its own Selection
(layer, head, units). A compared run is aligned to A by position when both models split the text into
the same tokens, else by the characters of the text (seqviz.app.viewer.alignment). A run compared on
A's text (`text=None`) follows A's text when it changes; one given its own text keeps it.

The View menu has "Compare with" (a bundled model on A's text) and "Stop comparing"; each column has
a close button.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QBoxLayout, QMenu, QWidget

from seqviz.app.viewer import alignment, runs, what_if
from seqviz.app.viewer.comparison import RunViewer
from seqviz.app.viewer.runs import InputProblem, Run
from seqviz.app.window import dialogs
from seqviz.app.window.compare_columns import RunColumn, RunHeader, run_label
from seqviz.core.model_interface import SequenceModel
from seqviz.core.statedict import ModelFileError
from seqviz.demos import catalogue

MAX_RUNS = 4  # the first run and up to three compared ones
# logical pixels per run: a window narrower than this times the runs puts the compared runs in rows
# under the first (at 1280 wide, three columns pushed the third off the window)
COLUMN_WIDTH = 560


@dataclass
class ComparedRun:
    """A compared run: its model, the Run on screen, whether it follows A's text, and its column."""

    model: SequenceModel
    run: Run
    follows_text: bool
    column: RunColumn
    edits: tuple = ()


class Comparison(QObject):
    """Adds, shows and removes compared runs in a MainWindow."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.compared: list[ComparedRun] = []
        self.problem = ""  # why the last request to compare failed (one line)
        self._build_row()
        self._build_menu()
        window.traceShown.connect(self._on_reference_shown)
        window.installEventFilter(self)

    # construction ---------------------------------------------------------------------------------
    def _build_row(self) -> None:
        """Put the dock area in a row that the compared runs' columns join (its own layout: a scene's
        renewed dock area replaces it there, see DockArea.renewed)."""
        central = self.window.centralWidget().layout()
        dock_area = self.window.dock_area
        index = central.indexOf(dock_area)
        self.row = QWidget()
        self.row.setObjectName("runsRow")
        self.row_layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, self.row)
        self.row_layout.setContentsMargins(0, 0, 0, 0)
        self.row_layout.setSpacing(6)
        self.first_header = RunHeader(closable=False)
        self.first_header.hide()
        self.first_column = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.first_column.setSpacing(2)
        self.first_column.addWidget(self.first_header)
        central.removeWidget(dock_area)
        self.first_column.addWidget(dock_area, 1)
        self.row_layout.addLayout(self.first_column, 3)
        central.insertWidget(index, self.row, 1)

    def _build_menu(self) -> None:
        menu = self.window.view_menu
        menu.addSeparator()
        self.compare_menu = QMenu("Compare with", menu)
        for entry in catalogue.entries():
            action = self.compare_menu.addAction(entry.id)
            action.triggered.connect(lambda _checked=False, source=entry.id: self.add(source))
        menu.addMenu(self.compare_menu)
        self.stop_action = menu.addAction("Stop comparing")
        self.stop_action.triggered.connect(self.stop)
        self.stop_action.setEnabled(False)

    # requests -------------------------------------------------------------------------------------
    def add(self, source: str | SequenceModel, text: str | None = None, *, edits=()) -> bool:
        """Compare `source` (a bundled id, a model file or an opened SequenceModel) on `text` (default:
        A's text, which it then follows). False, with a note or an error box, if it cannot."""
        window = self.window
        self.problem = self._why_not_add() or ""
        if self.problem:
            window.notices.set_request_note(self.problem)
            return False
        try:
            model = self._open(source)
        except Exception as exc:  # ModelFileError, OSError: the same words the model chooser uses
            self.problem = f"{source}: {exc}"
            dialogs.show_error(window, "Cannot compare", self.problem)
            return False
        follows = text is None
        try:
            run = runs.run(model, window.run.text if follows else text, edits=tuple(edits))
        except InputProblem as problem:
            self.problem = f"Cannot compare {model.label}: {problem}"
            window.notices.set_request_note(self.problem)
            return False
        index = window.viewer.add_run()
        column = RunColumn(RunViewer(window.viewer, index, self))
        column.header.closeClicked.connect(lambda: self.remove(self._index_of(column)))
        column.tokens.strip.maskToggled.connect(lambda at: self.toggle_mask(self._index_of(column), at))
        self.compared.append(ComparedRun(model, run, follows, column, tuple(edits)))
        self.row_layout.addWidget(column, 2)
        self._show(len(self.compared))
        column.show()  # now, not on the layout's next turn: _arrange measures it before the window grows
        self._update_chrome()
        return True

    def _open(self, source: str | SequenceModel) -> SequenceModel:
        """The model to compare, where the first run's runs (--device): a file with the load options
        given for it (Session.load_options: --vocab, --heads, --nonlinearity), or else, if it cannot
        open without, with the first run's (one --vocab serves the example's LSTM and Transformer of
        one corpus); the first refusal is what is reported."""
        session = self.window.session
        if not isinstance(source, str) or source in session.load_options:
            options = session.load_options.get(source, {}) if isinstance(source, str) else {}
            return runs.load(source, device=session.device, **options)
        try:
            return runs.load(source, device=session.device)
        except ModelFileError as refused:
            first = session.load_options.get(getattr(self.window.model, "source", ""))
            if not first:
                raise
            try:
                model = runs.load(source, device=session.device, **first)
            except ModelFileError:
                raise refused from None
            session.load_options[source] = dict(first)  # a scene of this comparison keeps them
            return model

    def toggle_mask(self, index: int, position: int) -> bool:
        """A compared masked language model (run `index`, 1..): the mask on its token `position`
        (0-based), or off again, as a double-click on its token strip does. False, with a note, if the
        text cannot run so."""
        compared = self.compared[index - 1]
        masks = tuple(sorted(set(compared.run.masks) ^ {int(position)}))
        try:
            compared.run = runs.run(compared.model, compared.run.text, edits=compared.edits, masks=masks)
        except InputProblem as problem:
            self.window.notices.set_request_note(f"{compared.model.label} cannot run it: {problem}")
            return False
        self._show(index)
        return True

    def _why_not_add(self) -> str | None:
        if self.window.run is None or self.window.model is None:
            return "Compare needs a model run on screen (a trace file has no model to compare with)."
        if len(self.compared) + 1 >= MAX_RUNS:
            return f"At most {MAX_RUNS} runs side by side: stop comparing one first."
        return None

    def remove(self, index: int) -> None:
        """Stop comparing run `index` (1..): its column goes, the others move up one letter."""
        if not 1 <= index <= len(self.compared):
            raise IndexError(f"no compared run {index}")
        gone = self.compared.pop(index - 1)
        self.row_layout.removeWidget(gone.column)
        gone.column.hide()
        gone.column.deleteLater()
        self.window.viewer.remove_run(index)
        for i in range(index, len(self.compared) + 1):
            self._show_label(i)
        self._update_chrome()

    def stop(self) -> None:
        """Stop comparing: the window shows the first run alone."""
        while self.compared:
            self.remove(len(self.compared))

    # showing --------------------------------------------------------------------------------------
    def _index_of(self, column: RunColumn) -> int:
        return next(i for i, c in enumerate(self.compared, start=1) if c.column is column)

    def _show(self, index: int) -> None:
        """Align run `index` to A, give it to the viewer and its column."""
        compared, window = self.compared[index - 1], self.window
        reference = window.trace
        step_map = self._step_map(compared)
        compared.column.run_viewer.set_trace(compared.run.trace, step_map)
        compared.column.tokens.strip.set_special_tokens(compared.model.special_tokens)  # outlined
        failures = compared.column.set_traces(reference, compared.run.trace)
        if failures:
            dialogs.show_error(window, "A panel could not show the compared run", "\n".join(failures))
        self._show_label(index)

    def _step_map(self, compared: ComparedRun):
        """None (by position) when both models read A's text as the same tokens, else by characters."""
        window, run = self.window, compared.run
        if window.run is None or window.model is None:
            return None
        text = window.run.model_text or window.run.text
        same = window.model.tokens(text) == compared.model.tokens(text)
        return alignment.align(
            text,
            window.model.count_tokens,
            window.trace.num_steps,
            run.model_text or run.text,
            compared.model.count_tokens,
            run.trace.num_steps,
            same,
        )

    def _show_label(self, index: int) -> None:
        compared = self.compared[index - 1]
        trace = compared.run.trace
        how = "aligned by characters" if compared.column.run_viewer.cursor.step_map is not None else ""
        edits = what_if.describe_all(compared.run.edits) or tuple(trace.meta.edits)
        label = run_label(index, compared.model.label, compared.run.text, edits)
        compared.column.header.set_text(label + (f"  \u00b7  {how}" if how else ""), compared.run.text)

    def _update_chrome(self) -> None:
        """The first run's label and the menu follow whether anything is compared."""
        comparing = bool(self.compared)
        self.stop_action.setEnabled(comparing)
        self.first_header.setVisible(comparing)
        if comparing and self.window.run is not None and self.window.model is not None:
            run = self.window.run
            edits = what_if.describe_all(run.edits)  # numbered as the panels show them
            self.first_header.set_text(run_label(0, self.window.model.label, run.text, edits), run.text)
        self._arrange()

    def _on_reference_shown(self, _trace) -> None:
        """A's trace changed (new text, model or generated token): runs that follow A's text run it;
        every run is aligned again."""
        if not self.compared:
            return
        run = self.window.run
        for index, compared in enumerate(self.compared, start=1):
            if compared.follows_text and run is not None and compared.run.text != run.text:
                try:
                    compared.run = runs.run(compared.model, run.text, edits=compared.edits)
                except InputProblem as problem:
                    self.window.notices.set_request_note(f"{compared.model.label} cannot run it: {problem}")
            self._show(index)
        self._update_chrome()

    # layout ---------------------------------------------------------------------------------------
    @property
    def narrow(self) -> bool:
        """Whether the compared runs are in rows under the first run (else in columns beside it)."""
        return self.row_layout.direction() == QBoxLayout.Direction.TopToBottom

    def _arrange(self) -> None:
        """Columns side by side, or rows under the first run on a narrow window; the other way when
        the preferred one does not fit the window and the other does. Qt grows a window to its
        minimum size: rows of two runs made a 1024x640 window 764 pixels tall (taller than the
        projector), where columns fitted."""
        prefer_rows = self.window.width() < COLUMN_WIDTH * (len(self.compared) + 1)
        overflow = {}
        for rows in (prefer_rows, not prefer_rows):
            self._set_rows(rows)
            overflow[rows] = self._overflow()
            if overflow[rows] == 0:
                return
        self._set_rows(min(overflow, key=overflow.get))  # neither fits: the one that grows it least

    def _set_rows(self, rows: bool) -> None:
        direction = QBoxLayout.Direction.TopToBottom if rows else QBoxLayout.Direction.LeftToRight
        if self.row_layout.direction() != direction:
            self.row_layout.setDirection(direction)
        for compared in self.compared:
            compared.column.set_narrow(rows)
            compared.column.updateGeometry()  # the row's layout measures the column anew

    def _overflow(self) -> int:
        """Pixels by which the runs' minimum size exceeds the room they have (0: they fit)."""
        needed, room = self.row_layout.minimumSize(), self.row.size()
        return max(needed.width() - room.width(), 0) + max(needed.height() - room.height(), 0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Resize and self.compared:
            self._arrange()
        return False


def install(window) -> Comparison:
    """The window's comparison (after its menus and dock area exist)."""
    return Comparison(window)


__all__ = ["MAX_RUNS", "ComparedRun", "Comparison", "install"]
