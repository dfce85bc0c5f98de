"""Playback: advance the shared step at a chosen speed (steps per second).

A QTimer ticks at most 60 times a second; faster speeds advance several steps per tick (the fraction
carries over), so the average speed is right and the panels never repaint more often than the screen.
Playing stops at the last step; play at the last step starts again from the first.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from seqviz.app.viewer.bounds import SPEED_RANGE
from seqviz.app.viewer.model import Cursor

SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0, 240.0)
DEFAULT_SPEED = 8.0
MAX_TICKS_PER_SECOND = 60.0


class Playback(QObject):
    playingChanged = Signal(bool)
    speedChanged = Signal(float)

    def __init__(self, cursor: Cursor, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cursor = cursor
        self._speed = DEFAULT_SPEED
        self._steps_per_tick = 1.0
        self._carry = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.tick)
        self._configure_timer()

    # speed ----------------------------------------------------------------------------------------
    @property
    def speed(self) -> float:
        """Steps per second."""
        return self._speed

    def set_speed(self, steps_per_second: float) -> None:
        """Clamped to bounds.SPEED_RANGE; NaN is a ValueError (it would stop the timer's arithmetic)."""
        speed = float(steps_per_second)
        if math.isnan(speed):
            raise ValueError("the playback speed must be a number of steps per second, not NaN")
        speed = min(max(speed, SPEED_RANGE[0]), SPEED_RANGE[1])
        if speed != self._speed:
            self._speed = speed
            self._configure_timer()
            self.speedChanged.emit(speed)

    def _configure_timer(self) -> None:
        ticks = min(self._speed, MAX_TICKS_PER_SECOND)
        interval_ms = max(1, round(1000.0 / ticks))
        self._timer.setInterval(interval_ms)
        self._steps_per_tick = self._speed * interval_ms / 1000.0

    def set_tick_interval(self, interval_ms: int) -> None:
        """Tick every `interval_ms` milliseconds (0: as often as the event loop runs), each tick still
        advancing the speed's steps per tick, until the speed changes. For soak tests, not pacing."""
        self._timer.setInterval(max(0, int(interval_ms)))

    # play / pause ---------------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def play(self) -> None:
        if self.playing or self.cursor.num_steps < 2:
            return
        if self.cursor.step >= self.cursor.num_steps:
            self.cursor.set_step(1)
        self._carry = 0.0
        self._timer.start()
        self.playingChanged.emit(True)

    def pause(self) -> None:
        if self.playing:
            self._timer.stop()
            self.playingChanged.emit(False)

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def tick(self) -> None:
        """Advance by this tick's share of steps; stop at the end."""
        self._carry += self._steps_per_tick
        advance = int(self._carry)
        if advance == 0:
            return
        self._carry -= advance
        self.cursor.set_step(self.cursor.step + advance)
        if self.cursor.step >= self.cursor.num_steps:
            self.pause()
