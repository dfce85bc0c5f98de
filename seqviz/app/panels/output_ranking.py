"""What the output panel shows at a step, without Qt: the top-k outputs, the known answer, the texts.

Tasks (`task_of(trace)`): "lm" — row t-1 of `probs` is the next token after t tokens, whose true value
is `tokens[t]`; "classify" — class probabilities after t tokens, one answer for the whole text
(`meta.target`); "tag" — the tag of token t; "seq2seq" — output token t (`meta.targets[t-1]` for both);
"mlm" — what a masked language model puts at position t. Traces of large vocabularies hold only their
top outputs (`output_topk.TopKRanking`, the same `StepOutputs`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np

from seqviz.app.panels.traceinfo import is_causal, masked_positions, output_labels, task_of, token_display_of
from seqviz.core import token_display
from seqviz.core.token_display import TokenDisplay
from seqviz.core.trace import Trace

MAX_LABEL_CHARS = 32  # longer class names / tokens are shortened on the label axis
#: tasks with a few fixed outputs: each keeps its bar's row while playing (sorted by probability, the
#: class and tag bars swapped places at every step)
STABLE_TASKS = ("classify", "tag")


def top_outputs(row: np.ndarray, k: int) -> np.ndarray:
    """Indices (min(k, K),) of the `k` largest of `row` (K,), largest first; ties keep index order.

    argpartition first: a 50,000-token vocabulary is not sorted on every step."""
    top = np.argpartition(-row, k - 1)[:k] if k < row.size else np.arange(row.size)
    return top[np.argsort(-row[top], kind="stable")]


def stable_outputs(row: np.ndarray, k: int) -> np.ndarray:
    """Indices of the outputs shown for `row` (K,): all K in the model's order when they fit in `k`
    rows, else the `k` most probable, still in the model's order."""
    if row.size <= k:
        return np.arange(row.size)
    return np.sort(top_outputs(row, k))


def label_texts(
    task: str, labels: list[str], display: TokenDisplay = token_display.display_token
) -> list[str]:
    """Axis labels: tokens as `display` shows them (whitespace made visible, a tokenizer's subword
    marks read); class and tag names as they are written."""
    if task in ("classify", "tag"):
        return [token_display.shorten(label, MAX_LABEL_CHARS) for label in labels]
    return [token_display.shorten(display(t), MAX_LABEL_CHARS) for t in labels]


@dataclass(frozen=True)
class StepOutputs:
    """The output panel's content at one step.

    `top` (k,) output indices, most probable first (classes and tags: in the model's order, STABLE_TASKS),
    with `probs` (k,), `labels` (k,) and `texts` (k,), the labels as displayed; `best_text` is the most
    probable one's. The true answer, when known: `true_label` (`true_text` as displayed);
    `true_index` its column in the trace's `probs`, or its output id for a top-k trace (None when it is
    not one of the model's outputs or its probability is unknown), `true_prob` and `true_rank` (1 = the
    model's first choice) there; `true_row` its row among the shown `top` (None when it is not shown).
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
    texts: list[str] = field(default_factory=list)
    true_text: str | None = None

    @property
    def best_text(self) -> str:
        """The most probable output shown, as displayed."""
        return self.texts[int(np.argmax(self.probs))] if len(self.texts) else ""


class OutputRanking:
    """A trace's outputs ranked per step. Built once per trace (the label index is O(K))."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.probs = trace["probs"]  # (T, K)
        self.task = task_of(trace)
        self.labels = output_labels(trace, self.probs.shape[1])  # (K,)
        self.texts = label_texts(self.task, self.labels, token_display_of(trace))  # (K,) as displayed
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
        top = stable_outputs(row, k) if self.task in STABLE_TASKS else top_outputs(row, k)
        labels = [self.labels[i] for i in top]
        true_label = self.truth(step)
        # by label: an lm's true next token is a string that may not be an output at all
        index = self._label_index.get(true_label) if true_label is not None else None
        true_row = labels.index(true_label) if true_label in labels else None
        prob = rank = None
        if index is not None:
            prob = float(row[index])
            rank = int((row > row[index]).sum()) + 1
        texts = [self.texts[i] for i in top]
        true_text = self.texts[index] if index is not None else None
        return StepOutputs(
            step, top, row[top], labels, true_label, index, prob, rank, true_row, texts, true_text
        )


# Texts (rich text: labels are escaped so "<unk>" shows) ---------------------------------------------
def header_text(trace: Trace, task: str, step: int, token: str, best: str) -> str:
    """What the bars are at `step`: `token` is the step's token and `best` the top label, as displayed."""
    token, best = html.escape(token), html.escape(best)
    if task == "classify":
        read = f"after {step} token{'s' * (step != 1)}"
        when = read if is_causal(trace) else "(the model reads the whole input at once)"
        final = " \u2014 the final prediction" if step == trace.num_steps else ""
        return f"class probabilities {when}{final}: <b>{best}</b>"
    if task == "tag":
        return f"tag of '{token}' (step {step}): predicted <b>{best}</b>"
    if task == "seq2seq":
        return f"output token {step}: <b>{best}</b>"
    if task == "mlm":
        if step - 1 in masked_positions(trace):
            return f"the masked token at position {step}: <b>{best}</b>"
        return f"position {step} '{token}' (not masked): the model reads <b>{best}</b> there"
    return f"after '{token}' (step {step}), the next token: <b>{best}</b>"


def truth_text(
    task: str, outputs: StepOutputs, texts: list[str], num_steps: int, top_only: bool = False
) -> str:
    """The footer: the true answer's probability and rank, or why there is none. `texts` (K,) are the
    output labels as displayed (`label_texts`); `top_only`: the trace holds only the top outputs."""
    if outputs.true_label is None or outputs.true_index is None:
        if task == "lm" and outputs.step >= num_steps:
            return "the next token is beyond the input"
        if outputs.true_label is not None:
            shown = outputs.true_text or label_texts(task, [outputs.true_label])[0]
            where = f"among the top {len(outputs.top)}" if top_only else "one of the model's outputs"
            return f"the true answer '{html.escape(shown)}' is not {where}"
        return ""
    what = {"lm": "true next token", "mlm": "true token"}.get(task, "true answer")
    tick = " \u2714" if outputs.true_rank == 1 else ""
    label = html.escape(outputs.true_text if outputs.true_text is not None else texts[outputs.true_index])
    return f"{what} <b>{label}</b>: p = {outputs.true_prob:.4f}, rank {outputs.true_rank}{tick}"
