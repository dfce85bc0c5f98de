"""Contract-shaped test traces: random but deterministic, and internally consistent.

Recurrent arrays are (T, L, D, H); LSTM cells satisfy c_t = f*c_{t-1} + i*g and h_t = o*tanh(c_t),
GRU states h_t = (1-z)*n + z*h_{t-1} (backward direction: t-1 replaced by t+1; initial states zero),
so panels that show equations can be checked against the arrays. Transformers have hidden
(T, L, 1, d), attention (L, heads, T, T) softmax rows (exact zeros above the diagonal when causal),
and encoder-decoders cross_attention (L, heads, T, S).
"""

from __future__ import annotations

import numpy as np

from seqviz.core.trace import Trace

VOCAB = list("abcde") + [" ", "."]
CLASS_LABELS = ["negative", "positive"]
TAG_LABELS = ["DET", "NOUN", "VERB", "ADJ"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _tokens(rng: np.random.Generator, n: int) -> list[str]:
    return [VOCAB[i] for i in rng.integers(0, len(VOCAB), n)]


def _head(rng: np.random.Generator, T: int, task: str) -> tuple[np.ndarray, list[str]]:
    """probs (T, K) and their labels for a task."""
    labels = {"classify": CLASS_LABELS, "tag": TAG_LABELS}.get(task, VOCAB)
    return _softmax(rng.normal(0, 2, (T, len(labels)))).astype(np.float32), list(labels)


def _recur(step, shape: tuple[int, ...]) -> np.ndarray:
    """Run `step(prev, t) -> new` over time; direction 1 runs backwards. Returns (T, L, D, H)."""
    T, L, D, H = shape
    out = np.zeros(shape, dtype=np.float64)
    prev = np.zeros((L, D, H))
    for k in range(T):
        t_fwd, t_bwd = k, T - 1 - k
        new = np.empty_like(prev)
        new[:, 0] = step(prev[:, 0], t_fwd, 0)
        if D == 2:
            new[:, 1] = step(prev[:, 1], t_bwd, 1)
        out[t_fwd, :, 0] = new[:, 0]
        if D == 2:
            out[t_bwd, :, 1] = new[:, 1]
        prev = new
    return out


def recurrent_trace(
    arch: str = "lstm",
    T: int = 12,
    num_layers: int = 2,
    hidden_size: int = 8,
    bidirectional: bool = False,
    task: str = "lm",
    seed: int = 0,
    relu: bool = False,
) -> Trace:
    """A recurrent trace with consistent gates (arch "lstm", "gru" or "rnn")."""
    rng = np.random.default_rng(seed)
    D = 2 if bidirectional else 1
    shape = (T, num_layers, D, hidden_size)
    arrays: dict[str, np.ndarray] = {}
    if arch == "lstm":
        i, f, o = (_sigmoid(rng.normal(0, 1.5, shape)) for _ in range(3))
        g = np.tanh(rng.normal(0, 1.5, shape))
        cell = _recur(lambda c, t, d: f[t, :, d] * c + i[t, :, d] * g[t, :, d], shape)
        hidden = o * np.tanh(cell)
        arrays = {"hidden": hidden, "cell": cell, "input_gate": i, "forget_gate": f, "output_gate": o}
        arrays["candidate"] = g
    elif arch == "gru":
        z, r = (_sigmoid(rng.normal(0, 1.5, shape)) for _ in range(2))
        n = np.tanh(rng.normal(0, 1.5, shape))
        hidden = _recur(lambda h, t, d: (1 - z[t, :, d]) * n[t, :, d] + z[t, :, d] * h, shape)
        arrays = {"hidden": hidden, "update_gate": z, "reset_gate": r, "candidate": n}
    elif arch == "rnn":
        pre = rng.normal(0, 1.5, shape)
        arrays = {"hidden": np.maximum(pre * 2, 0) if relu else np.tanh(pre)}
    else:
        raise ValueError(arch)
    arrays = {k: v.astype(np.float32) for k, v in arrays.items()}
    meta = {
        "arch": arch,
        "num_layers": num_layers,
        "num_directions": D,
        "hidden_size": hidden_size,
        "causal": not bidirectional,
    }
    if task:
        arrays["probs"], meta["output_labels"] = _head(rng, T, task)
        meta["task"] = task
    return Trace(arrays, tokens=_tokens(rng, T), meta=meta)


def lstm_trace(**kw) -> Trace:
    return recurrent_trace("lstm", **kw)


def gru_trace(**kw) -> Trace:
    return recurrent_trace("gru", **kw)


def rnn_trace(**kw) -> Trace:
    return recurrent_trace("rnn", **kw)


def _attention(rng: np.random.Generator, L: int, heads: int, T: int, S: int, causal: bool) -> np.ndarray:
    scores = rng.normal(0, 2, (L, heads, T, S))
    if causal:
        scores = np.where(np.triu(np.ones((T, S), bool), k=1), -np.inf, scores)
    return _softmax(scores).astype(np.float32)


def transformer_trace(
    T: int = 10,
    num_layers: int = 2,
    num_heads: int = 4,
    d_model: int = 16,
    causal: bool = True,
    task: str = "lm",
    seed: int = 0,
) -> Trace:
    """A decoder-only (causal) or encoder (causal=False) Transformer trace."""
    rng = np.random.default_rng(seed)
    arrays = {
        "hidden": rng.normal(0, 1.5, (T, num_layers, 1, d_model)).astype(np.float32),
        "attention": _attention(rng, num_layers, num_heads, T, T, causal),
    }
    meta = {
        "arch": "transformer",
        "kind": "decoder" if causal else "encoder",
        "num_layers": num_layers,
        "num_directions": 1,
        "hidden_size": d_model,
        "num_heads": num_heads,
        "causal": causal,
    }
    if task:
        arrays["probs"], meta["output_labels"] = _head(rng, T, task)
        meta["task"] = task
    return Trace(arrays, tokens=_tokens(rng, T), meta=meta)


def encoder_decoder_trace(
    T: int = 6, S: int = 8, num_layers: int = 2, num_heads: int = 2, d_model: int = 16, seed: int = 0
) -> Trace:
    """A sequence-to-sequence trace: decoder self-attention (causal) plus cross_attention (L, h, T, S)."""
    rng = np.random.default_rng(seed)
    base = transformer_trace(T, num_layers, num_heads, d_model, causal=True, task="", seed=seed)
    arrays = dict(base)
    arrays["cross_attention"] = _attention(rng, num_layers, num_heads, T, S, causal=False)
    arrays["probs"], labels = _head(rng, T, "seq2seq")
    meta = base.meta.replace(kind="encoder-decoder", task="seq2seq", output_labels=labels)
    return Trace(arrays, tokens=base.tokens, meta=meta, source_tokens=_tokens(rng, S))


# Qt helpers for panel tests ---------------------------------------------------------------------------
def shown(qtbot, widget, size: tuple[int, int]):
    """`widget` at `size`, shown and exposed, closed with the test (qtbot owns it). Returns it."""
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def open_panel(qtbot, panel_cls, trace: Trace | None, size: tuple[int, int] = (900, 600), viewer=None):
    """A shown panel of `panel_cls` on `trace`, with its own ViewerModel (step = T): (viewer, panel)."""
    from PySide6.QtWidgets import QApplication

    from seqviz.app.viewer.model import ViewerModel

    viewer = viewer or ViewerModel()
    panel = panel_cls(viewer)
    viewer.set_trace(trace)  # the selection is clamped to the trace before the panel shows it
    panel.set_trace(trace)
    shown(qtbot, panel, size)
    QApplication.processEvents()
    return viewer, panel


def view_pos(view, plot_or_vb, x: float, y: float):
    """Viewport pixel of data point (x, y) in a plot (or ViewBox) shown by the GraphicsView `view`."""
    return view.mapFromScene(scene_pos(plot_or_vb, x, y))


def _viewbox(plot_or_vb):
    import pyqtgraph as pg

    return plot_or_vb if isinstance(plot_or_vb, pg.ViewBox) else plot_or_vb.getViewBox()


def scene_pos(plot_or_vb, x: float, y: float):
    from PySide6.QtCore import QPointF

    return _viewbox(plot_or_vb).mapViewToScene(QPointF(x, y))


def click(qtbot, view, plot_or_vb, x: float, y: float, modifier=None) -> None:
    """A left click at data point (x, y)."""
    from PySide6.QtCore import Qt

    modifier = modifier if modifier is not None else Qt.KeyboardModifier.NoModifier
    pos = view_pos(view, plot_or_vb, x, y)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, pos)


def hover(qtbot, canvas, plot_or_vb, x: float, y: float) -> str:
    """Move the mouse to data point (x, y) and wait for the canvas's (rate-limited) hover text."""
    qtbot.mouseMove(canvas.viewport(), view_pos(canvas, plot_or_vb, x, y))
    qtbot.waitUntil(lambda: canvas.hover_text != "", timeout=2000)
    return canvas.hover_text


def drawn_ticks(axis) -> list[tuple[str, object]]:
    """(text, rect) of every tick label a pyqtgraph axis draws at its current size."""
    from PySide6.QtGui import QImage, QPainter

    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(text, rect) for rect, _flags, text in specs[2]]


def drawn_labels(axis) -> list[str]:
    """The tick texts an axis draws at its current size."""
    return [text for text, _rect in drawn_ticks(axis)]
