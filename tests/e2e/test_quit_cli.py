"""main.py ends its process at once when the window closes (`launch.exit_now`), and loses nothing:
the settings the window writes as it closes are in the file, the last lines are printed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from test_main_subprocess import run_main


@pytest.mark.slow
def test_quitting_keeps_the_settings_and_the_last_lines(temp_settings_dir):
    folder = temp_settings_dir  # SEQVIZ_SETTINGS_DIR of this test; run_main passes it on
    result = run_main("--model", "pos-gru", "--text", "they cook the old apple .", "--smoke")
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().splitlines()[-1].startswith("seqviz: smoke ok")
    assert any(line.startswith("seqviz-report quit") for line in result.stdout.splitlines())
    saved = QSettings(str(folder / "seqviz.ini"), QSettings.Format.IniFormat)
    assert saved.value("session/model") == "pos-gru"
    assert saved.value("session/text") == "they cook the old apple ."
    assert saved.value("window/geometry") and saved.value("window/docks")
