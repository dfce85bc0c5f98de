"""`seqviz.load_model` takes every id: bundled files and the untrained models built in code."""

from __future__ import annotations

import pytest

import seqviz
from seqviz.core import modelfile
from seqviz.core.seqmodel import fresh_model


def test_model_ids_are_the_bundled_files_then_the_untrained_models():
    ids = modelfile.model_ids()
    assert ids == modelfile.bundled_model_ids() + [f"untrained-{a}" for a in modelfile.UNTRAINED_ARCHS]
    assert "longrange-lstm" in ids


@pytest.mark.parametrize("arch", modelfile.UNTRAINED_ARCHS)
def test_an_untrained_id_is_the_seeded_fresh_model(arch):
    model = seqviz.load_model(f"untrained-{arch}")
    reference = fresh_model(arch)
    assert model.metadata() == reference.metadata()
    for (name, value), (_, expected) in zip(
        model.state_dict().items(), reference.state_dict().items(), strict=True
    ):
        assert value.equal(expected), name
    assert not model.training


def test_an_id_is_the_model_even_beside_a_file_of_that_name(tmp_path, monkeypatch):
    """Ids and paths never collide: the id is the untrained model, the file opens as ./NAME."""
    seqviz.save_model(fresh_model("gru", seed=7), tmp_path / "untrained-lstm")
    monkeypatch.chdir(tmp_path)
    assert seqviz.load_model("untrained-lstm").card.id == "untrained-lstm"
    assert seqviz.load_model("./untrained-lstm").card.id == "untrained-gru"


def test_an_unknown_id_names_every_id_there_is():
    with pytest.raises(seqviz.ModelFileError, match=r"longrange-lstm.*untrained-transformer"):
        seqviz.load_model("untrained-lstmm")
