"""The Find units panel without Qt: what to rank, the table's rows, the second text, the edits.

Steps here are as the window counts them, 1..T (step t shows the state after token t); the core
(seqviz.core.unit_search) counts from 0. Two modes:

- Select: the units on within steps first..last and off elsewhere (`select_rows`).
- Differ: the units whose values differ most between this run (A) and a second text (B) at a step
  (`differ_rows`); B defaults to this text with the word at the step swapped (`other_text`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from seqviz.core.token_display import display_token
from seqviz.core.trace import Trace
from seqviz.core.unit_search import (
    UnitDifference,
    UnitScore,
    copy_values,
    match_steps,
    rank_difference,
    searchable_arrays,
    select_units,
    unit_values,
)

SELECT, DIFFER = "select", "differ"
AT_STEP, ONWARD = "at", "onward"  # copy B's values at the step only, or from the step to the end
HEADERS = {
    SELECT: ("Unit", "Score", "Inside", "Outside"),
    DIFFER: ("Unit", "B \u2212 A", "A", "B"),
}


@dataclass(frozen=True)
class Ranking:
    """What the table shows: one mode's ranked units and the line that says what was ranked."""

    mode: str
    rows: tuple[UnitScore | UnitDifference, ...]
    array: str
    layer: int
    direction: int
    title: str
    usual: dict[int, float] = field(default_factory=dict)  # Differ: each unit's mean over A's other steps

    @property
    def units(self) -> list[int]:
        return [row.unit for row in self.rows]

    def cells(self, i: int) -> tuple[str, str, str, str]:
        """Row i as the table's four texts."""
        row = self.rows[i]
        if isinstance(row, UnitScore):
            return str(row.unit), f"{row.score:+.2f}", f"{row.inside:+.3f}", f"{row.outside:+.3f}"
        return str(row.unit), f"{row.difference:+.3f}", f"{row.value_a:+.3f}", f"{row.value_b:+.3f}"


def array_choices(trace: Trace) -> list[str]:
    """The arrays whose units can be ranked, `hidden` first."""
    names = searchable_arrays(trace)
    return sorted(names, key=lambda name: name != "hidden")


def token_at(trace: Trace, step: int) -> str:
    return trace.tokens[step - 1] if 1 <= step <= trace.num_steps else "?"


def select_rows(
    trace: Trace, first: int, last: int, array: str, layer: int, direction: int, top: int
) -> Ranking:
    """Rank the units on within steps first..last (1-based, inclusive) and off at the other steps."""
    first, last = sorted((first, last))
    rows = select_units(trace, range(first - 1, last), array=array, layer=layer, direction=direction, top=top)
    word = display_token(token_at(trace, first))
    span = f"step {first} '{word}'" if first == last else f"steps {first}\u2013{last}"
    title = f"{array}, layer {layer + 1}: on at {span}, off elsewhere (score: mean difference / spread)"
    return Ranking(SELECT, tuple(rows), array, layer, direction, title)


def differ_rows(
    trace_a: Trace, trace_b: Trace, step: int, array: str, layer: int, direction: int, top: int
) -> Ranking:
    """Rank the units by |B - A| at `step` (1-based) of both runs."""
    rows = rank_difference(trace_a, trace_b, step - 1, array=array, layer=layer, direction=direction, top=top)
    words = (
        f"'{display_token(token_at(trace_a, step))}' (A) vs '{display_token(token_at(trace_b, step))}' (B)"
    )
    title = f"{array}, layer {layer + 1}: differ most at step {step}, {words}"
    values = unit_values(trace_a, array, layer, direction)  # (T, H)
    others = np.delete(values, step - 1, axis=0) if len(values) > 1 else values
    usual = {row.unit: float(others[:, row.unit].mean()) for row in rows}
    return Ranking(DIFFER, tuple(rows), array, layer, direction, title, usual)


def text_of(tokens: Sequence[str]) -> str:
    """Tokens as text: words with spaces between them, characters without."""
    return "".join(tokens) if all(len(t) <= 1 for t in tokens) else " ".join(tokens)


def other_text(
    trace: Trace, step: int, special: Sequence[str] = (), decode: Callable[[list[int]], str] | None = None
) -> str:
    """This run's text with the token at `step` (1-based) swapped for the model's next best guess
    (`next_guess`); the text unchanged when the model does not guess its own tokens. `decode` (the
    model's, ids to text) writes the text of a trace that records its token ids (a tokenizer's pieces
    do not read as words joined by spaces), without the special tokens the tokenizer adds at either end.
    `decode` reads output ids: it writes the input ids only of models whose outputs are their own
    vocabulary (language models, masked or not, and models without a head); a tagger's or a
    classifier's outputs are tags and classes, and its text is written from its tokens."""
    guess = next_guess(trace, step, special)
    ids = list(trace.meta.token_ids)
    outputs_are_inputs = trace.meta.task in ("lm", "mlm", "")
    if (
        decode is not None
        and outputs_are_inputs
        and len(ids) == trace.num_steps
        and not trace.meta.source_ids
    ):
        swapped = step - 1 if guess is not None else -1
        if guess is not None:
            ids[swapped] = guess
        first, last = 0, len(ids)
        while first < last and trace.tokens[first] in special and first != swapped:
            first += 1
        while last > first and trace.tokens[last - 1] in special and last - 1 != swapped:
            last -= 1
        try:
            return decode(ids[first:last])
        except TypeError:  # a bare module on ids has no vocabulary to decode with: its tokens below
            pass
    tokens = list(trace.tokens)
    if guess is not None:
        tokens[step - 1] = trace.meta.output_labels[guess]
    return text_of(tokens)


def next_guess(trace: Trace, step: int, special: Sequence[str] = ()) -> int | None:
    """The output id of the model's most likely other token at `step` (1-based): a language model's
    prediction one step earlier, a masked language model's at the step itself; from `probs`, or from
    `top_ids` (large vocabularies, Hugging Face). None without such a head or prediction."""
    row = {"lm": step - 2, "mlm": step - 1}.get(trace.meta.task)
    if row is None or not 0 <= row < trace.num_steps or not 1 <= step <= trace.num_steps:
        return None
    if "probs" in trace:
        candidates = np.argsort(-trace["probs"][row], kind="stable")
    elif "top_ids" in trace:
        candidates = np.asarray(trace["top_ids"][row])  # most probable first
    else:
        return None
    word, labels = trace.tokens[step - 1], trace.meta.output_labels
    for index in candidates:
        guess = labels[int(index)]
        if guess != word and guess not in special and any(c.isalnum() for c in guess):
            return int(index)
    return None


def first_difference(a: Sequence[str], b: Sequence[str]) -> int | None:
    """The first step (1-based) where two token lists differ, or None if they are equal."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i + 1
    return None if len(a) == len(b) else min(len(a), len(b)) + 1


def match_marks(trace: Trace, ranking: Ranking, units: Sequence[int], min_fraction: float) -> list[int]:
    """The steps (1-based) where at least `min_fraction` of `units` (rows of `ranking`) are on in
    `trace`: past the midpoint between their inside and outside means (see `reference_units`)."""
    chosen = restricted(ranking, [row for row in ranking.rows if row.unit in set(units)])
    fraction = match_steps(
        trace, reference_units(chosen), array=ranking.array, layer=ranking.layer, direction=ranking.direction
    )
    return [int(s) + 1 for s in np.flatnonzero(fraction >= min_fraction - 1e-9)]


def restricted(ranking: Ranking, rows: Sequence[UnitScore | UnitDifference]) -> Ranking:
    """`ranking` with only `rows` (the chosen ones)."""
    return replace(ranking, rows=tuple(rows))


def reference_units(ranking: Ranking) -> list[UnitScore]:
    """The rows as seqviz.core.unit_search.match_steps takes them. A Differ row is on where the unit is
    as it was in A at the step, against its usual value in A: "inside" is A's value there, "outside"
    its mean over A's other steps (where else this text's state at the step shows: the country held
    on to, the examples of the same language)."""
    return [
        row
        if isinstance(row, UnitScore)
        else UnitScore(row.unit, row.difference, row.value_a, ranking.usual[row.unit])
        for row in ranking.rows
    ]


def describe_steps(trace: Trace, steps: Sequence[int], limit: int = 12) -> str:
    """ "5 'france', 17 'i'" for the first `limit` steps (1-based), "…" after them."""
    parts = [f"{s} '{display_token(token_at(trace, s))}'" for s in steps[:limit]]
    return ", ".join(parts) + (", \u2026" if len(steps) > limit else "") if parts else "nowhere"


def transplant(
    ranking: Ranking, trace_b: Trace, units: Sequence[int], step: int, num_steps: int, when: str
) -> list:
    """One edit (seqviz.edits, in a list) that sets `units` of the ranked array to B's values at
    `step` (1-based), or from `step` to the last step both runs have (`when` ONWARD): its value is
    the (steps, units) array of B's values."""
    last = min(num_steps, trace_b.num_steps) if when == ONWARD else step
    return copy_values(
        trace_b,
        units,
        range(step - 1, last),
        array=ranking.array,
        layer=ranking.layer,
        direction=ranking.direction,
    )


def edit_note(trace: Trace, ranking: Ranking, when: str, edit) -> str:
    """One line on the edit Set to B's values makes (steps 1-based); for an LSTM's hidden units at one
    step, why the model may forget them (it computes h_t+1 from its cell, which the edit leaves as
    it was)."""
    first, last = edit.steps[0] + 1, edit.steps[-1] + 1
    where = f"at step {first}" if first == last else f"at steps {first}\u2013{last}"
    count = len(edit.units)
    note = f"One edit: {count} {ranking.array} unit{'s' * (count != 1)} set to B's values {where}"
    if when == AT_STEP and ranking.array == "hidden" and "cell" in trace:
        note += (
            ". An LSTM computes its next h from its cell, which keeps A's values: "
            "set the cell (Array: cell), or from here on, to carry B's state on."
        )
    return note
