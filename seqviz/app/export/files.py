"""The file side of exporting, without Qt: atomic writes and animation writers fed frame by frame.

`atomic_path` gives a temporary file beside the destination and renames it into place only when the
writing finished, so a failure or a cancel never leaves a partial file. `AnimationWriter` writes a GIF
(Pillow's frame encoder, one frame at a time: Pillow's own `save(append_images=...)` keeps every frame
in a list until the end) or an MP4 (imageio-ffmpeg, the optional "video" extra). Memory holds at most
the previous frame, whatever the number of frames.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import BinaryIO

import numpy as np

from seqviz.core.atomic import atomic_path as core_atomic_path
from seqviz.core.atomic import discard, publish, temp_beside
from seqviz.core.file_limits import path_problem

ANIMATION_SUFFIXES = (".gif", ".mp4")
GIF_MAX_FPS = 50  # GIF delays are in 1/100 s; browsers slow delays under 2/100 s down to 1/10 s
MAX_FPS = 60
MIN_FPS = 0.1
TRANSPARENT = 255  # the GIF palette index of "same as the previous frame"
VIDEO_HINT = 'MP4 export needs imageio-ffmpeg: pip install "seqviz[video]" (or pip install imageio-ffmpeg)'


class ExportError(Exception):
    """A picture or animation cannot be written; the message is one line a person can act on."""


def atomic_path(path: str | os.PathLike) -> contextlib.AbstractContextManager[Path]:
    """`seqviz.core.atomic.atomic_path`, with a folder that cannot be written as an ExportError."""
    return core_atomic_path(path, temp=_make_temp(Path(path)))


def _make_temp(path: Path) -> Path:
    try:
        return temp_beside(path)
    except OSError as exc:
        raise ExportError(f"cannot write to {path.parent}: {exc.strerror or exc}") from None


def check_writable(path: str | os.PathLike) -> None:
    """Raise ExportError unless a file can be created at `path` (its folder exists and is writable)."""
    path = Path(path)
    problem = path_problem(path)  # a name too long for the file system, a file used as a folder
    if problem is not None:
        raise ExportError(f"cannot write {str(path)[:80]}: {problem}")
    if path.is_dir():
        raise ExportError(f"{path} is a folder, not a file name")
    if not path.parent.is_dir():
        raise ExportError(f"cannot write {path}: the folder {path.parent} does not exist")
    _make_temp(path).unlink()


def check_fps(fps: float, suffix: str) -> None:
    """A frame rate from MIN_FPS (a frame every 10 s; GIF delays are 16-bit counts of 1/100 s) to the
    format's limit; NaN and infinity are out of range."""
    limit = GIF_MAX_FPS if suffix == ".gif" else MAX_FPS
    if not (MIN_FPS <= fps <= limit):
        raise ExportError(f"frame rate {fps:g} is out of range: use {MIN_FPS:g} to {limit} frames per second")


def check_video_encoder() -> None:
    """Raise ExportError (with how to install it) when imageio-ffmpeg is missing."""
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        raise ExportError(VIDEO_HINT) from None


class AnimationWriter:
    """Writes frames, (H, W, 3) uint8 RGB arrays of one size, to a .gif or .mp4 file.

    Use as a context manager: the file appears when the block ends normally; after an exception or
    `abort()` nothing is left behind."""

    def __init__(self, path: str | os.PathLike, fps: float, size: tuple[int, int]) -> None:
        self.path = Path(path)
        self.suffix = self.path.suffix.lower()
        if self.suffix not in ANIMATION_SUFFIXES:
            raise ExportError(f"cannot write an animation as {self.suffix or 'a file without a suffix'}")
        check_fps(fps, self.suffix)
        if self.suffix == ".mp4":
            check_video_encoder()
        self.fps = float(fps)
        self.size = (int(size[0]), int(size[1]))  # (width, height)
        self.frames = 0
        self._temp: Path | None = None
        self._backend: _GifBackend | _Mp4Backend | None = None

    @property
    def needs_palette(self) -> bool:
        """GIFs share one palette: give `set_palette` sample frames before the first `add`."""
        return self.suffix == ".gif"

    def __enter__(self) -> AnimationWriter:
        self._temp = _make_temp(self.path)
        try:
            backend = _GifBackend if self.suffix == ".gif" else _Mp4Backend
            self._backend = backend(self._temp, self.size, self.fps)
        except BaseException:
            self.abort()
            raise
        return self

    def set_palette(self, samples: list[np.ndarray]) -> None:
        if isinstance(self._backend, _GifBackend):
            self._backend.set_palette(samples)

    def add(self, frame: np.ndarray) -> None:
        if self._backend is None:
            raise ExportError("the animation writer is closed")
        if frame.shape != (self.size[1], self.size[0], 3):
            raise ExportError(f"frame of shape {frame.shape} in an animation of size {self.size}")
        self._backend.add(np.ascontiguousarray(frame, dtype=np.uint8))
        self.frames += 1

    def abort(self) -> None:
        """Stop and delete what was written."""
        backend, self._backend = self._backend, None
        if backend is not None:
            with contextlib.suppress(Exception):
                backend.close(finish=False)
        discard(self._temp)
        self._temp = None

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None or self._backend is None:
            self.abort()
            return
        backend, self._backend = self._backend, None
        try:
            if self.frames == 0:
                raise ExportError("no frames to write")
            backend.close(finish=True)
            publish(self._temp, self.path)
        except OSError as exc:
            self.abort()
            raise ExportError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        except BaseException:
            self.abort()
            raise
        self._temp = None


class _GifBackend:
    """GIF frames through Pillow's frame encoder: one global palette, and each frame stores only the
    rectangle that changed since the previous one (a step changes a few columns)."""

    def __init__(self, path: Path, size: tuple[int, int], fps: float) -> None:
        self.file: BinaryIO = open(path, "wb")  # noqa: SIM115 (closed in close())
        self.size, self.fps = size, fps
        self.palette = None  # a "P" image whose palette every frame is mapped to
        self.previous: np.ndarray | None = None  # (H, W) palette indices of the last frame
        self.count = 0

    def set_palette(self, samples: list[np.ndarray]) -> None:
        from PIL import Image

        montage = Image.fromarray(np.concatenate(samples, axis=0))
        palette = montage.quantize(255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        colours = palette.getpalette()[: 3 * 255]
        palette.putpalette(colours + [0] * (768 - len(colours)))  # index 255: "unchanged" (transparent)
        self.palette = palette

    def _delay_ms(self) -> int:
        """This frame's delay, in whole 1/100 s so the average rate is exactly `fps`."""
        cs = round((self.count + 1) * 100 / self.fps) - round(self.count * 100 / self.fps)
        return max(cs, 2) * 10

    def add(self, rgb: np.ndarray) -> None:
        from PIL import GifImagePlugin, Image

        if self.palette is None:
            self.set_palette([rgb])
        frame = Image.fromarray(rgb).quantize(palette=self.palette, dither=Image.Dither.NONE)
        indices = np.asarray(frame)  # (H, W) in 0..254
        params = {"duration": self._delay_ms(), "disposal": 1}  # 1: the next frame draws over this one
        if self.previous is None:
            header, _ = GifImagePlugin.getheader(frame, info={"loop": 0, "optimize": False})
            self.file.write(b"".join(header))
            box, part = (0, 0, *self.size), frame
        else:
            box = _changed_box(self.previous, indices)
            left, top, right, bottom = box
            # inside the changed box, pixels that did not change are transparent: long runs of one
            # index, which LZW packs into almost nothing
            window = np.where(
                self.previous[top:bottom, left:right] == indices[top:bottom, left:right],
                np.uint8(TRANSPARENT),
                indices[top:bottom, left:right],
            )
            part = Image.fromarray(window, "P")
            part.putpalette(self.palette.getpalette())
            params["transparency"] = TRANSPARENT
        self.previous = indices
        chunks = GifImagePlugin.getdata(part, offset=box[:2], **params)
        self.file.write(b"".join(chunks))
        self.file.flush()
        self.count += 1

    def close(self, finish: bool) -> None:
        try:
            if finish:
                self.file.write(b";")
        finally:
            self.file.close()


def _changed_box(previous: np.ndarray, current: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the pixels that differ; one pixel when none does."""
    changed = previous != current  # (H, W)
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    if rows.size == 0:
        return (0, 0, 1, 1)
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


class _Mp4Backend:
    """H.264 through imageio-ffmpeg's pipe to ffmpeg. Odd sizes are padded by one pixel (yuv420p
    needs even sides) with the last row/column, never rescaled."""

    def __init__(self, path: Path, size: tuple[int, int], fps: float) -> None:
        import imageio_ffmpeg

        w, h = size
        self.padded = (w + w % 2, h + h % 2)
        self.writer = imageio_ffmpeg.write_frames(
            str(path),
            self.padded,
            fps=fps,
            codec="libx264",
            quality=7,
            macro_block_size=2,
            ffmpeg_log_level="error",
            output_params=["-movflags", "+faststart"],
        )
        self.writer.send(None)  # starts ffmpeg

    def add(self, rgb: np.ndarray) -> None:
        h, w = rgb.shape[:2]
        if (w, h) != self.padded:
            rgb = np.pad(rgb, ((0, self.padded[1] - h), (0, self.padded[0] - w), (0, 0)), mode="edge")
        self.writer.send(np.ascontiguousarray(rgb))

    def close(self, finish: bool) -> None:
        # Closing the generator makes imageio-ffmpeg finish the file and wait for ffmpeg.
        self.writer.close()
