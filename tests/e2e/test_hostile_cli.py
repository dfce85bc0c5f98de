"""main.py against hostile and broken input (issue 15): each is one line on stderr and exit status 2 (or
1 for --smoke when the window cannot show what it opened), never a traceback, a hang or a silently
ignored option. The timeouts only guard against a hang; nothing here is timed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

MAIN = Path(__file__).resolve().parents[2] / "main.py"
ROOT = MAIN.parent


def run_main(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})}
    return subprocess.run(
        [sys.executable, str(MAIN), *args], capture_output=True, timeout=timeout, cwd=ROOT, env=environment
    )


def assert_one_line(result: subprocess.CompletedProcess, code: int, *words: str) -> None:
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == code, (result.returncode, stderr)
    lines = [line for line in stderr.strip().splitlines() if "propagateSizeHints" not in line]
    assert len(lines) == 1 and lines[0].startswith("seqviz: "), stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def trace_file(tmp_path) -> Path:
    path = tmp_path / "run.npz"
    meta = {"tokens": list("abc"), "meta": {"arch": "lstm"}}
    raw = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(path, hidden=np.zeros((3, 1, 1, 2), np.float32), __seqviz_meta__=raw)
    return path


def test_text_with_a_trace_is_refused_not_ignored(trace_file):
    assert_one_line(run_main("--trace", str(trace_file), "--text", "other words"), 2, "--trace", "--text")


def test_text_with_a_scene_is_refused_not_ignored(tmp_path):
    scene = tmp_path / "a.seqviz"
    scene.write_text(
        json.dumps({"format": "seqviz-scene", "version": 2, "model": "untrained-lstm", "text": "a"})
    )
    result = run_main(str(scene), "--text", "other words", "--smoke")
    assert_one_line(result, 2, "a scene file brings its model and text")


def test_a_scene_with_a_nan_speed_is_refused_before_any_window(tmp_path):
    scene = tmp_path / "nan.seqviz"
    text = '{"format": "seqviz-scene", "version": 2, "model": "untrained-lstm", "text": "a", "speed": NaN}'
    scene.write_text(text)
    assert_one_line(run_main(str(scene), "--smoke"), 2, "nan.seqviz", "holds NaN")


def test_a_settings_folder_that_is_a_file_is_one_line(tmp_path):
    file = tmp_path / "settings"
    file.write_text("x")
    result = run_main("--smoke", env={"SEQVIZ_SETTINGS_DIR": str(file)})
    assert_one_line(result, 2, "SEQVIZ_SETTINGS_DIR", "it is a file, not a folder")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_fifo_as_a_trace_or_a_scene_does_not_block(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    assert_one_line(run_main("--trace", str(fifo), "--smoke"), 2, "named pipe (FIFO)")
    assert_one_line(run_main(str(fifo), "--smoke"), 2, "named pipe (FIFO)")


def test_a_frame_rate_of_a_thousandth_is_refused_before_any_work(tmp_path):
    result = run_main("--model", "untrained-lstm", "--export", str(tmp_path / "a.gif"), "--fps", "0.001")
    assert_one_line(result, 2, "frame rate 0.001 is out of range")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ("--export", "{long}.png"),
        ("--model", "{long}.pt", "--export", "{tmp}/a.png"),
        ("--trace", "{long}.npz", "--export", "{tmp}/a.png"),
        ("--model", "m.pt", "--vocab", "{long}"),
    ],
)
def test_a_name_too_long_for_the_file_system_is_one_line(tmp_path, args):
    long = str(tmp_path / ("x" * 300))
    filled = [a.format(long=long, tmp=tmp_path) for a in args]
    assert_one_line(run_main(*filled), 2, "too long")


def test_a_tiny_file_declaring_gigabytes_is_refused_by_the_window(tmp_path):
    import torch

    path = tmp_path / "huge.pt"
    torch.save(
        {
            "weight_ih_l0": torch.zeros(1).expand(65536, 8),
            "weight_hh_l0": torch.zeros(1).expand(65536, 16384),
        },
        path,
    )
    result = run_main("--model", str(path), "--smoke")
    assert_one_line(result, 1, "smoke FAILED", "huge.pt", "would take 4.0 GB")
