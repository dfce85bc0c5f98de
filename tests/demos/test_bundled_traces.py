"""The traces shipped beside the bundled models: the default demo's example is there, and it is exactly
what the model computes now (a retrained model or a change in tracing without rewriting them fails
here: `python -m seqviz.demos.bundled_traces` rewrites them)."""

from __future__ import annotations

from seqviz.core import trace_cache
from seqviz.demos import bundled_traces, catalogue


def test_the_default_demo_ships_the_trace_of_its_first_example():
    model_id = catalogue.default_id()
    entry = catalogue.find(model_id)
    stored = trace_cache.find(entry.path, entry.examples[0])
    assert stored is not None, "no shipped trace: run python -m seqviz.demos.bundled_traces"
    model = bundled_traces.open_bundled(model_id)
    fresh = bundled_traces.trace_text(model, entry.examples[0])
    assert trace_cache.same_trace(stored, fresh)


def test_every_shipped_trace_belongs_to_a_bundled_model_as_it_is_now():
    shipped = {path.name for path in trace_cache.shipped_dir().glob("*.npz")}
    current = {
        trace_cache.file_name(trace_cache.file_digest(catalogue.find(i).path), catalogue.find(i).examples[0])
        for i in bundled_traces.SHIPPED_IDS
    }
    assert shipped == current  # no trace of an older model file lies about


def test_a_lecture_task_trace_carries_the_answers_its_rules_give():
    model = bundled_traces.open_bundled("sentiment-gru")
    trace = bundled_traces.trace_text(model, "the movie was not very good")
    assert trace.meta.target is not None
    assert model.output_labels[trace.meta.target] == "negative"
