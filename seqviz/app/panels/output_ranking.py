"""What the output panel shows at a step, without Qt: the top-k outputs, the known answer, the texts.

Tasks (`task_of(trace)`): "lm" — row t-1 of `probs` is the next token after t tokens, whose true value
is `tokens[t]`; "classify" — class probabilities after t tokens, one answer for the whole text
(`meta.target`); "tag" — the tag of token t; "seq2seq" — output token t (`meta.targets[t-1]` for both).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from seqviz.app.panels.traceinfo import is_causal, output_labels, task_of
from seqviz.core import token_display
from seqviz.core.trace import Trace

MAX_LABEL_CHARS = 32  # longer class names / tokens are shortened on the label axis


def top_outputs(row: np.ndarray, k: int) -> np.ndarray:
    """Indices (min(k, K),) of the `k` largest of `row` (K,), largest first; ties keep index order.

    argpartition first: a 50,000-token vocabulary is not sorted on every step."""
    top = np.argpartition(-row, k - 1)[:k] if k < row.size else np.arange(row.size)
    return top[np.argsort(-row[top], kind="stable")]


def label_texts(task: str, labels: list[str]) -> list[str]:
    """Axis labels: tokens with whitespace made visible; class and tag names as they are written."""
    if task in ("classify", "tag"):
        return [token_display.shorten(label, MAX_LABEL_CHARS) for label in labels]
    return [token_display.shorten(token_display.display_token(t), MAX_LABEL_CHARS) for t in labels]


@dataclass(frozen=True)
class StepOutputs:
    """The output panel's content at one step.

    `top` (k,) output indices, most probable first, with `probs` (k,) and `labels` (k,). The true answer,
    when known: `true_label`; `true_index` its column in the trace's `probs` (None when it is not one of
    the model's outputs), `true_prob` and `true_rank` (1 = the model's first choice) there; `true_row`
    its row among the shown `top` (None when it is not shown).
    """

    step: int
    top: np.ndarray
    probs: np.ndarray
    labels: list[str]
    true_label: str | None
    true_index: int | None
    true_prob: float | None
    true_rank: int | None
    true_row: int | None


class OutputRanking:
    """A trace's outputs ranked per step. Built once per trace (the label index is O(K))."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.probs = trace["probs"]  # (T, K)
        self.task = task_of(trace)
        self.labels = output_labels(trace, self.probs.shape[1])  # (K,)
        self._label_index = {label: i for i, label in enumerate(self.labels)}

    def truth(self, step: int) -> str | None:
        """The known right answer at 1-based `step`, as an output label (lm: the next token), or None."""
        meta = self.trace.meta
        if self.task == "lm":
            return self.trace.tokens[step] if step < self.trace.num_steps else None
        if self.task == "classify":  # one answer for the whole text; row t is the opinion after t tokens
            index = meta.target
        else:
            index = meta.targets[step - 1] if step <= len(meta.targets) else None
        return self.labels[index] if index is not None and 0 <= index < len(self.labels) else None

    def at(self, step: int, k: int) -> StepOutputs:
        """The top `k` outputs and the true answer at 1-based `step` (1..T)."""
        row = self.probs[step - 1]  # (K,)
        top = top_outputs(row, k)
        labels = [self.labels[i] for i in top]
        true_label = self.truth(step)
        # by label: an lm's true next token is a string that may not be an output at all
        index = self._label_index.get(true_label) if true_label is not None else None
        true_row = labels.index(true_label) if true_label in labels else None
        prob = rank = None
        if index is not None:
            prob = float(row[index])
            rank = int((row > row[index]).sum()) + 1
        return StepOutputs(step, top, row[top], labels, true_label, index, prob, rank, true_row)


# Texts (rich text: labels are escaped so "<unk>" shows) ---------------------------------------------
def header_text(trace: Trace, task: str, step: int, token: str, best: str) -> str:
    """What the bars are at `step`: `token` is the step's token and `best` the top label, as displayed."""
    token, best = html.escape(token), html.escape(best)
    if task == "classify":
        when = f"after {step} tokens" if is_causal(trace) else "(the model reads the whole input at once)"
        final = " \u2014 the final prediction" if step == trace.num_steps else ""
        return f"class probabilities {when}{final}: <b>{best}</b>"
    if task == "tag":
        return f"tag of '{token}' (step {step}): predicted <b>{best}</b>"
    if task == "seq2seq":
        return f"output token {step}: <b>{best}</b>"
    return f"after '{token}' (step {step}), the next token: <b>{best}</b>"


def truth_text(task: str, outputs: StepOutputs, texts: list[str], num_steps: int) -> str:
    """The footer: the true answer's probability and rank, or why there is none. `texts` (K,) are the
    output labels as displayed (`label_texts`)."""
    if outputs.true_label is None or outputs.true_index is None:
        if task == "lm" and outputs.step >= num_steps:
            return "the next token is beyond the input"
        if outputs.true_label is not None:
            shown = html.escape(label_texts(task, [outputs.true_label])[0])
            return f"the true answer '{shown}' is not one of the model's outputs"
        return ""
    what = "true next token" if task == "lm" else "true answer"
    tick = " \u2714" if outputs.true_rank == 1 else ""
    label = html.escape(texts[outputs.true_index])
    return f"{what} <b>{label}</b>: p = {outputs.true_prob:.4f}, rank {outputs.true_rank}{tick}"
