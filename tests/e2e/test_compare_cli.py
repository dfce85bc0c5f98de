"""`main.py --compare` in a subprocess: a picture of two runs side by side; bad input is one clear line."""

from __future__ import annotations

from PIL import Image
from test_headless import assert_one_clear_line, run_main


def test_compare_export_writes_a_picture_of_both_runs(tmp_path):
    out = tmp_path / "cmp.png"
    result = run_main(
        "--model", "longrange-lstm", "--compare", "untrained-lstm", "--step", "5", "--export", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "step 5 of" in result.stdout
    with Image.open(out) as picture:
        assert picture.size == (1920, 1080)
        right = picture.crop((1300, 200, 1900, 900)).convert("RGB")
        assert len(right.getcolors(1 << 16) or []) > 20  # the compared run's panels, not an empty area


def test_compare_with_an_unknown_model_or_too_many_is_one_line(tmp_path):
    out = tmp_path / "cmp.png"
    result = run_main("--model", "longrange-lstm", "--compare", "no-such-model", "--export", str(out))
    assert_one_clear_line(result, 2, "no-such-model")
    many = [arg for _ in range(4) for arg in ("--compare", "longrange-rnn")]
    assert_one_clear_line(run_main("--model", "longrange-lstm", *many, "--export", str(out)), 2, "at most 3")
    assert not out.exists()
