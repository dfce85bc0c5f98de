"""main.py as a person starts it, first time on a machine (fresh settings and cache): the default demo is
on screen, stepping, before its model has loaded; the next start finds the last text in the cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "main.py"


def launch(settings: Path, *args: str) -> dict[str, float]:
    """`main.py --smoke` with SEQVIZ_REPORT=1: the unix time of each report."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "SEQVIZ_REPORT": "1",
        "SEQVIZ_SETTINGS_DIR": str(settings),
    }
    env.pop("SEQVIZ_CACHE_DIR", None)
    result = subprocess.run(
        [sys.executable, str(MAIN), "--smoke", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    reports = [line.split() for line in result.stdout.splitlines() if line.startswith("seqviz-report ")]
    return {parts[1]: float(parts[2]) for parts in reports if len(parts) == 3}


@pytest.mark.slow
def test_the_default_demo_is_on_screen_before_its_model_has_loaded(tmp_path):
    reports = launch(tmp_path / "settings")
    assert reports["window-shown"] <= reports["interactive"] < reports["model-ready"]


@pytest.mark.slow
def test_the_next_start_shows_the_last_text_from_the_cache(tmp_path):
    settings = tmp_path / "settings"
    assert not (settings / "cache").exists()
    launch(settings, "--model", "sentiment-gru", "--text", "the food was not bad")  # nothing stored: waits
    assert list((settings / "cache").glob("*.npz"))  # the run was kept
    again = launch(settings)  # the remembered model and text
    assert again["interactive"] < again["model-ready"]
