"""The long-range lesson as a figure: final-word accuracy against filler length, one line per architecture.

    python -m seqviz.demos.figure [--models DIR] [--out resources/figures/long_range.png] [--n 300]

Each accuracy point is measured on fresh examples (seed FIGURE_SEED, never used in training) with a
filler of exactly that many words. Writes the PNG (drawn with Pillow, no Qt needed) and the markdown
table next to it (`long_range.md`), and prints the table. Then the gradient figure
(seqviz.demos.gradient_figure: a word's influence on the prediction against its distance) beside it,
as gradient_distance.png and .md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw

from seqviz.core import resources
from seqviz.demos import gradient_figure
from seqviz.demos.figure_style import ARCHS, COLOURS, FIGURE_SEED, LABELS
from seqviz.demos.figure_style import font as _font
from seqviz.demos.tasks_longrange import COUNTRIES, FIGURE_FILLERS, TRAIN_FILLERS, LongRangeTask

# Lines that lie on top of each other (all at 1.0) stay visible as nested stripes: widest drawn first.
WIDTHS = {"rnn": 4, "gru": 11, "lstm": 7, "transformer": 3}
DEFAULT_OUT = resources.figures_dir() / "long_range.png"


def measure(models_dir: Path | None = None, n: int = 300, fillers=FIGURE_FILLERS) -> dict[str, list[float]]:
    """{arch: [accuracy at each filler length]} for the bundled longrange-<arch> models that exist."""
    from seqviz.core.modelfile import load_model
    from seqviz.demos.training import evaluate

    task = LongRangeTask()
    folder = models_dir or resources.models_dir()
    curves = {}
    for arch in ARCHS:
        path = folder / f"longrange-{arch}.safetensors"
        if path.is_file():
            model = load_model(path)
            curves[arch] = [evaluate(model, task.at_distance(FIGURE_SEED, f, n))["accuracy"] for f in fillers]
    return curves


def markdown_table(curves: dict[str, list[float]], fillers=FIGURE_FILLERS) -> str:
    head = "| filler words | " + " | ".join(LABELS[a] for a in curves) + " |"
    rule = "|---:|" + "---:|" * len(curves)
    rows = [
        f"| {f}{'' if f <= max(TRAIN_FILLERS) else ' (longer than in training)'} | "
        + " | ".join(f"{curves[a][i]:.2f}" for a in curves)
        + " |"
        for i, f in enumerate(fillers)
    ]
    return "\n".join([head, rule, *rows])


def draw(curves: dict[str, list[float]], fillers=FIGURE_FILLERS, size=(1000, 620)) -> Image.Image:
    """A line chart: x = filler words, y = final-word accuracy; the training range is shaded."""
    width, height = size
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    left, right, top, bottom = 90, width - 200, 70, height - 80
    x_max = max(fillers)

    def px(f: float, acc: float) -> tuple[float, float]:
        return left + (right - left) * f / x_max, bottom - (bottom - top) * acc

    train_right = px(max(TRAIN_FILLERS), 0)[0]
    d.rectangle([left, top, train_right, bottom], fill=(236, 241, 250))
    d.text(
        ((left + train_right) / 2, bottom - 12),
        "training fillers",
        fill=(90, 100, 130),
        font=_font(15),
        anchor="mb",
    )
    for tick in range(0, 11, 2):  # y grid and labels
        y = px(0, tick / 10)[1]
        d.line([left, y, right, y], fill=(225, 225, 225))
        d.text((left - 10, y), f"{tick / 10:.1f}", fill="black", font=_font(16), anchor="rm")
    for f in fillers:
        x = px(f, 0)[0]
        d.line([x, bottom, x, bottom + 6], fill="black")
        d.text((x, bottom + 10), str(f), fill="black", font=_font(16), anchor="mt")
    chance = 1 / len(COUNTRIES["en"])
    _dashed(d, px(0, chance), px(x_max, chance), (120, 120, 120))
    d.text(
        (right + 8, px(0, chance)[1]),
        f"chance (1 in {len(COUNTRIES['en'])})",
        fill=(120, 120, 120),
        font=_font(15),
        anchor="lm",
    )
    d.rectangle([left, top, right, bottom], outline="black", width=2)
    for arch in sorted(curves, key=lambda a: -WIDTHS[a]):
        points = [px(f, a) for f, a in zip(fillers, curves[arch], strict=True)]
        d.line(points, fill=COLOURS[arch], width=WIDTHS[arch], joint="curve")
        r = WIDTHS[arch] / 2 + 3
        for x, y in points:
            d.ellipse([x - r, y - r, x + r, y + r], fill=COLOURS[arch])
    for i, arch in enumerate(curves):
        ly = top + 40 + 34 * i
        d.line([right + 20, ly, right + 50, ly], fill=COLOURS[arch], width=max(WIDTHS[arch], 4))
        d.text((right + 60, ly), LABELS[arch], fill="black", font=_font(18), anchor="lm")
    title = "Remembering the country: accuracy on the last word (\u2026 i speak fluent ___)"
    d.text((width / 2, 28), title, fill="black", font=_font(22), anchor="mm")
    d.text(
        ((left + right) / 2, height - 30),
        "filler words between the country and the answer",
        fill="black",
        font=_font(18),
        anchor="mm",
    )
    label = Image.new("RGB", (200, 30), "white")
    ImageDraw.Draw(label).text((100, 15), "accuracy", fill="black", font=_font(18), anchor="mm")
    label = label.rotate(90, expand=True)
    img.paste(label, (12, int((top + bottom) / 2 - 100)))
    return img


def _dashed(
    d: ImageDraw.ImageDraw, a: tuple[float, float], b: tuple[float, float], colour, dash: int = 10
) -> None:
    length = b[0] - a[0]
    for start in range(0, int(length), 2 * dash):
        d.line([a[0] + start, a[1], a[0] + min(start + dash, length), b[1]], fill=colour, width=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m seqviz.demos.figure", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--models", type=Path, default=None, help="folder of longrange-*.safetensors")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--n", type=int, default=300, help="examples per point (default 300)")
    parser.add_argument(
        "--gradient-n", type=int, default=60, help="examples per filler length for the gradient figure"
    )
    args = parser.parse_args(argv)
    curves = measure(args.models, args.n)
    if not curves:
        print("no longrange-* models found; train them with python -m seqviz.demos.train", file=sys.stderr)
        return 1
    table = markdown_table(curves)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    draw(curves).save(args.out)
    args.out.with_suffix(".md").write_text(table + "\n")
    print(table)
    print(f"wrote {args.out}", file=sys.stderr)
    gradients_out = args.out.with_name(gradient_figure.DEFAULT_OUT.name)
    print()
    print(gradient_figure.write(gradients_out, args.models, args.gradient_n))
    print(f"wrote {gradients_out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
