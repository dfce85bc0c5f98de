"""What a right-click offers and how the app keeps its list of edits, without Qt: the menu entries for
each architecture (seqviz.app.panels.edit_choices) and the list's descriptions, changes, fitting to
another text and scene-file form (seqviz.app.viewer.what_if)."""

from __future__ import annotations

import json

import pytest
from traces import encoder_decoder_trace, gru_trace, lstm_trace, rnn_trace, transformer_trace

from seqviz.app.panels.edit_choices import from_here, head_choices, unit_choices
from seqviz.app.viewer import what_if
from seqviz.edits import AblateHead, ClampGate, ScaleRecurrent, SetCell, SetHidden


def offered(choices) -> dict[str, object]:
    return {choice.label: choice.edit for choice in choices}


def test_an_lstm_offers_gate_clamps_and_sets_from_the_clicked_step_on():
    trace = lstm_trace(T=12, num_layers=2, hidden_size=8)
    steps = range(4, 12)  # step 5 (1-based) to the end, as 0-based indices
    assert offered(unit_choices(trace, "forget_gate", 1, 0, 3, 5)) == {
        "Clamp the forget gate of unit 3 (layer 2) to 1 from step 5 on": ClampGate(
            "forget_gate", 1, [3], steps, 1.0
        ),
        "Clamp the forget gate of unit 3 (layer 2) to 0 from step 5 on": ClampGate(
            "forget_gate", 1, [3], steps, 0.0
        ),
    }
    assert offered(unit_choices(trace, "candidate", 0, 0, 2, 12)) == {
        "Set the candidate of unit 2 (layer 1) to 0 at step 12": ClampGate("candidate", 0, [2], [11], 0.0),
        "Set the cell of unit 2 (layer 1) to 0 at step 12": SetCell(0, [2], [11], 0.0),
    }
    here = float(trace["hidden"][4, 0, 0, 6])
    hidden = offered(unit_choices(trace, "hidden", 0, 0, 6, 5))
    assert list(hidden.values()) == [SetHidden(0, [6], steps, 0.0), SetHidden(0, [6], steps, here)]
    assert list(hidden)[1] == f"Hold unit 6 of h (layer 1) at {here:.3g} (its value here) from step 5 on"
    cell = list(offered(unit_choices(trace, "cell", 0, 0, 6, 5)).values())
    assert cell == [SetCell(0, [6], steps, 0.0), SetCell(0, [6], steps, float(trace["cell"][4, 0, 0, 6]))]


def test_a_gru_offers_its_own_gates_and_no_cell():
    trace = gru_trace(T=6, num_layers=1, hidden_size=4)
    assert list(offered(unit_choices(trace, "update_gate", 0, 0, 1, 2)).values()) == [
        ClampGate("update_gate", 0, [1], range(1, 6), 1.0),
        ClampGate("update_gate", 0, [1], range(1, 6), 0.0),
    ]
    assert list(offered(unit_choices(trace, "candidate", 0, 0, 1, 2))) == [
        "Set the candidate of unit 1 to 0 from step 2 on"  # one layer: no layer named
    ]


def test_a_plain_rnn_offers_hidden_units_only_and_a_transformer_heads_only():
    rnn = rnn_trace(T=5, num_layers=1, hidden_size=4)
    assert [type(c.edit) for c in unit_choices(rnn, "hidden", 0, 0, 0, 1)] == [SetHidden, SetHidden]
    assert unit_choices(rnn, "forget_gate", 0, 0, 0, 1) == []
    assert head_choices(rnn, "attention", 0, 0) == []
    transformer = transformer_trace(T=6, num_layers=2, num_heads=4)
    assert unit_choices(transformer, "hidden", 0, 0, 0, 1) == []  # Transformers refuse value edits
    assert offered(head_choices(transformer, "attention", 1, 2)) == {
        "Ablate head 3 of layer 2 (its output zeroed)": AblateHead(1, 2)
    }
    seq2seq = encoder_decoder_trace()
    assert list(offered(head_choices(seq2seq, "cross_attention", 0, 1)).values()) == [
        AblateHead(0, 1, attention="cross")
    ]


def test_the_backward_direction_edits_from_the_clicked_step_back_to_the_first():
    trace = lstm_trace(T=8, num_layers=1, hidden_size=4, bidirectional=True)
    assert from_here(5, 8, direction=1) == range(0, 5)
    choices = offered(unit_choices(trace, "forget_gate", 0, 1, 2, 5))
    assert choices["Clamp the forget gate of unit 2 (backward) to 1 from step 5 back to step 1"] == ClampGate(
        "forget_gate", 0, [2], range(5), 1.0, direction=1
    )


def test_clicks_outside_the_arrays_offer_nothing():
    trace = lstm_trace(T=4, hidden_size=3)
    assert unit_choices(trace, "hidden", 0, 0, 3, 1) == []  # unit 3 of 0-2
    assert unit_choices(trace, "hidden", 0, 0, 0, 5) == []  # step 5 of 1-4
    assert unit_choices(trace, "probs", 0, 0, 0, 1) == []


def test_descriptions_number_layers_heads_and_steps_as_the_panels_do():
    assert what_if.describe(ClampGate("forget_gate", 0, [3, 5], range(4, 10), 1.0)) == (
        "forget gate of units 3,5, layer 1 = 1 at steps 5\u201310"
    )
    assert what_if.describe(SetHidden(1, [2], [0], 0.0, direction=1)) == (
        "h of unit 2, layer 2 (backward) = 0 at step 1"
    )
    assert (
        what_if.describe(AblateHead(0, 2, attention="cross")) == "cross-attention head 3 of layer 1 ablated"
    )
    assert what_if.describe(ScaleRecurrent(1.5)) == "W_hh \u00d7 1.5"


def test_a_list_changes_by_adding_removing_and_setting_the_scale():
    clamp, hold = ClampGate("forget_gate", 0, [1], [2], 1.0), SetHidden(0, [1], [2], 0.5)
    edits = what_if.added(what_if.added((), clamp), hold)
    assert what_if.added(edits, clamp) == (hold, clamp)  # the same edit again moves last: it wins
    assert what_if.removed(edits, 0) == (hold,)
    with pytest.raises(what_if.EditProblem, match="no edit 2 to remove"):
        what_if.removed(edits, 2)
    with pytest.raises(what_if.EditProblem, match="is not an edit"):
        what_if.added(edits, "forget gate")
    scaled = what_if.with_scale(edits, 2.0)
    assert scaled == (clamp, hold, ScaleRecurrent(2.0)) and what_if.scale_of(scaled) == 2.0
    assert what_if.with_scale((ScaleRecurrent(2.0), clamp), 0.5) == (ScaleRecurrent(0.5), clamp)
    assert what_if.with_scale(scaled, 1.0) == edits and what_if.scale_of(edits) == 1.0


def test_edits_follow_the_text_to_its_end_and_are_cut_or_dropped_when_it_is_shorter():
    to_end = ClampGate("forget_gate", 0, [1], range(3, 8), 1.0)  # made for 8 steps: 4..8 (1-based)
    middle = SetHidden(0, [2], [4, 5], 0.0)
    scale = ScaleRecurrent(2.0)
    longer, dropped = what_if.fit_to_length((to_end, middle, scale), 8, 10)
    assert longer == (ClampGate("forget_gate", 0, [1], range(3, 10), 1.0), middle, scale) and dropped == ()
    shorter, dropped = what_if.fit_to_length((to_end, middle, scale), 8, 5)
    assert shorter == (ClampGate("forget_gate", 0, [1], [3, 4], 1.0), SetHidden(0, [2], [4], 0.0), scale)
    _, dropped = what_if.fit_to_length((middle,), 8, 3)
    assert dropped == ("h of unit 2, layer 1 = 0 at steps 5,6",)


def test_an_edit_is_a_small_json_object_and_bad_ones_are_refused_in_one_line():
    for edit in (
        ClampGate("forget_gate", 1, [3, 4], range(2, 6), 1.0, direction=1),
        SetHidden(0, [1], [0], -0.5),
        SetCell(0, [2], [3], 0.25),
        ScaleRecurrent(2.5),
        ScaleRecurrent(0.5, layer=1),
        AblateHead(1, 0, attention="cross"),
    ):
        data = what_if.to_dict(edit)
        assert data["kind"] == type(edit).__name__ and what_if.from_dict(data) == edit
    assert what_if.to_dict(SetCell(0, [2], [3], 0.25)) == {
        "kind": "SetCell",
        "layer": 0,
        "units": [2],
        "steps": [3],
        "value": 0.25,
        "direction": 0,
    }
    bad = [
        ({"kind": "Explode"}, 'an edit needs a "kind" of ClampGate'),
        ([1, 2], 'an edit needs a "kind"'),
        (
            {"kind": "SetHidden", "layer": 0, "units": [1], "steps": [0], "value": 0, "colour": 1},
            "no field colour",
        ),
        ({"kind": "SetHidden", "layer": 0, "units": [-1], "steps": [0], "value": 0}, "0-based"),
        (
            {"kind": "ClampGate", "gate": "forget", "layer": 0, "units": [1], "steps": [0], "value": 1},
            "unknown gate",
        ),
        ({"kind": "SetCell", "layer": 0, "units": [1], "steps": [0]}, "SetCell: .*value"),
        ({"kind": "ScaleRecurrent", "factor": "2"}, "finite number"),
        ({"kind": "AblateHead", "layer": 0, "head": 1, "attention": "sideways"}, "attention is one of"),
    ]
    for data, message in bad:
        with pytest.raises(what_if.EditProblem, match=message) as caught:
            what_if.from_dict(data)
        assert "\n" not in str(caught.value)


def test_an_array_edit_is_one_line_one_json_object_and_is_cut_but_never_extended():
    """B's values copied from here on (Find units): one edit, described in one line, numbered as the
    panels number things; saved as rows of values; cut with its rows when the text gets shorter, and
    not extended when it gets longer (there are no B values for new steps), unlike one value per unit."""
    values = [[0.5, -1.25, 2.0], [0.25, 0.0, -0.5], [1.5, 1.0, 0.75]]  # (steps 5..7, units 9, 2, 4)
    copied = SetCell(1, [9, 2, 4], range(5, 8), values)
    assert what_if.describe(copied) == "cell c of units 2,4,9, layer 2 = 3\u00d73 values at steps 6\u20138"
    per_unit = SetHidden(0, [1, 3], range(5, 8), [0.5, -0.5])
    assert what_if.describe(per_unit) == "h of units 1,3, layer 1 = 2 values at steps 6\u20138"
    data = json.loads(json.dumps(what_if.to_dict(copied)))
    assert data["units"] == [2, 4, 9] and data["value"][0] == [-1.25, 2.0, 0.5]  # columns follow units
    assert what_if.from_dict(data) == copied
    assert what_if.from_dict(json.loads(json.dumps(what_if.to_dict(per_unit)))) == per_unit
    longer, dropped = what_if.fit_to_length((copied, per_unit), 8, 11)
    assert longer == (copied, SetHidden(0, [1, 3], range(5, 11), [0.5, -0.5])) and dropped == ()
    shorter, _ = what_if.fit_to_length((copied,), 8, 7)
    assert shorter == (SetCell(1, [9, 2, 4], [5, 6], values[:2]),)
    _, dropped = what_if.fit_to_length((copied,), 8, 5)
    assert dropped == (what_if.describe(copied),)
    wrong = {"kind": "SetCell", "layer": 0, "units": [1, 2], "steps": [3], "value": [[1.0, 2.0, 3.0]]}
    with pytest.raises(
        what_if.EditProblem, match=r"SetCell: value has shape \(1, 3\); with 2 units"
    ) as caught:
        what_if.from_dict(wrong)
    assert "\n" not in str(caught.value)
