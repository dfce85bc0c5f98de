"""What the lesson's figures share: architectures, their names and colours, the held-out seed, the font."""

from __future__ import annotations

from PIL import ImageFont

FIGURE_SEED = 20_011  # fresh examples, never used in training
ARCHS = ("rnn", "gru", "lstm", "transformer")
LABELS = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM", "transformer": "Transformer"}
COLOURS = {"rnn": (214, 39, 40), "gru": (44, 160, 44), "lstm": (31, 119, 180), "transformer": (148, 103, 189)}


def font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)  # Pillow's own scalable font: same picture everywhere
