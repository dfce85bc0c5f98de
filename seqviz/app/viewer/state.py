"""ViewState: the one shared selection every panel reads and writes.

Fields: `step` (1..T: step t shows the state after token t), `layer`, `direction`, `head`, `units`
(selected hidden units, a tuple). Each field has its own signal, emitted only when the value really
changes, so panels that echo a value back do not loop.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class ViewState(QObject):
    stepChanged = Signal(int)
    layerChanged = Signal(int)
    directionChanged = Signal(int)
    headChanged = Signal(int)
    unitsChanged = Signal(tuple)
    numStepsChanged = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._step = 0
        self._num_steps = 0
        self._layer = 0
        self._direction = 0
        self._head = 0
        self._units: tuple[int, ...] = ()

    # step ---------------------------------------------------------------------------------------
    @property
    def num_steps(self) -> int:
        return self._num_steps

    def set_num_steps(self, n: int) -> None:
        """Set T; clamps the step into 1..T (0 when there is nothing)."""
        n = max(0, int(n))
        if n != self._num_steps:
            self._num_steps = n
            self.numStepsChanged.emit(n)
        self.set_step(self._step if self._step else n)

    @property
    def step(self) -> int:
        return self._step

    def set_step(self, step: int) -> None:
        step = min(max(int(step), 1), self._num_steps) if self._num_steps else 0
        if step != self._step:
            self._step = step
            self.stepChanged.emit(step)

    # selection ----------------------------------------------------------------------------------
    @property
    def layer(self) -> int:
        return self._layer

    def set_layer(self, layer: int) -> None:
        if int(layer) != self._layer:
            self._layer = int(layer)
            self.layerChanged.emit(self._layer)

    @property
    def direction(self) -> int:
        return self._direction

    def set_direction(self, direction: int) -> None:
        if int(direction) != self._direction:
            self._direction = int(direction)
            self.directionChanged.emit(self._direction)

    @property
    def head(self) -> int:
        return self._head

    def set_head(self, head: int) -> None:
        if int(head) != self._head:
            self._head = int(head)
            self.headChanged.emit(self._head)

    @property
    def units(self) -> tuple[int, ...]:
        return self._units

    def set_units(self, units) -> None:
        units = tuple(int(u) for u in units)
        if units != self._units:
            self._units = units
            self.unitsChanged.emit(units)

    def toggle_unit(self, unit: int) -> None:
        """Add `unit` to the selection, or remove it if already selected."""
        unit = int(unit)
        if unit in self._units:
            self.set_units(u for u in self._units if u != unit)
        else:
            self.set_units((*self._units, unit))
