"""main.py as a person starts it: a subprocess, offscreen, with the real command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seqviz.core.trace import Trace

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "main.py"


def run_main(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SEQVIZ_REPORT": "1"}
    return subprocess.run(
        [sys.executable, str(MAIN), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env
    )


def small_trace(path: Path) -> Path:
    rng = np.random.default_rng(0)
    hidden = np.tanh(rng.normal(size=(7, 1, 1, 4))).astype(np.float32)
    meta = {"arch": "rnn", "num_layers": 1, "num_directions": 1, "hidden_size": 4, "causal": True}
    return Trace({"hidden": hidden}, tokens=list("seqviz!"), meta=meta).save(path)


def test_help_lists_the_options():
    result = run_main("--help", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "usage: seqviz" in result.stdout
    assert "--trace" in result.stdout and "--smoke" in result.stdout


def test_python_dash_m_seqviz_works_too():
    result = subprocess.run(
        [sys.executable, "-m", "seqviz", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0 and "usage: seqviz" in result.stdout


@pytest.mark.slow
def test_launch_shows_the_default_model_and_exits_cleanly():
    result = run_main("--smoke")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("seqviz-report window-shown") for line in lines)
    assert any(line.startswith("seqviz-report interactive") for line in lines)
    quit_line = next(line for line in lines if line.startswith("seqviz-report quit"))
    assert "step=1 " in quit_line and "num_steps=0" not in quit_line


def test_a_saved_trace_opens(tmp_path):
    path = small_trace(tmp_path / "saved.npz")
    result = run_main("--trace", str(path), "--smoke")
    assert result.returncode == 0, result.stderr
    assert "seqviz-report quit step=1 num_steps=7" in result.stdout


def test_a_bad_trace_file_exits_with_a_clear_message(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a trace")
    result = run_main("--trace", str(bad), "--smoke", timeout=60)
    assert result.returncode == 2
    assert "cannot open trace" in result.stderr and "bad.npz" in result.stderr
    assert "Traceback" not in result.stderr
    missing = run_main("--trace", str(tmp_path / "missing.npz"), timeout=60)
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_the_window_shell_imports_neither_torch_nor_pyqtgraph():
    # The first window must be on screen within a second: torch (~2.5 s) and pyqtgraph (~0.5 s) load
    # after it is shown. Anything the window module imports at the top counts against that.
    code = (
        "import sys; import seqviz.app.window.main_window, seqviz.app.window.launch, seqviz.cli; "
        "print(sorted(m for m in ('torch', 'pyqtgraph') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
