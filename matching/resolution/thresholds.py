"""`threshold: auto`: the link threshold chosen from the scored pairs themselves.

The model's match probabilities are taken as calibrated: above a cut t the expected true
positives are Σp and false positives Σ(1 - p); below it the expected missed matches are Σp.
The cut maximising the expected F1 is chosen, never below 0.5 (a link must be likelier a
match than not: clustering chains links, so a doubtful one costs more than a missed one).
Pairs never stored (the undecided middle below `pairs_min_probability`) count as missed
with their bound, so the estimate of recall errs low.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa

MIN_AUTO_THRESHOLD = 0.5
# With no pair above 0.5 there is nothing to choose among: the cut stays where no link forms
# by chance.
NO_LINKS_THRESHOLD = 0.99


@dataclass(frozen=True)
class Threshold:
    value: float
    chosen: str  # "configured" or "auto"
    expected_precision: float | None = None
    expected_recall: float | None = None
    expected_matches: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "chosen": self.chosen,
            "expected_precision": self.expected_precision,
            "expected_recall": self.expected_recall,
            "expected_matches": self.expected_matches,
        }


Probabilities: TypeAlias = Iterable[float] | pa.Array | pa.ChunkedArray | np.ndarray


def _as_array(probabilities: Probabilities) -> np.ndarray:
    # Millions of stored scores: one float64 array, never a list of Python floats.
    if isinstance(probabilities, pa.Array | pa.ChunkedArray):
        probabilities = probabilities.to_numpy()
    return np.asarray(probabilities, dtype=np.float64)


def expected_quality(probabilities: Probabilities, cut: float) -> tuple[float, float, float]:
    """(precision, recall, F1) expected at `cut` if the probabilities are calibrated."""
    p = _as_array(probabilities)
    above = p >= cut
    tp = float(p[above].sum())
    fp = float(above.sum()) - tp
    fn = float(p[~above].sum())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return precision, recall, f1


def auto_threshold(probabilities: Probabilities, unstored_mass: float = 0.0) -> Threshold:
    """The cut with the best expected F1 (module docstring). `unstored_mass`: Σp of pairs
    scored but not kept, all below any cut."""
    p = _as_array(probabilities)
    total = float(p.sum()) + unstored_mass
    candidates = np.sort(p[p >= MIN_AUTO_THRESHOLD])[::-1]
    if not len(candidates):
        return Threshold(NO_LINKS_THRESHOLD, "auto", None, 0.0, total)
    tp = np.cumsum(candidates)
    fp = np.arange(1, len(candidates) + 1) - tp
    f1 = 2 * tp / (tp + fp + total)  # 2tp / (2tp + fp + fn), fn = total - tp
    # A cut cannot fall between equal scores: only the last of a run of equal ones counts.
    f1[:-1][candidates[1:] == candidates[:-1]] = -1.0
    best = int(np.argmax(f1))  # the first (highest) cut of the best F1
    return Threshold(
        value=float(candidates[best]),
        chosen="auto",
        expected_precision=round(float(tp[best] / (tp[best] + fp[best])), 6),
        expected_recall=round(float(tp[best]) / total, 6) if total else None,
        expected_matches=round(total, 3),
    )


def link_threshold(
    configured: float | str, probabilities: Probabilities, unstored_mass: float = 0.0
) -> Threshold:
    """A configured number wins; `auto` is chosen from the scores."""
    if configured == "auto":
        return auto_threshold(probabilities, unstored_mass)
    value = float(configured)
    precision, recall, _ = expected_quality(probabilities, value)
    return Threshold(value, "configured", round(precision, 6), round(recall, 6))


def review_band(band: tuple[float, float], threshold: Threshold) -> tuple[float, float]:
    """The configured band, kept below an auto threshold (it is relative to the link cut)."""
    if threshold.chosen != "auto":
        return band
    high = min(band[1], threshold.value)
    return (min(band[0], high), high)
