"""Export timings: a 100-frame GIF at 1280x720 and one 3840x2160 PNG of the whole window.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_export.py

Uses a 100-token untrained LSTM (all panels but attention show data). Prints seconds and file sizes.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("SEQVIZ_SETTINGS_DIR", tempfile.mkdtemp(prefix="seqviz-bench-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QSize  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def main() -> None:
    app = QApplication.instance() or QApplication([])
    from seqviz.app import MainWindow, export

    window = MainWindow()
    window.resize(1600, 900)
    window.show()
    app.processEvents()
    text = ("the quick brown fox jumps over the lazy dog " * 3)[:100]
    assert window.open_model("untrained-lstm", text)
    app.processEvents()
    with tempfile.TemporaryDirectory() as folder:
        gif = Path(folder) / "steps.gif"
        start = time.perf_counter()
        export.export_animation(window, window, gif, range(1, 101), 10, QSize(1280, 720))
        gif_s = time.perf_counter() - start
        print(
            f"GIF, 100 frames at 1280x720: {gif_s:.2f} s ({gif_s * 10:.0f} ms/frame), "
            f"{gif.stat().st_size / 1e6:.2f} MB"
        )
        png = Path(folder) / "window.png"
        start = time.perf_counter()
        export.save_picture(window, png, QSize(3840, 2160))
        png_s = time.perf_counter() - start
        print(f"PNG, 3840x2160 window: {png_s:.2f} s, {png.stat().st_size / 1e6:.2f} MB")
        try:
            import imageio_ffmpeg  # noqa: F401
        except ImportError:
            print("MP4: imageio-ffmpeg not installed (skipped)")
        else:
            mp4 = Path(folder) / "steps.mp4"
            start = time.perf_counter()
            export.export_animation(window, window, mp4, range(1, 101), 10, QSize(1280, 720))
            mp4_s = time.perf_counter() - start
            print(f"MP4, 100 frames at 1280x720: {mp4_s:.2f} s, {mp4.stat().st_size / 1e6:.2f} MB")
    window.close()


if __name__ == "__main__":
    main()
