"""Unit search (seqviz.core.unit_search): hand-made traces whose answer is known, and the bundled
long-range models, where the units that differ between "france" and "spain" carry the country: copying
them from the Spain run into the France run makes the model predict "spanish"."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

import seqviz
from seqviz.core.adapters import open_model
from seqviz.core.unit_search import (
    UnitScore,
    copy_values,
    match_steps,
    match_texts,
    rank_difference,
    select_units,
)
from seqviz.edits import ClampGate, SetCell, SetHidden

FRANCE = "i was born in france . the dog slept . we like the old book . i speak fluent"
SPAIN = FRANCE.replace("france", "spain")
COUNTRY = 4  # the 0-based step of "france" / "spain"


def hand_trace(T: int = 12, H: int = 6, layers: int = 2, seed: int = 0) -> seqviz.Trace:
    """Noise ~0.05 everywhere; in the top layer unit 2 is +1 at steps 3-5, unit 4 is -1 there (on by
    being low), unit 5 swings by 1 at every step (busy, never specific)."""
    rng = np.random.default_rng(seed)
    hidden = rng.normal(0, 0.05, (T, layers, 1, H)).astype(np.float32)
    hidden[3:6, -1, 0, 2] += 1.0
    hidden[3:6, -1, 0, 4] -= 1.0
    hidden[:, -1, 0, 5] += np.where(np.arange(T) % 2, 1.0, -1.0)
    cell = hidden * 3  # a cell-like array on another scale
    return seqviz.Trace({"hidden": hidden, "cell": cell}, tokens=[f"w{t}" for t in range(T)])


def test_select_ranks_the_units_on_inside_and_off_outside_both_signs():
    ranking = select_units(hand_trace(), range(3, 6), top=3)
    assert {r.unit for r in ranking[:2]} == {2, 4}
    by_unit = {r.unit: r for r in ranking}
    assert by_unit[2].score > 2 and by_unit[2].sign == 1
    assert by_unit[4].score < -2 and by_unit[4].sign == -1  # low inside is "on" too
    assert by_unit[2].inside == pytest.approx(1.0, abs=0.1) and by_unit[2].outside == pytest.approx(
        0, abs=0.05
    )
    assert all(abs(r.score) < 1 for r in select_units(hand_trace(), range(3, 6), top=None)[2:])  # unit 5 too


def test_select_reads_the_chosen_array_layer_and_scale_free():
    tr = hand_trace()
    hidden = select_units(tr, [3, 4, 5], top=None)
    cell = select_units(tr, [3, 4, 5], array="cell", top=None)
    assert [r.unit for r in hidden] == [r.unit for r in cell]  # x3 changes no standardised score
    assert [r.score for r in hidden] == pytest.approx([r.score for r in cell], rel=1e-5)
    assert max(abs(r.score) for r in select_units(tr, [3, 4, 5], layer=0)) < 2.5


def test_select_a_constant_unit_scores_zero_and_bad_input_says_what_to_do():
    tr = hand_trace()
    tr["hidden"][:, -1, 0, 1] = 0.7
    assert next(r for r in select_units(tr, [3], top=None) if r.unit == 1).score == 0
    with pytest.raises(ValueError, match="covers every step"):
        select_units(tr, range(12))
    with pytest.raises(ValueError, match="steps are 0..11"):
        select_units(tr, [12])
    with pytest.raises(ValueError, match="select at least one step"):
        select_units(tr, [])
    with pytest.raises(ValueError, match="no 'forget_gate' array.*hidden, cell"):
        select_units(tr, [3], array="forget_gate")
    with pytest.raises(ValueError, match="layers 0..1"):
        select_units(tr, [3], layer=2)


def test_transformer_hidden_is_searched_like_any_other_array():
    T, L, d = 9, 3, 16
    rng = np.random.default_rng(1)
    hidden = rng.normal(0, 0.1, (T, L, 1, d)).astype(np.float32)
    hidden[6:8, 1, 0, 11] += 2.0
    tr = seqviz.Trace({"hidden": hidden, "attention": rng.random((L, 2, T, T)).astype(np.float32)})
    assert select_units(tr, [6, 7], layer=1, top=1)[0].unit == 11
    with pytest.raises(ValueError, match="'attention' has shape"):
        select_units(tr, [6], array="attention")


def test_match_finds_where_else_the_units_switch_on():
    tr = hand_trace(T=20)
    tr["hidden"][14:16, -1, 0, 2] += 1.0  # later, both units switch on again
    tr["hidden"][14:16, -1, 0, 4] -= 1.0
    tr["hidden"][18, -1, 0, 2] += 1.0  # and unit 2 alone once
    units = select_units(tr, range(3, 6), top=2)
    fraction = match_steps(tr, units)
    assert fraction.shape == (20,) and fraction.dtype == np.float32
    assert np.flatnonzero(fraction == 1).tolist() == [3, 4, 5, 14, 15]
    assert fraction[18] == 0.5
    assert np.flatnonzero(match_steps(tr, [2], threshold=0.5) == 1).tolist() == [3, 4, 5, 14, 15, 18]
    assert np.flatnonzero(match_steps(tr, units, threshold=0.5)).tolist() == [3, 4, 5, 14, 15, 18]
    with pytest.raises(ValueError, match="give a threshold"):
        match_steps(tr, [2])
    with pytest.raises(ValueError, match="units 0..5"):
        match_steps(tr, [UnitScore(9, 1.0, 1.0, 0.0)])


def test_rank_difference_finds_the_units_that_differ_at_a_step():
    a, b = hand_trace(seed=0), hand_trace(seed=0)
    b["hidden"][7, -1, 0, 3] += 0.8
    b["hidden"][7, -1, 0, 0] -= 0.5
    ranking = rank_difference(a, b, 7, top=2)
    assert [r.unit for r in ranking] == [3, 0]
    assert ranking[0].difference == pytest.approx(0.8, abs=1e-6)
    assert ranking[1].value_b - ranking[1].value_a == pytest.approx(-0.5, abs=1e-6)
    assert rank_difference(b, b, 7, 7, top=1)[0].difference == 0
    assert rank_difference(a, b, 9, 7, top=1)[0].unit == 3  # steps 9 and 7: unit 5 is +1 at both
    with pytest.raises(ValueError, match="step_b 30 is out of range"):
        rank_difference(a, b, 7, 30)


def test_copy_values_makes_one_edit_of_the_right_kind_holding_every_value():
    tr = hand_trace()
    edits = copy_values(tr, [4, 2], range(10, 12), layer=-1)
    assert len(edits) == 1 and isinstance(edits[0], SetHidden) and edits[0].layer == 1
    assert (edits[0].units, edits[0].steps) == ((2, 4), (10, 11))
    np.testing.assert_array_equal(edits[0].value_array(), tr["hidden"][10:12, 1, 0][:, [2, 4]])
    assert edits[0].describe() == "hidden of layer 1, units 2,4 = 2\u00d72 values at steps 10,11"
    assert isinstance(copy_values(tr, [2], [3], array="cell")[0], SetCell)
    gates = seqviz.Trace({"forget_gate": tr["hidden"]}, tokens=tr.tokens)
    assert isinstance(copy_values(gates, [2], [3], array="forget_gate")[0], ClampGate)
    with pytest.raises(ValueError, match="unit 6 is out of range: hidden has units 0..5"):
        copy_values(tr, [2, 6], [3])


def one_per_unit_and_step(edit) -> list:
    """The edit as single-value edits, one per unit and step (what copy_values used to return)."""
    grid = edit.value_array()
    return [
        dataclasses.replace(edit, units=[u], steps=[t], value=float(grid[i, j]))
        for i, t in enumerate(edit.steps)
        for j, u in enumerate(edit.units)
    ]


# The bundled long-range models: the country lives in a few units.


def predicted(model, trace) -> str:
    return model.output_labels[int(trace["probs"][-1].argmax())]


@pytest.fixture(scope="module", params=["longrange-lstm", "longrange-gru", "longrange-rnn"])
def longrange(request):
    model = open_model(seqviz.load_model(request.param), source=request.param)
    return model, model.trace(FRANCE), model.trace(SPAIN)


def test_the_longrange_models_predict_the_language_of_the_country(longrange):
    model, france, spain = longrange
    assert (predicted(model, france), predicted(model, spain)) == ("french", "spanish")


# How many of the differing units carry the country, measured over every ordered pair of the 8 countries
# (France -> Spain, Spain -> Japan, ...): the LSTM's 10 top cell units at the country step alone (its
# hidden units at that step alone flip none of them: h_t+1 is computed from the cell, which keeps the
# first country), the GRU's 20 top hidden units at that step (10 flip 54 of 56 pairs), the RNN's 20
# top hidden units only when they follow the other run from there on (at the step alone: 19 of 30).
COPIES = {
    "longrange-lstm": ("cell", 10, "at"),
    "longrange-gru": ("hidden", 20, "at"),
    "longrange-rnn": ("hidden", 20, "onward"),
}
LANGUAGES = {
    "france": "french",
    "spain": "spanish",
    "italy": "italian",
    "germany": "german",
    "japan": "japanese",
    "china": "chinese",
    "england": "english",
    "portugal": "portuguese",
}


def test_copying_the_units_that_differ_at_the_country_flips_the_language(longrange):
    model, _, _ = longrange
    array, top, when = COPIES[model.source]
    runs = {country: model.trace(FRANCE.replace("france", country)) for country in LANGUAGES}
    known = [c for c, run in runs.items() if predicted(model, run) == LANGUAGES[c]]
    assert len(known) >= 6  # the RNN gets 6 of the 8 right, the others all
    for a, b in itertools.permutations(known, 2):
        ranking = rank_difference(runs[a], runs[b], COUNTRY, array=array, top=top)
        steps = [COUNTRY] if when == "at" else range(COUNTRY, len(runs[a].tokens))
        edits = copy_values(runs[b], [r.unit for r in ranking], steps, array=array)
        edited = model.trace(FRANCE.replace("france", a), edits=edits)
        assert predicted(model, edited) == LANGUAGES[b], f"{a} -> {b}"
        singles = model.trace(FRANCE.replace("france", a), edits=one_per_unit_and_step(edits[0]))
        np.testing.assert_allclose(edited["probs"], singles["probs"], rtol=0, atol=1e-6)


def test_one_unit_is_not_enough(longrange):
    model, france, spain = longrange
    array, _, when = COPIES[model.source]
    ranking = rank_difference(france, spain, COUNTRY, array=array, top=1)
    steps = [COUNTRY] if when == "at" else range(COUNTRY, len(france.tokens))
    edits = copy_values(spain, [ranking[0].unit], steps, array=array)
    assert predicted(model, model.trace(FRANCE, edits=edits)) != "spanish"


def test_an_lstm_forgets_hidden_units_set_at_one_step():
    model = open_model(seqviz.load_model("longrange-lstm"), source="longrange-lstm")
    france, spain = model.trace(FRANCE), model.trace(SPAIN)
    units = [r.unit for r in rank_difference(france, spain, COUNTRY, top=20)]
    edited = model.trace(FRANCE, edits=copy_values(spain, units, [COUNTRY]))
    assert predicted(model, edited) == "french"  # h_t+1 comes from the cell, still France's


def test_select_the_country_step_and_match_it_in_the_examples():
    model = open_model(seqviz.load_model("longrange-lstm"), source="longrange-lstm")
    france = model.trace(FRANCE)
    units = select_units(france, [COUNTRY], top=5)
    assert match_steps(france, units)[COUNTRY] == 1.0
    matches = match_texts(model, [FRANCE, "i was born in france . i speak fluent"], units)
    assert [m.text for m in matches] == [FRANCE, "i was born in france . i speak fluent"]
    assert COUNTRY in matches[0].steps and COUNTRY in matches[1].steps
    assert matches[1].tokens[COUNTRY] == "france" and matches[1].fraction.shape == (9,)
