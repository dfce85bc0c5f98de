"""Every model `main.py --list-models` lists loads with `seqviz.load_model` and traces its example."""

from __future__ import annotations

import io

import seqviz
from seqviz.core import modelfile
from seqviz.demos import catalogue


def test_every_listed_id_loads_with_seqviz_load_model_and_traces_its_example():
    listing = io.StringIO()
    catalogue.print_model_list(listing)
    ids = [line.split()[0] for line in listing.getvalue().splitlines()]
    assert sorted(ids) == sorted(e.id for e in catalogue.entries()) == sorted(modelfile.model_ids())
    for entry in catalogue.entries():
        model = seqviz.load_model(entry.id)
        assert entry.examples, entry.id
        trace = seqviz.trace(model, entry.examples[0])
        assert len(trace.tokens) > 0 and trace["probs"].shape[0] > 0, entry.id
        assert trace["hidden"].ndim == 4, entry.id


def test_the_catalogue_and_the_core_load_the_same_untrained_model():
    a, b = catalogue.load("untrained-transformer"), seqviz.load_model("untrained-transformer")
    assert a.metadata() == b.metadata()
    assert all(x.equal(y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
