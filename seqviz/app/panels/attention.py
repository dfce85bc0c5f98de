"""Attention panel: one head's query x key matrix, all heads as thumbnails, and lines from the current token.

Self-attention `attention` (L, heads, T, T) and, for encoder-decoder models, `cross_attention`
(L, heads, T, S) over the source tokens; a selector switches between them. Layer and head are the
shared ViewState's; the step is the query row. Option "heads": "one" (the selected head) or "mean"
(the mean of the layer's heads).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from seqviz.app.panels import attention_logic, plotting
from seqviz.app.panels.attention_views import AttentionLines, AttentionMatrix
from seqviz.app.panels.base import Panel
from seqviz.app.panels.controls import ControlRow, OptionCombo, SelectionCombo, clamp_index
from seqviz.app.panels.edit_choices import head_choices
from seqviz.app.panels.heatmap import PlotCanvas, colorbar, update_colorbar
from seqviz.app.panels.thumbnails import ThumbnailGrid
from seqviz.app.panels.traceinfo import is_causal, task_of
from seqviz.app.viewer.model import ViewerModel
from seqviz.app.window.theme import Theme, current_theme, theme_notifier
from seqviz.core.trace import Trace

SIDE_REFERENCE = 300  # pixels: the side's splits are set as proportions of this size
START_LABEL = "start"  # the decoder's first input, when the trace does not name its start token
KINDS = {"attention": "self-attention", "cross_attention": "cross-attention (to the source)"}


class AttentionPanel(Panel):
    name = "attention"
    title = "Attention"

    def __init__(self, viewer: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(viewer, parent)
        self.controls = ControlRow()
        self.layer_box = self.controls.add("Layer", SelectionCombo(self.selection, "layer"))
        self.head_box = self.controls.add("Head", SelectionCombo(self.selection, "head"))
        self.heads_box = self.controls.add("Heads", OptionCombo(self.selection, self.name, "heads"))
        self.kind_box = self.controls.add("Show", OptionCombo(self.selection, self.name, "show"))
        self.controls.finish()
        self.canvas = PlotCanvas()
        self.matrix = AttentionMatrix()
        self.canvas.addItem(self.matrix.plot, 0, 0)
        self.canvas.add_hover_source(self.matrix.text_at)
        self.colorbar = colorbar(current_theme().sequential_cmap, (0.0, 1.0))
        self.canvas.addItem(self.colorbar, 0, 1)
        self.lines = AttentionLines()
        self.thumbnails = ThumbnailGrid()
        # the matrix gets the full height on the left; lines over thumbnails on the right
        self.side = QSplitter(Qt.Orientation.Vertical)
        self.side.addWidget(self.lines)
        self.side.addWidget(self.thumbnails)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.canvas)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        # proportions, not size hints: the split must not depend on the font it was first shown in
        self.splitter.setSizes([SIDE_REFERENCE * 3, SIDE_REFERENCE * 2])
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.controls)
        layout.addWidget(self.splitter, 1)
        self.kind_box.valueChanged.connect(self._on_kind_changed)
        self.heads_box.valueChanged.connect(self._on_selection_changed)
        self.canvas.scene().sigMouseClicked.connect(self._on_matrix_clicked)
        self.thumbnails.thumbnailClicked.connect(self._on_thumbnail_clicked)
        self.thumbnails.scene().sigMouseClicked.connect(self._on_thumbnail_menu_requested)
        self.cursor.stepChanged.connect(self._on_step_changed)
        self.selection.layerChanged.connect(self._on_selection_changed)
        self.selection.headChanged.connect(self._on_selection_changed)
        theme_notifier.themeChanged.connect(self.apply_theme)
        theme_notifier.strokesChanged.connect(self.apply_strokes)
        self.apply_theme(current_theme())

    # Trace -------------------------------------------------------------------------------------
    def applies_to(self, trace: Trace) -> str | None:
        if "attention" in trace or "cross_attention" in trace:
            return None
        return (
            f"Attention maps belong to Transformers and attention models; this {trace.arch.upper()} has none."
        )

    def show_trace(self, trace: Trace) -> None:
        kinds = [k for k in KINDS if k in trace]
        # an encoder-decoder's lesson is the alignment: cross-attention first, unless the person
        # picked a view that this trace has
        self.kind_box.set_choices(kinds, [KINDS[k] for k in kinds], default=kinds[-1])
        self.controls.set_shown(self.kind_box, len(kinds) > 1)
        self._ready = True
        self._load_kind()

    def splitters(self) -> dict:
        return {"main": self.splitter, "side": self.side}  # matrix | side; lines over thumbnails

    def future_views(self) -> list:
        return [self.matrix, self.lines, self.thumbnails]

    @property
    def averages_heads(self) -> bool:
        """Whether the matrix and lines show the mean of the layer's heads, not one head."""
        return self.heads_box.value == attention_logic.MEAN_HEADS

    @property
    def kinds(self) -> list[str]:
        """The attention arrays this trace has, as offered under "Show"."""
        return self.kind_box.values

    @property
    def kind(self) -> str:
        """ "attention" or "cross_attention": the array shown."""
        return self.kind_box.value

    @property
    def array(self):
        return self.trace[self.kind]  # (L, heads, T, S)

    @property
    def key_tokens(self) -> list[str]:
        """Labels of the S keys: the source words (cross-attention), the decoder's inputs (a seq2seq
        decoder attends to its start token and the outputs before the current one), else the input
        tokens."""
        keys = self.array.shape[3]
        if self.kind == "cross_attention":
            source = self.trace.source_tokens
            return source if len(source) == keys else [str(i + 1) for i in range(keys)]
        if task_of(self.trace) == "seq2seq":
            return [self.trace.meta.decoder_start or START_LABEL, *self.trace.tokens[: keys - 1]]
        return self.trace.tokens

    @property
    def masked(self) -> bool:
        return self.kind == "attention" and is_causal(self.trace)

    def _load_kind(self) -> None:
        """A new array (self or cross): selectors, thumbnails, then the selected head."""
        layers, heads = self.array.shape[:2]
        self.layer_box.set_choices([str(i + 1) for i in range(layers)])
        self.head_box.set_choices([str(i + 1) for i in range(heads)])
        self.heads_box.set_choices(["one", attention_logic.MEAN_HEADS], ["one", "mean of all"], "one")
        self.controls.set_shown(self.layer_box, layers > 1)
        self.controls.set_shown(self.head_box, heads > 1)
        self.controls.set_shown(self.heads_box, heads > 1)
        self.thumbnails.set_data(self.array, self.masked)
        self.thumbnails.setVisible(layers * heads > 1)
        self._size_side()
        self._load_head()

    def _size_side(self) -> None:
        """Split the side between lines and thumbnails: room for square thumbnails, up to two thirds.

        Sizes are proportions of a reference side (QSplitter scales them to its real size), so the
        split is the same whether it is made before the panel is shown or after a theme switch.
        """
        grid = min(SIDE_REFERENCE * 2 // 3, self.thumbnails.preferred_height(SIDE_REFERENCE))
        self.side.setSizes([SIDE_REFERENCE - grid, grid])

    def _selected(self) -> tuple[int, int]:
        layers, heads = self.array.shape[:2]  # the encoder's stack may be shallower than the decoder's
        return clamp_index(self.selection.layer, layers), clamp_index(self.selection.head, heads)

    def _load_head(self) -> None:
        layer, head = self._selected()
        mean = self.averages_heads
        weights = attention_logic.shown_weights(self.array, layer, head, self.heads_box.value)  # (T, S)
        name = attention_logic.matrix_title(self.kind, self.trace.arch, layer, head, self.array.shape, mean)
        short = attention_logic.short_matrix_title(self.kind, layer, head, self.array.shape, mean)
        self.matrix.set_data(weights, self.masked, self.trace.tokens, self.key_tokens, (name, short))
        self.lines.set_data(weights, self.trace.tokens, self.key_tokens, self.masked)
        self.thumbnails.set_selected(layer, None if mean else head)
        self.head_box.setEnabled(not mean)
        note = "rows: queries (the step), columns: keys"
        if self.masked:
            note += " \u00b7 hatched: masked (a causal model cannot look ahead)"
        self.controls.note.setText(note)
        self._on_step_changed(self.cursor.step)

    # State -> view ------------------------------------------------------------------------------
    def _on_step_changed(self, step: int) -> None:
        if not self._ready:
            return
        step = min(max(step, 1), self.array.shape[2])
        self.matrix.set_step(step)
        self.lines.set_step(step)
        self.thumbnails.set_step(step)

    def _on_selection_changed(self, _value: int) -> None:
        if self._ready:
            self._load_head()

    def _on_kind_changed(self, _value: str) -> None:
        if self._ready:
            self._load_kind()

    # View -> state ------------------------------------------------------------------------------
    def _on_matrix_clicked(self, event) -> None:
        cell = self.matrix.cell_at(event.scenePos()) if self._ready else None
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.cursor.set_step(cell[0])
        elif cell is not None and event.button() == Qt.MouseButton.RightButton:
            self.offer_edits(head_choices(self.trace, self.kind, *self._selected()), event.screenPos())

    def _on_thumbnail_clicked(self, layer: int, head: int) -> None:
        self.selection.set_layer(layer)
        self.selection.set_head(head)
        self.selection.set_option(self.name, "heads", "one")  # a head picked: that head, not the mean

    def _on_thumbnail_menu_requested(self, event) -> None:
        key = self.thumbnails.thumbnail_at(event.scenePos()) if self._ready else None
        if key is not None and event.button() == Qt.MouseButton.RightButton:
            self.offer_edits(head_choices(self.trace, self.kind, *key), event.screenPos())

    # Theme ----------------------------------------------------------------------------------------
    def apply_strokes(self, theme: Theme) -> None:
        """Pens only: while a picture is painted at a larger scale, and back."""
        self.canvas.apply_strokes(theme)
        self.matrix.apply_strokes(theme)
        self.lines.apply_strokes(theme)
        self.thumbnails.apply_strokes(theme)

    def apply_theme(self, theme: Theme) -> None:
        self.canvas.apply_theme(theme)
        self.matrix.apply_theme(theme)
        self.lines.apply_theme(theme)
        self.thumbnails.apply_theme(theme)
        update_colorbar(self.colorbar, theme.sequential_cmap, (0.0, 1.0))
        if self._ready:
            self._size_side()  # the thumbnails' labels changed size
            self._on_step_changed(self.cursor.step)
        plotting.style_canvas(self.lines, theme)
