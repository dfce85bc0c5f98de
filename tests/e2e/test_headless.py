"""`main.py --export` in a subprocess with no display: files written, and every bad input one clear line.

Validation errors are found before torch is imported, so those cases are fast; only a few cases run a
model (about 3 s each here).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "main.py"


def run_main(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return subprocess.run(
        [sys.executable, str(MAIN), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env
    )


def assert_one_clear_line(result: subprocess.CompletedProcess, code: int, *words: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seqviz: "), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


BAD_INPUT = [
    (["--size", "0x0"], "--size"),
    (["--size", "abc"], "WIDTHxHEIGHT"),
    (["--panel", "nope"], "unknown panel"),
    (["--model", "no-such-model"], "unknown model"),
    (["--theme", "neon"], "unknown theme"),
    (["--step", "0"], "--step"),
    (["--steps", "1:5"], "--steps is for animations"),
]


def test_bad_input_is_one_line_and_status_2_before_any_model_runs(out):
    for extra, words in BAD_INPUT:
        result = run_main("--model", "untrained-lstm", "--export", str(out / "x.png"), *extra, timeout=60)
        assert_one_clear_line(result, 2, words)
    gif = str(out / "x.gif")
    assert_one_clear_line(run_main("--export", gif, "--steps", "5:2", timeout=60), 2, "empty")
    assert_one_clear_line(run_main("--export", gif, "--steps", "x", timeout=60), 2, "FIRST:LAST")
    assert_one_clear_line(run_main("--export", gif, "--fps", "0", timeout=60), 2, "frame rate")
    assert_one_clear_line(run_main("--export", str(out / "x.jpg"), timeout=60), 2, "unknown file type")
    assert_one_clear_line(run_main("--export", str(out / "no" / "x.png"), timeout=60), 2, "does not exist")
    assert_one_clear_line(run_main("--export", "/proc/x.png", timeout=60), 2, "cannot write")
    assert_one_clear_line(run_main("--step", "3", timeout=60), 2, "--export")
    bad_scene = out / "bad.seqviz"
    bad_scene.write_text("{")
    assert_one_clear_line(run_main(str(bad_scene), "--export", str(out / "x.png"), timeout=60), 2, "JSON")
    bad_scene.unlink()
    assert list(out.iterdir()) == []  # nothing left behind


@pytest.mark.slow
def test_a_panel_picture_in_a_theme_at_a_size(out):
    path = out / "gates.png"
    result = run_main(
        "--model", "untrained-lstm", "--text", "hello world", "--step", "4",
        "--panel", "gates", "--theme", "presentation", "--size", "1280x720", "--export", str(path),
    )  # fmt: skip
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert "step 4 of 11" in result.stdout
    with Image.open(path) as image:
        assert image.size == (1280, 720)
        assert (path.stat().st_mode & 0o044) == 0o044  # readable like any other file


@pytest.mark.slow
def test_a_gif_of_a_range_of_steps(out):
    path = out / "steps.gif"
    result = run_main(
        "--model", "untrained-gru", "--text", "abcdefgh", "--steps", "2:6", "--fps", "5",
        "--size", "640x360", "--export", str(path),
    )  # fmt: skip
    assert result.returncode == 0 and result.stderr == "", result.stderr
    with Image.open(path) as gif:
        assert (gif.n_frames, gif.size, gif.info["duration"]) == (5, (640, 360), 200)


@pytest.mark.slow
def test_steps_outside_the_input_are_refused_and_leave_nothing(out):
    result = run_main(
        "--model", "untrained-lstm", "--text", "hello", "--step", "99", "--export", str(out / "a.png")
    )
    assert_one_clear_line(result, 2, "5 steps")
    result = run_main(
        "--model", "untrained-lstm", "--text", "hello", "--steps", "3:9", "--export", str(out / "a.gif")
    )
    assert_one_clear_line(result, 2, "use 1 to 5")
    assert list(out.iterdir()) == []


@pytest.mark.slow
def test_a_scene_file_exports_its_picture(out):
    from seqviz.app.scenes.in_window import Scene

    scene = Scene("untrained-rnn", "scenes work", step=3, units=(1,), theme="dark", window_size=(1500, 880))
    path = scene.save(out / "lecture.seqviz")
    result = run_main(str(path), "--export", str(out / "slide.png"))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert "step 3 of 11" in result.stdout
    with Image.open(out / "slide.png") as image:
        assert image.size[0] == 1500
        assert image.convert("L").resize((1, 1)).getpixel((0, 0)) < 120  # the dark theme


@pytest.fixture
def saved_trace(tmp_path):
    """A saved trace of a bare LSTM over 9 steps (no model file: only the trace knows it)."""
    import torch

    import seqviz

    torch.manual_seed(0)
    return seqviz.trace(torch.nn.LSTM(4, 8), torch.randn(9, 4)).save(tmp_path / "run.npz")


@pytest.mark.slow
def test_a_saved_trace_exports_its_own_steps(out, saved_trace):
    """--trace was ignored: the default model's picture was written instead."""
    path = out / "run.png"
    result = run_main("--trace", str(saved_trace), "--size", "1280x720", "--export", str(path))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert "step 9 of 9" in result.stdout  # the trace's 9 steps, the last by default
    with Image.open(path) as image:
        assert image.size == (1280, 720)
        rgb = image.convert("RGB")
        assert len(rgb.getcolors(1 << 24)) > 100  # heatmaps and plots, not an empty window
    gif = out / "run.gif"
    result = run_main(
        "--trace", str(saved_trace), "--panel", "gates", "--steps", "2:5", "--size", "640x360",
        "--export", str(gif),
    )  # fmt: skip
    assert result.returncode == 0 and result.stderr == "", result.stderr
    with Image.open(gif) as frames:
        assert (frames.n_frames, frames.size) == (4, (640, 360))


def test_a_bad_or_missing_trace_file_or_a_second_source_is_refused_and_leaves_nothing(out, saved_trace):
    garbage = out.parent / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 this is not a trace")
    png = str(out / "x.png")
    assert_one_clear_line(
        run_main("--trace", str(garbage), "--export", png, timeout=60), 2, "cannot open trace"
    )
    missing = str(out.parent / "missing.npz")
    assert_one_clear_line(run_main("--trace", missing, "--export", png, timeout=60), 2, "no such file")
    for extra in (["--model", "untrained-lstm"], ["--text", "hello"], [str(out.parent / "a.seqviz")]):
        result = run_main("--trace", str(saved_trace), *extra, "--export", png, timeout=60)
        assert_one_clear_line(result, 2, "--trace")
    assert list(out.iterdir()) == []
