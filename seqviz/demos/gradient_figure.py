"""The gradient lesson as a figure: how much a word influences the long-range prediction, against how far
back it is — one line per architecture, log y.

For each held-out example (fresh seed, filler lengths FILLERS) the prediction of the last word
("... i speak fluent ___") is y_t = log p(the shown prediction) at the step t that predicts it, and a
word s influences it by ‖∂y_t/∂x_s‖₂ (x_s its embedding): row t of `input_gradient_norm`
(`seqviz.trace(model, text, gradients=True)`). The curve is the mean over examples at each distance
t − s. `python -m seqviz.demos.figure` draws it beside the accuracy figure.
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
DEFAULT_OUT = resources.figures_dir() / "gradient_distance.png"


def measure(models_dir: Path | None = None, n: int = 60) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """({arch: mean influence at distance d = index}, {arch: mean influence of the country word})."""
    import seqviz
    from seqviz.core.modelfile import load_model

    task, folder = LongRangeTask(), models_dir or resources.models_dir()
    curves, country = {}, {}
    for arch in ARCHS:
        path = folder / f"longrange-{arch}.safetensors"
        if not path.is_file():
            continue
        model = load_model(path)
        sums, counts, on_country = np.zeros(128), np.zeros(128), []
        for filler in FILLERS:
            for ex in task.at_distance(FIGURE_SEED + 1, filler, n):
                t = ex.scored[0]  # the step whose prediction is the answer
                row = seqviz.trace(model, list(ex.tokens), gradients=True)["input_gradient_norm"][t]
                distances = t - np.arange(t + 1)  # (t+1,): how far back each word is
                np.add.at(sums, distances, row[: t + 1])
                np.add.at(counts, distances, 1)
                on_country.append(row[ex.tokens.index(_country(ex)) if _country(ex) else 0])
        curves[arch] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        country[arch] = float(np.mean(on_country))
    return curves, country


def _country(ex) -> str | None:
    """The country word of a long-range example (right after "born in" / "naci en")."""
    words = list(ex.tokens)
    for i in range(len(words) - 1):
        if words[i] in ("in", "en") and i >= 1 and words[i - 1] in ("born", "naci"):
            return words[i + 1]
    return None


def markdown_table(curves: dict[str, np.ndarray], country: dict[str, float]) -> str:
    head = "| distance (words back) | " + " | ".join(LABELS[a] for a in curves) + " |"
    rule = "|---:|" + "---:|" * len(curves)
    rows = [f"| {d} | " + " | ".join(f"{curves[a][d]:.2e}" for a in curves) + " |" for d in TABLE_DISTANCES]
    rows.append("| the country word | " + " | ".join(f"{country[a]:.2e}" for a in curves) + " |")
    falls = " | ".join(f"{curves[a][20] / curves[a][1]:.1e}" for a in curves)
    rows.append(f"| distance 20 ÷ distance 1 | {falls} |")
    return "\n".join([head, rule, *rows])


def draw(curves: dict[str, np.ndarray], size=(1000, 620), max_distance: int = 45) -> Image.Image:
    """x = distance (words back), y = mean influence on a log scale, one line per architecture."""
    width, height = size
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    left, right, top, bottom = 100, width - 200, 70, height - 80
    values = np.concatenate([c[1 : max_distance + 1] for c in curves.values()])
    values = values[np.isfinite(values) & (values > 0)]
    lo, hi = np.floor(np.log10(values.min())), np.ceil(np.log10(values.max()))

    def px(dist: float, value: float) -> tuple[float, float]:
        y = (np.log10(value) - lo) / max(hi - lo, 1)
        return left + (right - left) * dist / max_distance, bottom - (bottom - top) * y

    for decade in range(int(lo), int(hi) + 1):
        y = px(0, 10.0**decade)[1]
        d.line([left, y, right, y], fill=(225, 225, 225))
        d.text((left - 10, y), f"1e{decade}", fill="black", font=_font(16), anchor="rm")
    for dist in range(0, max_distance + 1, 5):
        x = px(dist, 10.0**lo)[0]
        d.line([x, bottom, x, bottom + 6], fill="black")
        d.text((x, bottom + 10), str(dist), fill="black", font=_font(16), anchor="mt")
    d.rectangle([left, top, right, bottom], outline="black", width=2)
    for i, (arch, curve) in enumerate(curves.items()):
        points = [
            px(k, v) for k, v in enumerate(curve[: max_distance + 1]) if k >= 1 and np.isfinite(v) and v > 0
        ]
        d.line(points, fill=COLOURS[arch], width=4, joint="curve")
        ly = top + 40 + 34 * i
        d.line([right + 20, ly, right + 50, ly], fill=COLOURS[arch], width=4)
        d.text((right + 60, ly), LABELS[arch], fill="black", font=_font(18), anchor="lm")
    title = "How far back does the prediction reach? Influence of a word on \u2026 i speak fluent ___"
    d.text((width / 2, 28), title, fill="black", font=_font(22), anchor="mm")
    d.text(
        ((left + right) / 2, height - 30),
        "distance: words back from the prediction",
        fill="black",
        font=_font(18),
        anchor="mm",
    )
    label = Image.new("RGB", (260, 30), "white")
    ImageDraw.Draw(label).text(
        (130, 15), "mean \u2016\u2202 log p / \u2202 x\u2016", fill="black", font=_font(18), anchor="mm"
    )
    img.paste(label.rotate(90, expand=True), (12, int((top + bottom) / 2 - 130)))
    return img


def write(out: Path = DEFAULT_OUT, models_dir: Path | None = None, n: int = 60) -> str | None:
    """Measure, draw `out` and its table (`.md` beside it); returns the table (None: no models)."""
    curves, country = measure(models_dir, n)
    if not curves:
        return None
    table = markdown_table(curves, country)
    out.parent.mkdir(parents=True, exist_ok=True)
    draw(curves).save(out)
    out.with_suffix(".md").write_text(table + "\n")
    return table
