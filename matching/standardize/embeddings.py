"""Semantic similarity of product titles from wordllama's static embedding (256 dims).

The model's weights ship inside the wordllama wheel: it loads offline, once per process,
and embeds a batch of titles in one call (a static embedding is a pooled lookup, so a
thousand titles take milliseconds). Vectors are L2-normalised and rounded to float32, so
cosine similarity is their dot product and the same title always gives the same vector.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

DIMENSIONS = 256
# Rounded so that a vector's text form (and parquet size) stays small and exact across runs.
_DECIMALS = 4


@cache
def _model() -> Any:
    import wordllama
    from wordllama import WordLlama

    folder = Path(wordllama.__file__).parent
    return WordLlama.load(dim=DIMENSIONS, cache_dir=folder, disable_download=True)


def embed(texts: Sequence[str | None]) -> list[list[float] | None]:
    """Unit vectors of the texts, None for an empty text; one model call for the batch."""
    present = [i for i, t in enumerate(texts) if t and t.strip()]
    out: list[list[float] | None] = [None] * len(texts)
    if not present:
        return out
    vectors = np.asarray(_model().embed([texts[i] for i in present], norm=True), np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = np.round(vectors / np.where(norms == 0, 1, norms), _DECIMALS)
    for i, vector, norm in zip(present, vectors, norms[:, 0], strict=True):
        out[i] = vector.astype(np.float32).tolist() if norm > 0 else None
    return out


def cosine(left: Sequence[float], right: Sequence[float]) -> float:
    """Cosine similarity of two vectors (for tests and explanations; SQL does the same)."""
    a, b = np.asarray(left, np.float64), np.asarray(right, np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
