"""The window's actions (with their keys) and the toolbar that shows them.

Actions are added to the window itself as well as to the toolbar and menus, so their keys work wherever
the focus is. Plain keys (arrows, Space, Home, End) do not fire while the text field has focus: the
line edit claims them for editing through Qt's shortcut-override step.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QMenu,
    QSlider,
    QStyle,
    QToolBar,
    QToolButton,
    QWidget,
)

from seqviz.app.viewer.playback import SPEEDS
from seqviz.app.window.model_combo import ModelCombo
from seqviz.demos.catalogue import CatalogueEntry

SOURCE_ROLE = Qt.ItemDataRole.UserRole + 1
TRACE_ROLE = Qt.ItemDataRole.UserRole + 2  # the entry that stands for a trace file on screen
GROUP_ROLE = Qt.ItemDataRole.UserRole + 3  # the title of an added group (`add_group`) a row belongs to
NO_MODEL_YET = "Loading model..."  # the chooser's text before a model or a trace is on screen
TEMPERATURES = (0.0, 0.5, 0.8, 1.0, 1.5)
GENERATE_COUNTS = (1, 10, 50)


def _one_line(text: str, limit: int = 90) -> str:
    """The start of a description, short enough for one line of the model chooser."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ,;:") + "\u2026"


def example_menu_text(example: str, limit: int = 70) -> str:
    """An example as one menu line of at most about `limit` characters: a long one keeps its start and
    its end, whole words, and loses the middle ("i was born in france . the … i speak fluent french"):
    the lesson is often in the last word. `&` is doubled (Qt would take it for a mnemonic)."""
    words = example.split()
    text = " ".join(words)
    if len(text) > limit:
        tail: list[str] = []
        while words and len(" ".join([words[-1], *tail])) <= limit // 2:
            tail.insert(0, words.pop())
        head: list[str] = []
        while words and len(" ".join([*head, words[0]])) <= limit - len(" ".join(tail)) - 3:
            head.append(words.pop(0))
        text = f"{' '.join(head)} \u2026 {' '.join(tail)}".strip()
    return text.replace("&", "&&")


class Actions:
    """Every command of the window, with its key and tooltip."""

    def __init__(self, window: QWidget) -> None:
        style = window.style()

        def make(text: str, tip: str, keys=(), icon=None) -> QAction:
            action = QAction(text, window)
            if icon is not None:
                action.setIcon(style.standardIcon(icon))
            shortcuts = [QKeySequence(k) for k in keys]
            action.setShortcuts(shortcuts)
            key_text = (
                f" ({shortcuts[0].toString(QKeySequence.SequenceFormat.NativeText)})" if shortcuts else ""
            )
            action.setToolTip(tip + key_text)
            action.setStatusTip(tip)
            window.addAction(action)
            return action

        pix = QStyle.StandardPixmap
        self.open_model = make(
            "Open model file...",
            "Open a seqviz model file or a raw RNN/GRU/LSTM state dict",
            ["Ctrl+O"],
            pix.SP_DialogOpenButton,
        )
        self.open_folder = make(
            "Open model folder...",
            "Open a Hugging Face model folder (config.json, weights and tokenizer files)",
            icon=pix.SP_DirOpenIcon,
        )
        self.open_trace = make(
            "Open trace...", "Open a saved trace (.npz)", ["Ctrl+Shift+O"], pix.SP_FileIcon
        )
        self.quit = make("Quit", "Quit seqviz", ["Ctrl+Q"])
        self.first = make("First step", "Go to the first step", ["Home"], pix.SP_MediaSkipBackward)
        self.back = make("Step back", "One step back", ["Left"], pix.SP_MediaSeekBackward)
        self.play = make("Play", "Play / pause", ["Space"], pix.SP_MediaPlay)
        self.forward = make("Step forward", "One step forward", ["Right"], pix.SP_MediaSeekForward)
        self.last = make("Last step", "Go to the last step", ["End"], pix.SP_MediaSkipForward)
        self.generate = make(
            "Generate", "Extend the text by sampling from the model (language models)", ["Ctrl+G"]
        )
        self.reset_layout = make("Reset layout", "Put every panel back where it starts")
        self.play_icons = (style.standardIcon(pix.SP_MediaPlay), style.standardIcon(pix.SP_MediaPause))


class MainToolBar(QToolBar):
    """Model chooser, text field, transport, speed, step slider and step label."""

    modelChosen = Signal(str)  # a catalogue id or a file path
    textSubmitted = Signal(str)
    speedChosen = Signal(float)

    def __init__(self, actions: Actions, parent: QWidget | None = None) -> None:
        super().__init__("Main toolbar", parent)
        self.setObjectName("mainToolbar")
        self.setMovable(False)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self._routes: dict[str, Callable[[str], None]] = {}  # source prefix -> who shows it (route_source)
        self.model_combo = self._make_model_combo()
        self.addWidget(self.model_combo)
        self.addAction(actions.open_model)
        self.addAction(actions.open_trace)
        self.addSeparator()
        self.text_edit = QLineEdit(placeholderText="Type an input and press Enter")
        self.text_edit.setToolTip("The input. Enter runs the model; Esc goes back to stepping.")
        self.text_edit.setMinimumWidth(140)
        self.text_edit.returnPressed.connect(lambda: self.textSubmitted.emit(self.text_edit.text()))
        self.addWidget(self.text_edit)
        self.examples_button = QToolButton(
            text="Examples", popupMode=QToolButton.ToolButtonPopupMode.InstantPopup
        )
        self.examples_button.setToolTip("Example inputs for this model")
        self.examples_button.setMenu(QMenu(self.examples_button))
        self.addWidget(self.examples_button)
        self.generate_button = self._make_generate_button(actions.generate)
        self.addWidget(self.generate_button)
        self.addSeparator()
        for action in (actions.first, actions.back, actions.play, actions.forward, actions.last):
            self.addAction(action)
        # The step counter right after the buttons, the slider and the speed last: a narrow window
        # (1024x640, the presentation theme's fonts) puts the toolbar's last items in its overflow
        # menu, and the counter went there first.
        self.step_label = QLabel("step 0 / 0")
        self.step_label.setToolTip("The current step t and the number of steps T")
        self._step_digits = 0
        self._fit_step_label(1)
        self.step_label.installEventFilter(self)  # its font follows the theme: _fit_step_label again
        self.addWidget(self.step_label)
        self.slider = QSlider(Qt.Orientation.Horizontal, minimum=1, maximum=1)
        self.slider.setToolTip("Drag to any step")
        self.slider.setMinimumWidth(80)
        self.addWidget(self.slider)
        self.speed_combo = self._make_speed_combo()
        self.addWidget(self.speed_combo)

    # model chooser --------------------------------------------------------------------------------
    def _make_model_combo(self) -> QComboBox:
        combo = ModelCombo()  # its entry ends at a whole word where it does not fit, whole in the tooltip
        combo.setToolTip("Choose a model (grouped by task)")
        combo.setModel(QStandardItemModel(combo))
        combo.setPlaceholderText(NO_MODEL_YET)  # shown while no row is current (-1)
        combo.activated.connect(self._on_model_activated)
        return combo

    def set_entries(self, entries: list[CatalogueEntry]) -> None:
        """Fill the chooser: a header per task, then its models as "id — description"."""
        model: QStandardItemModel = self.model_combo.model()
        model.clear()
        tasks: dict[str, list[CatalogueEntry]] = {}
        for entry in entries:
            tasks.setdefault(entry.task or "other", []).append(entry)
        for task, group in tasks.items():
            self._add_header(task)
            for entry in group:
                self._add_item(f"{entry.id} \u2014 {_one_line(entry.summary)}", entry.id, entry.description)
        width = self.model_combo.view().sizeHintForColumn(0) + 30
        self.model_combo.view().setMinimumWidth(width)
        self._never_a_header()

    def add_group(self, title: str, items: list[tuple[str, str, str]], note: str = "") -> None:
        """A group after the catalogue: a header, then (text, source, tooltip) items; `note` is a
        line that opens nothing (e.g. how to install what the group needs). Replaces a group of the
        same title."""
        model: QStandardItemModel = self.model_combo.model()
        chosen = self.model_combo.currentData(SOURCE_ROLE)
        for row in reversed(range(model.rowCount())):
            if model.item(row).data(GROUP_ROLE) == title:
                model.removeRow(row)
        first = model.rowCount()
        self._add_header(title)
        for text, source, tip in items:
            self._add_item(text, source, tip)
        if note:
            item = QStandardItem(note)
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            item.setToolTip(note)
            model.appendRow(item)
        for row in range(first, model.rowCount()):
            model.item(row).setData(title, GROUP_ROLE)
        if chosen is not None and self.model_combo.findData(chosen, SOURCE_ROLE) >= 0:
            self._set_current(self.model_combo.findData(chosen, SOURCE_ROLE))  # its row was renewed
        self._never_a_header()

    def show_no_model(self, text: str = NO_MODEL_YET) -> None:
        """No model is open (loading, or it failed): the chooser shows `text`, never a group header (a
        trace file's entry stays)."""
        if self.model_combo.currentData(TRACE_ROLE):
            return
        self._set_current(-1)
        self.model_combo.setPlaceholderText(text)

    def _never_a_header(self) -> None:
        """A header or a note row is never shown as the chosen model (Qt makes row 0 current)."""
        item = self.model_combo.model().item(self.model_combo.currentIndex())
        if item is not None and item.data(SOURCE_ROLE) is None and not item.data(TRACE_ROLE):
            self._set_current(-1)

    def _set_current(self, index: int) -> None:
        self.model_combo.blockSignals(True)
        self.model_combo.setCurrentIndex(index)
        self.model_combo.blockSignals(False)

    def _add_header(self, text: str) -> None:
        header = QStandardItem(text.upper())
        header.setFlags(Qt.ItemFlag.NoItemFlags)
        font = header.font()
        font.setBold(True)
        header.setFont(font)
        self.model_combo.model().appendRow(header)

    def _add_item(self, text: str, source: str, tip: str) -> None:
        item = QStandardItem(text)
        item.setData(source, SOURCE_ROLE)
        item.setToolTip(tip)
        self.model_combo.model().appendRow(item)

    def select_source(self, source: str, label: str) -> None:
        """Show `source` as the chosen model, adding it under "files" if it is not listed."""
        combo = self.model_combo
        self._remove_trace_entry()
        index = combo.findData(source, SOURCE_ROLE)
        if index < 0:
            if combo.findText("FILES") < 0:
                self._add_header("files")
            self._add_item(label, source, source)
            index = combo.count() - 1
        combo.blockSignals(True)
        combo.setCurrentIndex(index)
        combo.blockSignals(False)

    def show_trace_file(self, label: str) -> None:
        """Show that a trace file, not a model, is on screen: a chooser entry that opens nothing (choosing
        a model from the list runs it again)."""
        combo = self.model_combo
        model: QStandardItemModel = combo.model()
        self._remove_trace_entry()
        item = QStandardItem(label)
        item.setData(True, TRACE_ROLE)
        item.setToolTip("A saved trace: choose a model to run text again")
        model.appendRow(item)
        combo.blockSignals(True)
        combo.setCurrentIndex(model.rowCount() - 1)
        combo.blockSignals(False)

    def _remove_trace_entry(self) -> None:
        model: QStandardItemModel = self.model_combo.model()
        for row in range(model.rowCount()):
            if model.item(row).data(TRACE_ROLE):
                model.removeRow(row)
                return

    def route_source(self, prefix: str, handler: Callable[[str], None]) -> None:
        """Entries whose source starts with `prefix` are neither a file nor a catalogue id (weights being
        trained): choosing one calls `handler(source)` instead of emitting modelChosen."""
        self._routes[prefix] = handler

    def remove_sources(self, prefix: str, keep: Collection[str] = ()) -> None:
        """Remove the entries whose source starts with `prefix`, except the sources in `keep` and the
        entry shown; a "files" header left with no entry goes too."""
        combo, model = self.model_combo, self.model_combo.model()
        chosen = combo.currentIndex()  # Qt keeps it on its row as rows before it go
        for row in reversed(range(model.rowCount())):
            source = model.item(row).data(SOURCE_ROLE)
            if source and source.startswith(prefix) and source not in keep and row != chosen:
                model.removeRow(row)
        files = combo.findText("FILES")
        after = model.item(files + 1) if files >= 0 else None
        if files >= 0 and (after is None or after.data(SOURCE_ROLE) is None):
            model.removeRow(files)

    def _on_model_activated(self, index: int) -> None:
        source = self.model_combo.itemData(index, SOURCE_ROLE)
        if not source:
            return
        handler = next((h for prefix, h in self._routes.items() if str(source).startswith(prefix)), None)
        if handler is not None:
            handler(str(source))
        else:
            self.modelChosen.emit(str(source))

    # examples -------------------------------------------------------------------------------------
    def set_examples(self, examples: tuple[str, ...] | list[str]) -> None:
        menu = self.examples_button.menu()
        menu.clear()
        menu.setToolTipsVisible(True)
        for example in examples:
            action = menu.addAction(example_menu_text(example))
            action.setToolTip(example)
            action.triggered.connect(lambda _=False, text=example: self._use_example(text))
        self.examples_button.setEnabled(bool(examples))

    def _use_example(self, text: str) -> None:
        self.text_edit.setText(text)
        self.textSubmitted.emit(text)

    # generate -------------------------------------------------------------------------------------
    def _make_generate_button(self, action: QAction) -> QToolButton:
        button = QToolButton(popupMode=QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        button.setDefaultAction(action)
        menu = QMenu(button)
        self.temperature_actions = self._choice_group(
            menu,
            "Temperature",
            [("greedy" if t == 0 else f"temperature {t:g}", t) for t in TEMPERATURES],
            0.8,
        )
        menu.addSeparator()
        self.count_actions = self._choice_group(
            menu, "Tokens", [(f"{n} token{'s' * (n > 1)}", n) for n in GENERATE_COUNTS], 10
        )
        button.setMenu(menu)
        return button

    def _choice_group(self, menu: QMenu, title: str, choices, default) -> list[QAction]:
        menu.addSection(title)
        actions = []
        for text, value in choices:
            action = menu.addAction(text)
            action.setCheckable(True)
            action.setData(value)
            action.setChecked(value == default)
            action.triggered.connect(
                lambda _=False, a=action, group=actions: [b.setChecked(b is a) for b in group]
            )
            actions.append(action)
        return actions

    @property
    def temperature(self) -> float:
        return float(next(a.data() for a in self.temperature_actions if a.isChecked()))

    @property
    def generate_count(self) -> int:
        return int(next(a.data() for a in self.count_actions if a.isChecked()))

    # speed ----------------------------------------------------------------------------------------
    def _make_speed_combo(self) -> QComboBox:
        combo = QComboBox()
        combo.setToolTip("Playback speed (steps per second)")
        for speed in SPEEDS:
            combo.addItem(f"{speed:g} steps/s", speed)
        combo.activated.connect(lambda i: self.speedChosen.emit(float(combo.itemData(i))))
        return combo

    def set_speed(self, speed: float) -> None:
        nearest = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - speed))
        self.speed_combo.setCurrentIndex(nearest)

    # step -----------------------------------------------------------------------------------------
    def _fit_step_label(self, num_steps: int, force: bool = False) -> None:
        """Size the step counter for "step T / T" in its font.

        A fixed size (min == max) keeps setText from asking the whole window for a new layout on
        every step: Qt only re-lays out for a size hint change of a widget that can change size. It
        changes with the number of digits of T and with the font (a theme's), not per step."""
        digits = max(2, len(str(num_steps)))
        if digits == self._step_digits and not force:
            return
        self._step_digits = digits
        widest = self.step_label.fontMetrics().horizontalAdvance(f"step {'0' * digits} / {'0' * digits}")
        self.step_label.setFixedSize(widest + 4, self.step_label.sizeHint().height())

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt)
        if watched is self.step_label and event.type() == QEvent.Type.FontChange:  # a theme's text size
            self._fit_step_label(self.slider.maximum(), force=True)
        return super().eventFilter(watched, event)

    def show_step(self, step: int, num_steps: int) -> None:
        """Slider and label follow the shared step (without echoing it back)."""
        self._fit_step_label(num_steps)
        self.slider.blockSignals(True)
        self.slider.setRange(1, max(1, num_steps))
        self.slider.setValue(max(1, step))
        self.slider.blockSignals(False)
        self.slider.setEnabled(num_steps > 1)
        self.step_label.setText(f"step {step} / {num_steps}")
