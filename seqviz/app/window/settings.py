"""Where the app remembers things between launches: window layout, last model (and the options its file
needed), last text, speed, theme, Hide the future, device, the export dialogs' and the Training dock's
last choices.

The settings live in Qt's usual place (on Linux `~/.config/seqviz/seqviz.conf`), unless the environment
variable SEQVIZ_SETTINGS_DIR names a folder: then in `<folder>/seqviz.ini`. Tests set it to a temporary
folder so they never touch a person's real settings.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from seqviz.app.viewer import load_options
from seqviz.app.viewer.bounds import SPEED_RANGE, finite_in
from seqviz.core.file_limits import path_problem

SETTINGS_DIR_ENV = "SEQVIZ_SETTINGS_DIR"
_DEVICE_NAME = re.compile(r"^(cpu|mps|cuda)(:\d{1,3})?$")
# Bump when the dock layout changes incompatibly: restoreState ignores layouts of another version.
LAYOUT_VERSION = 1


def settings_path() -> Path | None:
    """The settings file used when SEQVIZ_SETTINGS_DIR is set, else None (Qt's default place)."""
    folder = os.environ.get(SETTINGS_DIR_ENV)
    return Path(folder) / "seqviz.ini" if folder else None


class SettingsError(Exception):
    """The settings folder cannot be used; the message says why and what to do, in one line."""


def settings_problem() -> str | None:
    """Why the settings folder named by SEQVIZ_SETTINGS_DIR cannot hold the settings, or None.
    Makes the folder when it is missing (the command line asks this before it opens a window)."""
    path = settings_path()
    if path is None:
        return None
    folder = path.parent
    problem = path_problem(folder)
    if problem is None and folder.exists() and not folder.is_dir():
        problem = "it is a file, not a folder"
    if problem is None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            problem = f"it cannot be made ({path_problem(folder) or exc.strerror or exc})"
    if problem is None:
        return None
    return f"{SETTINGS_DIR_ENV}={str(folder)[:80]}: {problem}; point it at a folder seqviz may write in"


class AppSettings:
    """Typed access to the few values seqviz remembers."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        if qsettings is None:
            path = settings_path()
            if path is not None:
                problem = settings_problem()
                if problem is not None:
                    raise SettingsError(problem)
                qsettings = QSettings(str(path), QSettings.Format.IniFormat)
            else:
                qsettings = QSettings("seqviz", "seqviz")
        self.qsettings = qsettings

    # plain values -------------------------------------------------------------------------------
    def _str(self, key: str) -> str | None:
        value = self.qsettings.value(key)
        return str(value) if value not in (None, "") else None

    @property
    def model(self) -> str | None:
        """The last model: a catalogue id or a file path."""
        return self._str("session/model")

    @model.setter
    def model(self, source: str) -> None:
        self.qsettings.setValue("session/model", source)

    @property
    def model_options(self) -> dict:
        """What the last model file needed to open (--vocab, --heads, --nonlinearity; a JSON object,
        seqviz.app.viewer.load_options); {} when none, or when the file holds something else."""
        try:
            options = json.loads(self._str("session/model_options") or "{}")
        except (ValueError, RecursionError):
            return {}
        return options if load_options.options_problem(options) is None else {}

    @model_options.setter
    def model_options(self, options: dict) -> None:
        self.qsettings.setValue("session/model_options", json.dumps(load_options.stored(options)))

    @property
    def text(self) -> str | None:
        value = self.qsettings.value("session/text")
        return None if value is None else str(value)

    @text.setter
    def text(self, text: str) -> None:
        self.qsettings.setValue("session/text", text)

    @property
    def speed(self) -> float | None:
        """Steps per second, or None when the file holds no number in bounds.SPEED_RANGE (NaN, text)."""
        try:
            speed = float(self.qsettings.value("playback/speed"))
        except (TypeError, ValueError, OverflowError):
            return None
        return speed if finite_in(speed, SPEED_RANGE) else None

    @speed.setter
    def speed(self, steps_per_second: float) -> None:
        self.qsettings.setValue("playback/speed", float(steps_per_second))

    @property
    def theme(self) -> str | None:
        """The last theme chosen in View > Theme ("light", "dark", "presentation")."""
        return self._str("view/theme")

    @theme.setter
    def theme(self, name: str) -> None:
        self.qsettings.setValue("view/theme", name)

    @property
    def future_hidden(self) -> bool:
        """View › Hide the future as the person last chose it; off unless the file says "true"."""
        return str(self.qsettings.value("view/hide_future", "")).lower() == "true"

    @future_hidden.setter
    def future_hidden(self, hidden: bool) -> None:
        self.qsettings.setValue("view/hide_future", "true" if hidden else "false")

    @property
    def device(self) -> str:
        """Where models run: "cpu" (the default), "cuda" or "mps" (set by `--device`); anything else
        in the file is "cpu" (seqviz.core.devices checks the device when a model opens)."""
        device = self._str("session/device") or "cpu"
        return device if _DEVICE_NAME.match(device) else "cpu"

    @device.setter
    def device(self, name: str) -> None:
        self.qsettings.setValue("session/device", name)

    @property
    def training(self) -> dict:
        """The Training dock's last choices (a JSON object; seqviz.app.viewer.training_choices reads
        it and brings every value into bounds); {} when none or unreadable."""
        try:
            value = json.loads(self._str("training/choices") or "{}")
        except (ValueError, RecursionError):
            return {}
        return value if isinstance(value, dict) else {}

    @training.setter
    def training(self, choices: dict) -> None:
        self.qsettings.setValue("training/choices", json.dumps(choices))

    # export dialogs remember what was chosen last ---------------------------------------------
    def export_value(self, key: str, default: str = "") -> str:
        return self._str(f"export/{key}") or default

    def set_export_value(self, key: str, value: str) -> None:
        self.qsettings.setValue(f"export/{key}", value)

    # layout -------------------------------------------------------------------------------------
    def _bytes(self, key: str) -> QByteArray | None:
        value = self.qsettings.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @property
    def geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    @geometry.setter
    def geometry(self, data: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", data)

    @property
    def dock_state(self) -> QByteArray | None:
        return self._bytes("window/docks")

    @dock_state.setter
    def dock_state(self, data: QByteArray) -> None:
        self.qsettings.setValue("window/docks", data)

    def sync(self) -> None:
        self.qsettings.sync()
