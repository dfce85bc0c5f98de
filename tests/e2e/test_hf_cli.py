"""`main.py --model` with Hugging Face models, in a subprocess: a model folder and a name of the local
Hugging Face cache open (a picture, and the window's smoke check); a name that is not there is one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "hf"))  # the core's HF fixtures
import hf_folders  # noqa: E402
from hf_cache_layout import add_cached_repo  # noqa: E402

pytest.importorskip("transformers")

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "main.py"


def run_main(*args: str, cache: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(HF_HUB_CACHE=str(cache), QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, str(MAIN), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env
    )


@pytest.fixture
def cache(tmp_path) -> Path:
    """A local cache holding the tiny BERT (masked LM) as 'org/tiny-bert'."""
    folder = tmp_path / "hub"
    files = {p.name: p for p in hf_folders.folder("bert").iterdir() if p.is_file()}
    add_cached_repo(folder, "org/tiny-bert", files)
    return folder


@pytest.mark.slow
def test_a_model_folder_exports_its_output_panel(tmp_path, cache):
    picture = tmp_path / "out.png"
    folder = str(hf_folders.folder("gpt2"))
    result = run_main(
        "--model", folder, "--text", "the quick brown fox", "--step", "2", "--panel", "output",
        "--export", str(picture), cache=cache,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "step 2 of" in result.stdout and picture.stat().st_size > 0


@pytest.mark.slow
def test_a_name_of_the_local_cache_opens_in_the_window(cache):
    result = run_main("--model", "org/tiny-bert", "--text", "the lazy dog", "--smoke", cache=cache)
    assert result.returncode == 0, result.stderr
    assert "smoke ok: model=org/tiny-bert, text='the lazy dog'" in result.stdout


def test_a_name_that_is_not_in_the_cache_is_one_line(tmp_path, cache):
    result = run_main("--model", "org/not-here", "--export", str(tmp_path / "x.png"), cache=cache)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown model 'org/not-here'" in lines[0]
    assert "local Hugging Face cache" in lines[0] and "Traceback" not in result.stderr
    assert "download it once (hf download org/not-here)" in lines[0]  # how to get it
    assert not (tmp_path / "x.png").exists()
