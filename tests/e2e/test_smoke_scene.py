"""`main.py FILE.seqviz --smoke` as CI runs it: it quits only once the scene is on screen, says what the
window shows in one line, and fails with one line when the scene cannot be shown (each run loads torch:
about 4 s here)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from seqviz.app.scenes.scene_file import Scene
from seqviz.demos import catalogue

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "main.py"
SMOKE_OK = re.compile(
    r"seqviz: smoke ok: model=(?P<model>\S+), text=(?P<text>'[^']*'), step=(?P<step>\d+)/(?P<steps>\d+), "
    r"theme=(?P<theme>\w+), panels=(?P<panels>\S+)"
)


def run_smoke(scene_path: Path, settings: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "SEQVIZ_REPORT": "1",
        "SEQVIZ_SETTINGS_DIR": str(settings),
    }
    return subprocess.run(
        [sys.executable, str(MAIN), str(scene_path), "--smoke"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env=env,
    )


def test_smoke_quits_once_the_scene_is_shown_and_says_what_it_shows(tmp_path):
    scene = Scene("untrained-gru", "scenes work", step=3, units=(1,), theme="dark", window_size=(1500, 880))
    assert scene.model != catalogue.default_id() and scene.theme != "light"  # nothing shown by default
    result = run_smoke(scene.save(tmp_path / "lecture.seqviz"), tmp_path / "settings")
    assert result.returncode == 0, result.stdout + result.stderr
    found = [m for line in result.stdout.splitlines() if (m := SMOKE_OK.fullmatch(line))]
    assert len(found) == 1, result.stdout
    shown = found[0]
    assert shown["model"] == "untrained-gru" and shown["text"] == "'scenes work'"
    assert (shown["step"], shown["theme"]) == ("3", "dark")
    assert int(shown["steps"]) == len("scenes work")  # a character model: one step per character
    assert {"tokens", "hidden", "gates", "output"} <= set(shown["panels"].split(","))
    assert "seqviz-report quit step=3 " in result.stdout  # still so when the app quit


@pytest.mark.parametrize(
    ("scene_kind", "words"),
    [("bad model file", ["Cannot open model", "not a safetensors file"]), ("empty text", ["input is empty"])],
)
def test_a_scene_that_cannot_be_shown_fails_with_one_line(tmp_path, scene_kind, words):
    if scene_kind == "bad model file":
        model = tmp_path / "broken.safetensors"
        model.write_bytes(b"not a model")
        scene = Scene(str(model), "hello", step=2)
    else:
        scene = Scene("untrained-lstm", "", step=2)
    result = run_smoke(scene.save(tmp_path / "lecture.seqviz"), tmp_path / "settings")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seqviz: smoke FAILED: "), result.stderr
    assert all(word in lines[0] for word in words), lines[0]
    assert "smoke ok" not in result.stdout
