"""The output panel's content for large vocabularies, without Qt: the trace holds only what is shown.

A model with tens of thousands of output tokens (Hugging Face language models) does not store `probs`
(T, V); its trace has `top_ids` (T, k) int32 and `top_probs` (T, k) float32, the k most probable
outputs at each step, and for causal language models `target_prob` (T,) and `target_rank` (T,), the
probability and rank (1 = first choice) of the true next token (NaN and -1 where there is none). See
docs/trace.md. Labels of the ids come from the trace (`top_token_labels`).

Rows by task: "lm" — row t-1 predicts token t+1 (its truth is `tokens[t]`); "mlm" — row t-1 is what
the model puts at position t (a masked position's guesses); "seq2seq" — output token t.
`TopKRanking.at` gives the same `StepOutputs` as `OutputRanking.at` for full distributions.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from seqviz.app.panels.output_ranking import StepOutputs, label_texts
from seqviz.app.panels.traceinfo import task_of, token_display_of
from seqviz.core.trace import Trace

TOP_ARRAYS = ("top_ids", "top_probs")


def has_top_outputs(trace: Trace) -> bool:
    """Whether the trace stores its outputs as top-k ids and probabilities instead of `probs`."""
    return all(name in trace for name in TOP_ARRAYS)


def top_token_labels(trace: Trace) -> Mapping[int, str]:
    """Output id -> the tokenizer's piece, for the ids the trace holds (`meta.extra["top_tokens"]`,
    a mapping whose keys are ids or their decimal strings: JSON makes them strings), else the
    vocabulary in `meta.output_labels` when it covers every id."""
    given = trace.meta.extra.get("top_tokens")
    if isinstance(given, Mapping):
        return {int(i): str(piece) for i, piece in given.items()}
    labels = trace.meta.output_labels
    ids = trace["top_ids"]
    if labels and ids.size and int(ids.max()) < len(labels):
        return dict(enumerate(labels))
    return {}


class TopKRanking:
    """A top-k trace's outputs per step (`at`), with the true answer where the trace knows it."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.task = task_of(trace)
        self.ids = trace["top_ids"]  # (T, k)
        self.probs = trace["top_probs"]  # (T, k)
        self.display = token_display_of(trace)
        self._labels = top_token_labels(trace)
        self._target_prob = trace.get("target_prob")  # (T,)
        self._target_rank = trace.get("target_rank")  # (T,)
        self._all_texts: list[str] | None = None

    def label(self, token_id: int) -> str:
        """The piece of output `token_id` (its id, '#1234', when the trace does not name it)."""
        return self._labels.get(int(token_id), f"#{int(token_id)}")

    def all_texts(self) -> list[str]:
        """Every label the trace can show, as displayed (to size the label axis once per trace)."""
        if self._all_texts is None:
            ids = np.unique(self.ids).tolist()
            self._all_texts = label_texts(self.task, [self.label(i) for i in ids], self.display)
        return self._all_texts

    def truth(self, step: int) -> tuple[int | None, str | None]:
        """(id, piece) of the known right answer at 1-based `step`: the next token of a causal LM,
        `meta.targets` (output ids) for the other tasks; (None, None) when unknown."""
        meta, T = self.trace.meta, self.trace.num_steps
        if self.task == "lm":
            if step >= T:
                return None, None
            ids = meta.token_ids
            return (int(ids[step]) if len(ids) == T else None), self.trace.tokens[step]
        targets = meta.targets
        if step <= len(targets) and targets[step - 1] >= 0:
            return targets[step - 1], self.label(targets[step - 1])
        return None, None

    def _target(self, row: int) -> tuple[float | None, int | None]:
        """The trace's own probability and rank of the true answer at `row`, if it holds them."""
        if self._target_prob is None or self._target_rank is None:
            return None, None
        prob, rank = float(self._target_prob[row]), int(self._target_rank[row])
        return (prob, rank) if np.isfinite(prob) and rank >= 1 else (None, None)

    def at(self, step: int, k: int) -> StepOutputs:
        """The (at most) `k` most probable outputs at 1-based `step` and the true answer."""
        row = step - 1
        order = np.argsort(-self.probs[row], kind="stable")[:k]  # stored sorted; never trusted blindly
        ids, probs = self.ids[row][order], self.probs[row][order]
        labels = [self.label(i) for i in ids]
        true_id, true_label = self.truth(step)
        if true_id is not None:
            hits = np.flatnonzero(ids == true_id)
        else:  # a next token without ids: found by its piece
            hits = np.array([labels.index(true_label)] if true_label in labels else [], int)
        true_row = int(hits[0]) if hits.size else None
        prob, rank = self._target(row)
        if prob is None and true_row is not None:  # shown among the top k: its bar says it all
            prob, rank = float(probs[true_row]), true_row + 1
        texts = label_texts(self.task, labels, self.display)
        true_text = label_texts(self.task, [true_label], self.display)[0] if true_label is not None else None
        true_index = (true_id if true_id is not None else -1) if prob is not None else None
        return StepOutputs(
            step, ids, probs, labels, true_label, true_index, prob, rank, true_row, texts, true_text
        )
