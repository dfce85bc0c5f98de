"""ViewerModel: what the window shows, without widgets — the runs' traces, one Cursor, a Selection per run.

    viewer.cursor          the step (1..T; step t shows the state after token t), shared by every run
    viewer.selection       the first run's Selection: layer, direction, head, units, panel options
    viewer.selections[i]   run i's Selection (a comparison of runs is one Cursor with several of these)
    viewer.trace / traces  the traces on screen

Invariants live here, in one place: a Selection is clamped to its trace's shapes whenever the trace
changes or a value is set (`Selection.fit`), and the cursor stays in 1..T (0 when nothing is shown).
Every field has its own signal, emitted only on a real change, so a widget echoing a value back does not
loop. Panels, the window, scenes, headless export and scripts all drive the view through this API.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, SignalInstance

from seqviz.core.trace import Trace


class Cursor(QObject):
    """The current step, 1..num_steps (0 when nothing is shown)."""

    stepChanged = Signal(int)
    numStepsChanged = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._step = 0
        self._num_steps = 0

    @property
    def step(self) -> int:
        return self._step

    @property
    def num_steps(self) -> int:
        return self._num_steps

    def set_num_steps(self, n: int) -> None:
        """Set T; clamps the step into 1..T (0 when there is nothing), keeping it where it was if it fits."""
        n = max(0, int(n))
        if n != self._num_steps:
            self._num_steps = n
            self.numStepsChanged.emit(n)
        # Cursor's own clamp, not an override's: a RunCursor's set_step moves the shared cursor, and a
        # compared run's new length must not move every run to its last step.
        Cursor.set_step(self, self._step if self._step else n)

    def set_step(self, step: int) -> None:
        step = min(max(int(step), 1), self._num_steps) if self._num_steps else 0
        if step != self._step:
            self._step = step
            self.stepChanged.emit(step)


@dataclass(frozen=True)
class Limits:
    """The shapes a Selection must stay inside: counts of layers, directions, heads and units."""

    layers: int = 1
    directions: int = 1
    heads: int = 1
    units: int = 0

    @classmethod
    def of(cls, trace: Trace | None) -> Limits:
        if trace is None:
            return cls()
        meta = trace.meta
        hidden = trace["hidden"].shape if "hidden" in trace else None
        heads = next((trace[n].shape[1] for n in ("attention", "cross_attention") if n in trace), 1)
        # per-step arrays (T, L, D, H): a projected LSTM's gates are wider than its hidden state
        widths = [trace[n].shape[3] for n in trace if trace[n].ndim == 4 and not n.endswith("attention")]
        return cls(
            layers=max(1, hidden[1] if hidden else meta.num_layers),
            directions=max(1, hidden[2] if hidden else meta.num_directions),
            heads=max(1, heads),
            units=max(widths, default=meta.hidden_size),
        )


class Selection(QObject):
    """What one run shows: layer, direction, head, selected units and each panel's options.

    Panel options are stable string keys and values (`option("attention", "show")`), written to scene
    files as they are; a panel binds its own controls to them (see panels.controls.OptionCombo).
    """

    layerChanged = Signal(int)
    directionChanged = Signal(int)
    headChanged = Signal(int)
    unitsChanged = Signal(tuple)
    optionChanged = Signal(str, str, str)  # panel, key, value

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._layer = self._direction = self._head = 0
        self._units: tuple[int, ...] = ()
        self._options: dict[str, dict[str, str]] = {}
        self.limits = Limits()

    # clamping -------------------------------------------------------------------------------------
    def fit(self, trace: Trace | None) -> None:
        """Clamp everything to `trace`'s shapes (a new trace may have fewer layers, heads or units)."""
        self.limits = Limits.of(trace)
        self.set_layer(self._layer)
        self.set_direction(self._direction)
        self.set_head(self._head)
        self.set_units(self._units)

    @staticmethod
    def _clamp(value: int, count: int) -> int:
        return min(max(int(value), 0), max(count, 1) - 1)

    def _change(self, field: str, value: object, signal: SignalInstance) -> None:
        """Set `_<field>` to `value` and emit it with `signal`, only on a real change."""
        if value != getattr(self, f"_{field}"):
            setattr(self, f"_{field}", value)
            signal.emit(value)

    # fields ---------------------------------------------------------------------------------------
    @property
    def layer(self) -> int:
        return self._layer

    def set_layer(self, layer: int) -> None:
        self._change("layer", self._clamp(layer, self.limits.layers), self.layerChanged)

    @property
    def direction(self) -> int:
        return self._direction

    def set_direction(self, direction: int) -> None:
        self._change("direction", self._clamp(direction, self.limits.directions), self.directionChanged)

    @property
    def head(self) -> int:
        return self._head

    def set_head(self, head: int) -> None:
        self._change("head", self._clamp(head, self.limits.heads), self.headChanged)

    @property
    def units(self) -> tuple[int, ...]:
        return self._units

    def set_units(self, units: Iterable[int]) -> None:
        """Selected hidden units, in the order picked (duplicates and units the trace lacks dropped)."""
        wanted = dict.fromkeys(int(u) for u in units)
        size = self.limits.units
        units = tuple(u for u in wanted if u >= 0 and (size == 0 or u < size))
        self._change("units", units, self.unitsChanged)

    def toggle_unit(self, unit: int) -> None:
        """Add `unit` to the selection, or remove it if already selected."""
        unit = int(unit)
        if unit in self._units:
            self.set_units(u for u in self._units if u != unit)
        else:
            self.set_units((*self._units, unit))

    # panel options --------------------------------------------------------------------------------
    def option(self, panel: str, key: str, default: str | None = None) -> str | None:
        return self._options.get(panel, {}).get(key, default)

    def set_option(self, panel: str, key: str, value: str) -> None:
        value = str(value)
        if self._options.get(panel, {}).get(key) != value:
            self._options.setdefault(panel, {})[key] = value
            self.optionChanged.emit(panel, key, value)

    def options(self) -> dict[str, dict[str, str]]:
        """Every panel option set so far: {panel: {key: value}} (a copy)."""
        return {panel: dict(values) for panel, values in self._options.items() if values}


#: the panel option that hides the steps after the cursor ("hide") instead of fading them ("fade"):
#: the first run's, for every run (the faded future gives away what comes next)
FUTURE_OPTION = ("view", "future")


class FirstRun:
    """`selection` and `trace`: the first of a view's `selections` and `traces`, which panels built
    without a run read. The ViewerModel is one such view, a compared run's RunViewer another."""

    selections: list[Selection]
    traces: list[Trace | None]

    @property
    def selection(self) -> Selection:
        """The first run's selection (the only one outside a comparison)."""
        return self.selections[0]

    @property
    def trace(self) -> Trace | None:
        return self.traces[0]


class ViewerModel(FirstRun, QObject):
    """The traces on screen, the shared Cursor and one Selection per run."""

    traceChanged = Signal(int, object)  # run index, its Trace (or None)
    futureHiddenChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cursor = Cursor(self)
        self.selections: list[Selection] = [Selection(self)]
        self.selection.optionChanged.connect(self._on_option_changed)
        self.traces: list[Trace | None] = [None]
        #: per run: do its steps count in the cursor? (a run aligned to the first by characters, a
        #: character model beside a word model, has steps of its own: the cursor counts the first's)
        self.steps_counted: list[bool] = [True]

    @property
    def future_hidden(self) -> bool:
        """True: panels hide what comes after the step entirely; False: they fade it."""
        return self.selection.option(*FUTURE_OPTION) == "hide"

    def set_future_hidden(self, hidden: bool) -> None:
        self.selection.set_option(*FUTURE_OPTION, "hide" if hidden else "fade")

    def _on_option_changed(self, panel: str, key: str, _value: str) -> None:
        if (panel, key) == FUTURE_OPTION:
            self.futureHiddenChanged.emit(self.future_hidden)

    def add_run(self) -> int:
        """Room for one more run (a comparison): its own Selection, the shared Cursor. Returns its index."""
        self.selections.append(Selection(self))
        self.traces.append(None)
        self.steps_counted.append(True)
        return len(self.traces) - 1

    def remove_run(self, run: int) -> None:
        """Drop run `run` (not the first): the runs after it move down one index."""
        if not 0 < run < len(self.traces):
            raise IndexError(f"no compared run {run} (runs: {len(self.traces)})")
        del self.traces[run], self.steps_counted[run]
        self.selections.pop(run).deleteLater()
        self._count_steps()

    def set_trace(self, trace: Trace | None, run: int = 0, *, counts_steps: bool = True) -> None:
        """Show `trace` as run `run`: its selection is clamped to it and the cursor to the longest run
        whose steps it counts (`counts_steps=False`: a run aligned to the first by characters)."""
        self.traces[run] = trace
        self.steps_counted[run] = counts_steps
        self.selections[run].fit(trace)
        self._count_steps()
        self.traceChanged.emit(run, trace)

    def _count_steps(self) -> None:
        counted = zip(self.traces, self.steps_counted, strict=True)
        self.cursor.set_num_steps(max((t.num_steps for t, c in counted if t is not None and c), default=0))
