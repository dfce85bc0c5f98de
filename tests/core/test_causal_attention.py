"""CausalAttention reads exactly as the dense causal attention it packs, at half the memory."""

import numpy as np
import pytest

from seqviz.core.causal_attention import CausalAttention, packed_length
from seqviz.core.trace import Trace


def causal_weights(layers=2, heads=3, steps=5, seed=0):
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((layers, heads, steps, steps))
    scores[:, :, ~np.tri(steps, dtype=bool)] = -np.inf
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    return (weights / weights.sum(-1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize(
    "key",
    [
        (1, 2),
        (0,),
        0,
        (1, 2, 3),
        (1, 2, slice(1, 4), 0),
        (slice(None), 1),
        (slice(None), slice(None), 4),
        (Ellipsis, 2),
        (1, Ellipsis),
        ([0, 1], [2, 0]),
        (np.array([True, False]),),
        (slice(None, None, -1), 0, 2),
        (),
    ],
)
def test_indexing_reads_as_the_dense_array(key):
    dense = causal_weights()
    packed = CausalAttention.from_dense(dense)
    np.testing.assert_array_equal(packed[key], dense[key])


def test_shape_bytes_and_dense_copy():
    dense = causal_weights(steps=40)
    packed = CausalAttention.from_dense(dense)
    assert packed.shape == dense.shape and packed.ndim == 4 and packed.dtype == np.float32
    assert packed.nbytes == dense.nbytes * 41 // 80  # T(T+1)/2 of T*T
    np.testing.assert_array_equal(np.asarray(packed), dense)
    np.testing.assert_array_equal(np.subtract(packed, dense, dtype=np.float32), 0.0)


def test_a_prefix_view_is_the_shorter_trace():
    dense = causal_weights(steps=6)
    buffer = CausalAttention.from_dense(dense).packed.copy()
    shorter = CausalAttention(buffer, 4)
    np.testing.assert_array_equal(np.asarray(shorter), dense[:, :, :4, :4])
    assert packed_length(4) == 10


def test_trace_keeps_it_packed_and_saves_it_dense(tmp_path):
    dense = causal_weights()
    tr = Trace({"hidden": np.zeros((5, 2, 1, 4)), "attention": CausalAttention.from_dense(dense)})
    assert isinstance(tr["attention"], CausalAttention)
    loaded = Trace.load(tr.save(tmp_path / "t.npz"))
    np.testing.assert_array_equal(loaded["attention"], dense)
    assert not isinstance(Trace(tr)["attention"], np.ndarray)  # a copied trace stays packed


def test_reading_every_head_makes_the_mask_once_per_length(monkeypatch):
    """The thumbnail grid reads all 144 heads of a GPT-2-sized model: the lower-triangle mask of T is
    made once, not per head (it was ~40% of each read at T = 1,000)."""
    from seqviz.core import causal_attention

    dense = causal_weights(layers=3, heads=4, steps=7)
    made: list[int] = []
    tri = np.tri
    monkeypatch.setattr(causal_attention.np, "tri", lambda n, *a, **k: made.append(n) or tri(n, *a, **k))
    causal_attention.lower_triangle.cache_clear()
    packed = CausalAttention.from_dense(dense)
    for layer in range(3):
        for head in range(4):
            np.testing.assert_array_equal(packed.matrix(layer, head), dense[layer, head])
    np.testing.assert_array_equal(np.asarray(packed), dense)
    np.testing.assert_array_equal(np.asarray(CausalAttention(packed.packed, 5)), dense[:, :, :5, :5])
    assert made == [7, 5]
