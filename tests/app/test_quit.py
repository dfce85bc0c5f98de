"""Quitting: the window closes without waiting for model work still running, and the process ends
without Python's final garbage collections (2.5-3 s with torch loaded) yet loses nothing — the
work left running finishes, atexit functions run, output is flushed, the settings are written."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from seqviz.app.viewer import jobs

ROOT = Path(__file__).resolve().parents[2]


def test_an_abandoned_job_runs_out_without_its_result_being_applied(qtbot):
    runner = jobs.JobRunner()
    release, finished, delivered = threading.Event(), threading.Event(), []

    def job() -> str:
        release.wait(30)
        finished.set()
        return "result"

    runner.submit(job, delivered.append, delivered.append)
    runner.submit(lambda: "waiting", delivered.append, delivered.append)
    assert runner.busy
    jobs.abandon_all()
    assert not runner.busy  # the window can close now
    assert not finished.is_set()  # the job was not waited for
    runner.deleteLater()  # its window goes: the running thread must survive it
    qtbot.wait(10)
    release.set()
    jobs.wait_for_abandoned()  # what the process does before it exits
    assert finished.is_set()
    qtbot.wait(10)
    assert delivered == []  # neither the running job's result nor the waiting job


def test_exit_now_runs_atexit_functions_and_flushes_output(tmp_path):
    marker = tmp_path / "atexit-ran"
    script = f"""
import atexit, sys
from seqviz.app.window.launch import exit_now
atexit.register(lambda: open({str(marker)!r}, "w").write("yes"))
sys.stdout.write("buffered, not flushed")
exit_now(3)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 3, result.stderr
    assert result.stdout == "buffered, not flushed"
    assert marker.read_text() == "yes"
