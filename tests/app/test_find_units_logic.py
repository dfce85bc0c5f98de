"""The Find units panel's logic without Qt (seqviz.app.panels.find_units_logic, token_marks' parsing):
1-based steps, the rows the table shows, B's default text, where the units match, the edits."""

from __future__ import annotations

import numpy as np
import pytest

import seqviz
from seqviz.app.panels import find_units_logic as logic
from seqviz.app.panels import token_marks
from seqviz.core.trace_meta import TraceMeta
from seqviz.edits import SetCell, SetHidden

WORDS = ["i", "was", "born", "in", "france", ".", "i", "speak"]


def word_trace(seed: int = 0, country: str = "france") -> seqviz.Trace:
    """An LSTM-shaped trace: unit 3 is on at 'france' (step 5); a language model head over WORDS."""
    rng = np.random.default_rng(seed)
    T, H = len(WORDS), 6
    hidden = rng.normal(0, 0.05, (T, 1, 1, H)).astype(np.float32)
    hidden[4, 0, 0, 3] = 0.9 if country == "france" else -0.9
    probs = np.full((T, 4), 0.1, np.float32)
    probs[3] = [0.05, 0.6, 0.3, 0.05]  # after "in": france, then spain
    labels = ("</s>", "france", "spain", ".")
    meta = TraceMeta(arch="lstm", task="lm", output_labels=labels, model_id="toy")
    tokens = [country if w == "france" else w for w in WORDS]
    return seqviz.Trace({"hidden": hidden, "cell": hidden * 2, "probs": probs}, tokens=tokens, meta=meta)


def test_select_rows_take_the_window_s_1_based_steps_and_say_what_they_rank():
    ranking = logic.select_rows(word_trace(), 5, 5, "hidden", 0, 0, top=3)
    assert ranking.units[0] == 3 and ranking.mode == logic.SELECT
    assert "step 5 'france'" in ranking.title and "layer 1" in ranking.title
    unit, score, inside, outside = ranking.cells(0)
    assert unit == "3" and score.startswith("+") and inside == "+0.900"
    assert logic.select_rows(word_trace(), 6, 4, "hidden", 0, 0, top=3).title.count("steps 4\u20136") == 1


def test_differ_rows_rank_b_minus_a_at_the_step():
    ranking = logic.differ_rows(word_trace(), word_trace(country="spain"), 5, "hidden", 0, 0, top=2)
    assert ranking.units[0] == 3 and ranking.rows[0].difference == pytest.approx(-1.8)
    assert ranking.cells(0) == ("3", "-1.800", "+0.900", "-0.900")
    assert "'france' (A) vs 'spain' (B)" in ranking.title


def test_the_second_text_swaps_the_word_for_the_model_s_next_best_guess():
    trace = word_trace()
    assert logic.other_text(trace, 5) == "i was born in spain . i speak"
    assert logic.other_text(trace, 1) == " ".join(WORDS)  # nothing predicted the first word
    assert logic.text_of(list("ab c")) == "ab c"  # characters join without spaces
    assert logic.first_difference(WORDS, [*WORDS[:4], "spain", *WORDS[5:]]) == 5
    assert logic.first_difference(WORDS, WORDS) is None
    assert logic.first_difference(WORDS, WORDS[:3]) == 4


def test_match_marks_where_the_units_are_on_again():
    trace = word_trace()
    trace["hidden"][7, 0, 0, 3] = 0.8  # "speak": unit 3 on again
    ranking = logic.select_rows(trace, 5, 5, "hidden", 0, 0, top=3)
    assert logic.match_marks(trace, ranking, [3], 1.0) == [5, 8]
    assert logic.describe_steps(trace, [5, 8]) == "5 'france', 8 'speak'"
    assert logic.describe_steps(trace, []) == "nowhere"
    differ = logic.differ_rows(trace, word_trace(country="spain"), 5, "hidden", 0, 0, top=1)
    assert logic.match_marks(trace, differ, [3], 1.0) == [5, 8]  # as in A at 'france', against usual
    assert logic.match_marks(word_trace(country="spain"), differ, [3], 1.0) == []
    assert logic.restricted(ranking, ranking.rows[:1]).units == [3]


def test_transplant_copies_b_at_the_step_or_onward():
    a, b = word_trace(), word_trace(country="spain")
    ranking = logic.differ_rows(a, b, 5, "cell", 0, 0, top=2)
    at = logic.transplant(ranking, b, [3], 5, a.num_steps, logic.AT_STEP)
    assert at == [SetCell(0, [3], [4], float(b["cell"][4, 0, 0, 3]))]
    assert (
        logic.edit_note(a, ranking, logic.AT_STEP, at[0])
        == "One edit: 1 cell unit set to B's values at step 5"
    )
    differ = logic.differ_rows(a, b, 5, "hidden", 0, 0, 2)
    onward = logic.transplant(differ, b, [3, 1], 5, 8, logic.ONWARD)
    assert len(onward) == 1 and isinstance(onward[0], SetHidden)  # one edit, not one per unit and step
    assert onward[0].units == (1, 3) and onward[0].steps == (4, 5, 6, 7)
    np.testing.assert_array_equal(onward[0].value_array(), b["hidden"][4:8, 0, 0][:, [1, 3]])
    note = logic.edit_note(a, differ, logic.ONWARD, onward[0])
    assert note == "One edit: 2 hidden units set to B's values at steps 5\u20138"


def test_token_marks_parse_what_the_strip_and_the_panel_write():
    assert token_marks.parse_span("3-5") == (3, 5) and token_marks.parse_span("4") == (4, 4)
    assert token_marks.parse_span("5-3") == (3, 5) and token_marks.parse_span(
        token_marks.span_text(7, 2)
    ) == (2, 7)
    assert token_marks.parse_span("") is None and token_marks.parse_span("x") is None
    assert token_marks.parse_span("0-2") is None
    assert token_marks.parse_steps("5,17, x,0") == {5, 17}
    assert token_marks.parse_steps(None) == frozenset()


def test_array_choices_put_hidden_first_and_leave_out_attention():
    trace = word_trace()
    assert logic.array_choices(trace) == ["hidden", "cell"]


def top_k_trace(task: str, tokens: list[str], top_ids: list[list[int]], labels: tuple[str, ...], ids=()):
    T = len(tokens)
    meta = TraceMeta(arch="transformer", task=task, output_labels=labels, token_ids=tuple(ids))
    arrays = {
        "hidden": np.zeros((T, 1, 1, 2), np.float32),
        "top_ids": np.asarray(top_ids, np.int32),
        "top_probs": np.full((T, len(top_ids[0])), 0.1, np.float32),
    }
    return seqviz.Trace(arrays, tokens=tokens, meta=meta)


def test_top_k_traces_swap_in_the_model_s_next_best_guess():
    """Large vocabularies and Hugging Face models keep top_ids, not probs: B still gets the guess."""
    labels = ("</s>", "france", "spain", ".", "i", "was", "born", "in")
    tokens = ["i", "was", "born", "in", "france"]
    words = top_k_trace("lm", tokens, [[0, 3, 4]] * 3 + [[1, 0, 2]] + [[3, 0, 4]], labels)  # after "in"
    assert logic.other_text(words, 5, special=("</s>",)) == "i was born in spain"
    assert logic.next_guess(words, 1) is None  # nothing predicted the first word


def test_pieces_are_written_back_by_the_model_s_decode_without_the_added_special_tokens():
    labels = ("[CLS]", "[SEP]", "[MASK]", "the", "cat", "dog", "sat", "##s")
    tokens = ["[CLS]", "the", "cat", "##s", "sat", "[SEP]"]
    ids = [0, 3, 4, 7, 6, 1]
    masked = top_k_trace("mlm", tokens, [[0, 1, 2]] * 2 + [[4, 5, 1]] + [[7, 0, 1]] * 3, labels, ids)

    def decode(chosen: list[int]) -> str:
        return " ".join(labels[i] for i in chosen).replace(" ##", "")

    special = ("[CLS]", "[SEP]", "[MASK]")
    assert logic.other_text(masked, 3, special, decode) == "the dogs sat"  # a masked LM guesses in place
    assert logic.other_text(masked, 1, special, decode) == "the cats sat"  # no guess: the text itself
    assert logic.other_text(masked, 3, special) == "[CLS] the dog ##s sat [SEP]"  # without decode: tokens


def test_a_tagger_s_second_text_is_its_own_text_not_its_ids_read_as_tags():
    """A tagger's outputs are tags: its input ids must not be decoded as output ids (pos-transformer's ids
    ran past its 17 tags: an IndexError on every step)."""
    tags = ("DET", "NOUN", "VERB")
    tokens = ["the", "cook", "found", "a", "book"]
    meta = TraceMeta(arch="transformer", task="tag", output_labels=tags, token_ids=(11, 40, 23, 2, 57))
    trace = seqviz.Trace({"hidden": np.zeros((5, 1, 1, 2), np.float32)}, tokens=tokens, meta=meta)

    def decode(chosen: list[int]) -> str:
        return " ".join(tags[i] for i in chosen)

    assert logic.other_text(trace, 2, (), decode) == "the cook found a book"
