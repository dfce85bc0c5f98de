"""Trace: the one data object between models and views.

A trace holds named float32 arrays computed once for one input, the token labels and a little
metadata. Views only read it; stepping moves a cursor over it and never recomputes the model.

Shapes (T steps, L layers, D directions, H units; see DESIGN.md for the full contract):
    recurrent   hidden, cell, *_gate, candidate      (T, L, D, H)
    transformer hidden                               (T, L, 1, d_model)
                attention                            (L, heads, T, T)  (HF decoders: a CausalAttention)
                cross_attention                      (L, heads, T, S)
    heads       probs                                (T, V) or (T, C)
                top_ids, top_probs                   (T, k)  large vocabularies (Hugging Face)
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from seqviz.core.atomic import atomic_path
from seqviz.core.causal_attention import CausalAttention
from seqviz.core.file_limits import FileLimitError, is_zip_archive, regular_file, zip_inflation
from seqviz.core.trace_check import header_problem, trace_problem
from seqviz.core.trace_meta import TraceMeta, as_meta

_META_KEY = "__seqviz_meta__"


class Trace(Mapping[str, np.ndarray]):
    """Named arrays of one model run over one input.

    `trace["hidden"][t]` is step t (0-based) of every layer and direction. `tokens` labels the T steps;
    `source_tokens` labels the S source positions of sequence-to-sequence models (else empty).
    `meta` is a `TraceMeta` (architecture, task, causality, sizes, labels, token ids, targets; a plain
    dict given to the constructor is read with `TraceMeta.from_dict`). docs/trace.md is the contract.
    """

    def __init__(
        self,
        arrays: Mapping[str, np.ndarray],
        tokens: list[str] | None = None,
        meta: TraceMeta | Mapping[str, Any] | None = None,
        source_tokens: list[str] | None = None,
    ) -> None:
        self._arrays: dict[str, np.ndarray] = {}
        for name, value in arrays.items():
            if isinstance(value, CausalAttention):  # kept packed: it reads as the dense array
                self._arrays[name] = value  # type: ignore[assignment]
                continue
            arr = np.asarray(value)
            if arr.dtype.kind == "f" and arr.dtype != np.float32:
                arr = arr.astype(np.float32)
            self._arrays[name] = arr
        self.meta: TraceMeta = as_meta(meta)
        steps = self._infer_steps()
        self.tokens: list[str] = list(tokens) if tokens is not None else [str(i + 1) for i in range(steps)]
        self.source_tokens: list[str] = list(source_tokens or [])

    def _infer_steps(self) -> int:
        if "hidden" in self._arrays:
            return int(self._arrays["hidden"].shape[0])
        if "probs" in self._arrays:
            return int(self._arrays["probs"].shape[0])
        return 0

    # Mapping interface -------------------------------------------------------------------------
    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self._arrays[name]
        except KeyError:
            raise KeyError(f"trace has no array {name!r}; it has {', '.join(self.names())}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def names(self) -> list[str]:
        """Names of the arrays, in insertion order."""
        return list(self._arrays)

    # Convenience ------------------------------------------------------------------------------
    @property
    def num_steps(self) -> int:
        """T, the number of steps (tokens) traced."""
        return len(self.tokens)

    @property
    def arch(self) -> str:
        return self.meta.arch

    @property
    def is_recurrent(self) -> bool:
        return "attention" not in self._arrays

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self._arrays.values())

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in self._arrays.items())
        return f"Trace(arch={self.arch!r}, T={self.num_steps}, {shapes})"

    # Persistence ------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the trace to an .npz file (atomically: a temporary file, then a rename)."""
        path = Path(path)
        header = {"meta": self.meta.to_dict(), "tokens": self.tokens, "source_tokens": self.source_tokens}
        payload = dict(self._arrays)
        payload[_META_KEY] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
        with atomic_path(path) as temp, open(temp, "wb") as fh:
            np.savez(fh, **payload)  # a file object: np.savez would add ".npz" to a name
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Trace:
        """Read a trace written by `save`. Raises `TraceFileError` for anything else: a file that is
        not a regular file, whose compressed arrays would inflate beyond what it stores allows
        (seqviz.core.file_limits), or whose trace breaks the contract (seqviz.core.trace_check)."""
        path = Path(path)
        try:
            size = regular_file(path)
            if not is_zip_archive(path):  # numpy would try it as a pickle or an .npy: say what it is not
                raise TraceFileError(f"{path}: not a readable seqviz trace (it is not an .npz archive)")
            zip_inflation(path, size)
        except FileLimitError as exc:
            raise TraceFileError(f"{path}: {exc}") from None
        try:
            trace = cls._read(path)
        except TraceFileError:
            raise
        except ValueError as exc:
            if "allow_pickle" in str(exc):  # numpy's advice (load it unsafely) is not ours to give
                raise TraceFileError(
                    f"{path}: not a seqviz trace: it holds Python objects, which seqviz never loads "
                    "(a trace holds arrays of numbers)"
                ) from None
            raise TraceFileError(f"{path}: not a readable seqviz trace ({exc})") from None
        except Exception as exc:  # zip, npy, JSON and malformed-metadata errors mean the same to the user
            raise TraceFileError(f"{path}: not a readable seqviz trace ({exc})") from None
        problem = trace_problem(trace)
        if problem is not None:
            raise TraceFileError(f"{path}: not a valid seqviz trace: {problem}")
        return trace

    @classmethod
    def _read(cls, path: Path) -> Trace:
        with np.load(path, allow_pickle=False) as data:
            if _META_KEY not in data.files:
                raise TraceFileError(f"{path}: not a seqviz trace (no metadata inside)")
            header = json.loads(bytes(data[_META_KEY]).decode("utf-8"))
            if not isinstance(header, dict):
                raise TraceFileError(f"{path}: not a seqviz trace (its metadata is not a JSON object)")
            problem = header_problem(header)
            if problem is not None:
                raise TraceFileError(f"{path}: not a valid seqviz trace: {problem}")
            arrays = {k: data[k] for k in data.files if k != _META_KEY}
        return cls(arrays, header.get("tokens"), header.get("meta"), header.get("source_tokens"))


class TraceFileError(ValueError):
    """A trace file could not be read; the message names the file and the problem."""
