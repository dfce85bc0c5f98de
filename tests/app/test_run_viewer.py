"""A compared run's RunViewer (seqviz.app.viewer.comparison) sets its trace through the ViewerModel's
own set_trace: one implementation of clamping a run's selection and counting its steps."""

from __future__ import annotations

import numpy as np
from traces import lstm_trace, transformer_trace

from seqviz.app.viewer.comparison import RunViewer
from seqviz.app.viewer.model import ViewerModel


def test_a_compared_runs_trace_clamps_its_selection_and_counts_its_steps_in_the_viewer(qtbot):
    viewer = ViewerModel()
    viewer.set_trace(lstm_trace(T=5, num_layers=2, hidden_size=8))
    run = RunViewer(viewer, viewer.add_run())
    wide = transformer_trace(T=9, num_layers=4, num_heads=2, d_model=16)
    run.set_trace(wide, None)
    assert viewer.traces[1] is wide is run.trace and run.selection is viewer.selections[1]
    assert viewer.cursor.num_steps == 9 and run.cursor.num_steps == 9  # the longer run counts
    run.selection.set_layer(3)
    assert run.selection.layer == 3
    aligned = lstm_trace(T=12, num_layers=2, hidden_size=8)
    run.set_trace(aligned, np.minimum(np.arange(1, 6) * 2, 12))  # by characters: steps of its own
    assert viewer.traces[1] is aligned is run.trace
    assert run.selection.layer == 1  # clamped to its two layers, as the viewer clamps every run
    assert viewer.cursor.num_steps == 5 and run.cursor.num_steps == 12


def test_a_compared_run_keeps_its_place_when_a_run_before_it_goes(qtbot):
    viewer = ViewerModel()
    viewer.set_trace(lstm_trace(T=4))
    second, third = (RunViewer(viewer, viewer.add_run()) for _ in range(2))
    assert (second.run, third.run) == (1, 2)
    viewer.remove_run(1)
    assert third.run == 1
    third.set_trace(lstm_trace(T=7), None)
    assert viewer.traces == [viewer.trace, third.trace] and viewer.cursor.num_steps == 7
