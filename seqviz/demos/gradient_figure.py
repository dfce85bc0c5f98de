"""The gradient lesson as a figure: how much a word influences the long-range prediction, against how far
back it is — one line per architecture, log y; before training and after.

For each held-out example (fresh seed, filler lengths FILLERS) the prediction of the last word
("... i speak fluent ___") is y_t = log p(the shown prediction) at the step t that predicts it, and a
word s influences it by ‖∂y_t/∂x_s‖₂ (x_s its embedding): row t of `input_gradient_norm`
(`seqviz.trace(model, text, gradients=True)`). A curve is the mean over examples at each distance t − s.

Two panels, because they tell different parts of the story (README, "The gradient lesson"):
- before training: the same architectures, initialised exactly as training starts them. This is the
  signal training has to work with, and here the plain RNN's influence falls off far faster than the
  GRU's and LSTM's (the vanishing gradient).
- trained: the shipped models. These do not show the textbook curve, and the figure says so: ‖∂ log p‖
  shrinks with 1 − p, so the confident GRU and LSTM have tiny gradients everywhere except on the
  country word, while the trained RNN ends in a regime whose influence hardly decays at all.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from seqviz.core import resources
from seqviz.demos.figure_style import ARCHS, COLOURS, FIGURE_SEED, LABELS
from seqviz.demos.figure_style import font as _font
from seqviz.demos.tasks_longrange import LongRangeTask

FILLERS = (10, 20, 40)  # words between the country and the answer: within training, and beyond it
TABLE_DISTANCES = (1, 2, 5, 10, 20, 30, 40)
PANELS = ("before training", "trained")
DEFAULT_OUT = resources.figures_dir() / "gradient_distance.png"


def models(models_dir: Path | None = None) -> dict[str, dict[str, object]]:
    """{panel: {arch: model}}: the shipped longrange-* models and the same models before training."""
    from seqviz.core.modelfile import load_model
    from seqviz.demos.specs import build_model, spec

    folder = models_dir or resources.models_dir()
    trained = {a: load_model(p) for a in ARCHS if (p := folder / f"longrange-{a}.safetensors").is_file()}
    initial = {a: build_model(spec(f"longrange-{a}")).eval() for a in trained}  # the training seed
    return {"before training": initial, "trained": trained}


def influence(model, n: int) -> tuple[np.ndarray, float]:
    """(mean influence at distance d = index, mean influence of the country word) over held-out text."""
    import seqviz

    sums, counts, on_country = np.zeros(128), np.zeros(128), []
    for filler in FILLERS:
        for ex in LongRangeTask().at_distance(FIGURE_SEED + 1, filler, n):
            t = ex.scored[0]  # the step whose prediction is the answer
            row = seqviz.trace(model, list(ex.tokens), gradients=True)["input_gradient_norm"][t]
            distances = t - np.arange(t + 1)  # (t+1,): how far back each word is
            np.add.at(sums, distances, row[: t + 1])
            np.add.at(counts, distances, 1)
            on_country.append(row[_country_index(list(ex.tokens))])
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan), float(np.mean(on_country))


def _country_index(words: list[str]) -> int:
    """Where the country is named: right after "born in" / "naci en"."""
    for i in range(1, len(words) - 1):
        if words[i] in ("in", "en") and words[i - 1] in ("born", "naci"):
            return i + 1
    raise ValueError("not a long-range example: no 'born in' / 'naci en'")


def markdown_table(results: dict[str, dict[str, tuple[np.ndarray, float]]]) -> str:
    """One column per (panel, architecture): influence at chosen distances, on the country word, and
    how much is left after 20 words."""
    cols = [(p, a) for p in results for a in results[p]]
    head = "| words back | " + " | ".join(f"{LABELS[a]} ({p})" for p, a in cols) + " |"
    rule = "|---:|" + "---:|" * len(cols)
    rows = [
        f"| {d} | " + " | ".join(f"{results[p][a][0][d]:.1e}" for p, a in cols) + " |"
        for d in TABLE_DISTANCES
    ]
    rows.append("| the country word | " + " | ".join(f"{results[p][a][1]:.1e}" for p, a in cols) + " |")
    left = " | ".join(f"{results[p][a][0][20] / results[p][a][0][1]:.1e}" for p, a in cols)
    rows.append(f"| 20 words back ÷ 1 word back | {left} |")
    return "\n".join([head, rule, *rows])


def draw(
    results: dict[str, dict[str, tuple[np.ndarray, float]]], size=(1400, 620), max_distance=45
) -> Image.Image:
    """Side by side, one panel per entry of `results`: x = words back, y = mean influence (log)."""
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    width, height = size
    values = np.concatenate([c[1 : max_distance + 1] for r in results.values() for c, _ in r.values()])
    values = values[np.isfinite(values) & (values > 0)]
    span = (np.floor(np.log10(values.min())), np.ceil(np.log10(values.max())))
    panel_w = (width - 300) // len(results)
    for i, (name, curves) in enumerate(results.items()):  # 80 px between panels: the y labels
        box = (90 + i * panel_w, 80, 90 + (i + 1) * panel_w - 80, height - 80)
        _panel(d, box, {a: c for a, (c, _) in curves.items()}, span, max_distance, name)
    for i, arch in enumerate(next(iter(results.values()))):
        ly = 120 + 34 * i
        d.line([width - 190, ly, width - 160, ly], fill=COLOURS[arch], width=4)
        d.text((width - 150, ly), LABELS[arch], fill="black", font=_font(18), anchor="lm")
    title = "How far back does the prediction reach?  Influence of a word on \u2026 i speak fluent ___"
    d.text((width / 2, 26), title, fill="black", font=_font(22), anchor="mm")
    label = Image.new("RGB", (300, 30), "white")
    ImageDraw.Draw(label).text((150, 15), "mean |d log p / d x_s|", fill="black", font=_font(18), anchor="mm")
    img.paste(label.rotate(90, expand=True), (10, height // 2 - 150))
    return img


def _panel(
    d: ImageDraw.ImageDraw, box, curves: dict[str, np.ndarray], span, max_distance: int, title: str
) -> None:
    left, top, right, bottom = box
    lo, hi = span

    def px(dist: float, value: float) -> tuple[float, float]:
        return left + (right - left) * dist / max_distance, bottom - (bottom - top) * (
            np.log10(value) - lo
        ) / max(hi - lo, 1)

    for decade in range(int(lo), int(hi) + 1):
        y = px(0, 10.0**decade)[1]
        d.line([left, y, right, y], fill=(225, 225, 225))
        d.text((left - 8, y), f"1e{decade}", fill="black", font=_font(14), anchor="rm")
    for dist in range(0, max_distance + 1, 10):
        x = px(dist, 10.0**lo)[0]
        d.line([x, bottom, x, bottom + 6], fill="black")
        d.text((x, bottom + 10), str(dist), fill="black", font=_font(15), anchor="mt")
    d.rectangle([left, top, right, bottom], outline="black", width=2)
    for arch, curve in curves.items():
        shown = enumerate(curve[: max_distance + 1])
        points = [px(k, v) for k, v in shown if k >= 1 and np.isfinite(v) and v > 0]
        d.line(points, fill=COLOURS[arch], width=4, joint="curve")
    d.text(((left + right) / 2, top - 18), title, fill="black", font=_font(20), anchor="mm")
    d.text(
        ((left + right) / 2, bottom + 40),
        "words back from the prediction",
        fill="black",
        font=_font(16),
        anchor="mm",
    )


def write(out: Path = DEFAULT_OUT, models_dir: Path | None = None, n: int = 60) -> str | None:
    """Measure, draw `out` and its table (`.md` beside it); returns the table (None: no models)."""
    found = models(models_dir)
    if not found["trained"]:
        return None
    results = {panel: {a: influence(m, n) for a, m in ms.items()} for panel, ms in found.items()}
    table = markdown_table(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    draw(results).save(out)
    out.with_suffix(".md").write_text(table + "\n")
    return table
