"""What keeps unsupervised training from collapsing: a bounded, cross-checked prior and
m/u-parameters that can always be scored.

A prior (λ, the probability that two random records match) of exactly 0 or 1 is infinite as
a match weight: Splink's predict then fails with a math domain error. It comes from
deterministic rules that fire on no pair or on every pair, so λ is estimated several ways
and the first credible estimate wins:
1. deterministic rules, when they fire on some pairs but not all;
2. the one-record-per-master structure, when every source says so: only pairs across
   sources are scored, and each record of the smaller of two sources has at most one
   partner in the other, so at most Σ min(n_a, n_b) / Σ n_a·n_b of them match; it bounds
   (1) from above and, when (1) is missing or implausibly small, stands in at half the
   bound (half the records shared);
3. EM's own λ within its blocking, spread over all pairs: a lower bound, used only when the
   others are missing;
4. otherwise a default of one duplicate per ten records.
Whatever wins is clamped into [0.1 / pairs, 0.5]. Pure functions: no Splink here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PARAMETER_FLOOR = 1e-6  # no m or u of exactly 0 or 1: their log is infinite
PRIOR_CEILING = 0.5
_TOO_SMALL = 0.1  # a deterministic λ under a tenth of the 1:1 bound's half is not credible


@dataclass
class PriorChoice:
    value: float
    source: str  # deterministic | one_per_master | em | default
    candidates: dict[str, float | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "source": self.source,
            "candidates": self.candidates,
            "notes": self.notes,
        }


def total_pairs(records: int) -> int:
    return records * (records - 1) // 2


def one_per_master_bound(source_sizes: Mapping[str, int]) -> float | None:
    """The largest share of the pairs scored that can match when no source holds two
    records of one master: only pairs across sources are scored then, and of the n_a * n_b
    pairs of two sources at most min(n_a, n_b) match. None with one source."""
    sizes = sorted(n for n in source_sizes.values() if n > 0)
    if len(sizes) < 2:
        return None
    across = sum(a * b for i, a in enumerate(sizes) for b in sizes[i + 1 :])
    matches = sum(min(a, b) for i, a in enumerate(sizes) for b in sizes[i + 1 :])
    return min(1.0, matches / across)


def credible(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and 0.0 < value < 1.0


def choose_prior(
    records: int,
    *,
    deterministic: float | None,
    one_per_master: float | None = None,
    em: float | None = None,
) -> PriorChoice:
    """The prior to train and score with (module docstring), never 0 or 1."""
    pairs = max(1, total_pairs(records))
    floor, ceiling = min(_TOO_SMALL / pairs, PRIOR_CEILING), PRIOR_CEILING
    candidates = {"deterministic": deterministic, "one_per_master": one_per_master, "em": em}
    notes: list[str] = []
    if not credible(deterministic):
        if deterministic is not None:
            notes.append(
                f"deterministic rules gave λ={deterministic:g} (they fired on "
                f"{'every' if deterministic >= 1 else 'no'} pair): not used"
            )
        deterministic = None
    if credible(one_per_master):
        assert one_per_master is not None
        half = one_per_master / 2
        if deterministic is not None and deterministic > one_per_master:
            notes.append("deterministic λ above the one-record-per-master bound: capped")
            value, source = one_per_master, "one_per_master"
        elif deterministic is not None and deterministic >= half * _TOO_SMALL:
            value, source = deterministic, "deterministic"
        else:
            if deterministic is not None:
                notes.append(
                    f"deterministic λ={deterministic:g} is implausibly small for one record "
                    f"per master per source (bound {one_per_master:g}): half the bound used"
                )
            value, source = half, "one_per_master"
    elif deterministic is not None:
        value, source = deterministic, "deterministic"
    elif credible(em):
        assert em is not None
        value, source = em, "em"
    else:
        value, source = min(ceiling, 0.2 / max(1, records - 1)), "default"
        notes.append("no estimate of λ available: assumed one duplicate per ten records")
    clamped = min(max(value, floor), ceiling)
    if clamped != value:
        notes.append(f"λ={value:g} clamped into [{floor:g}, {ceiling:g}]")
    return PriorChoice(clamped, source, candidates, notes)


# m/u parameters.


def clamp_probability(value: float) -> float:
    return min(max(value, PARAMETER_FLOOR), 1.0 - PARAMETER_FLOOR)


def default_m_values(levels: int) -> list[float]:
    """Splink's default m for non-null levels, best first: most mass on the best level."""
    if levels <= 1:
        return [0.5] * levels
    weights = [2.0 ** (levels - 1 - i) for i in range(levels)]
    return [w / sum(weights) for w in weights]


def checked_parameters(model: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A Splink model dict whose every level scores: m and u inside (0, 1), and the top
    level of each comparison more likely among matches than non-matches (m > u). A
    comparison whose top level fails that gets default m values (its u are kept: those are
    measured on random pairs, EM's m are what went wrong); when even those do not beat u
    (nearly every random pair agrees), m is set to u and the comparison weighs nothing.
    Returns the model and warnings."""
    warnings: list[str] = []
    for comparison in model["comparisons"]:
        name = comparison.get("output_column_name", "?")
        levels = [lvl for lvl in comparison["comparison_levels"] if not lvl.get("is_null_level")]
        for level in levels:
            for key in ("m_probability", "u_probability"):
                value = level.get(key)
                if not isinstance(value, int | float) or not math.isfinite(value):
                    continue  # untrained or "level not observed": Splink substitutes
                clamped = clamp_probability(float(value))
                if clamped != value:
                    level[key] = clamped
                    label = level.get("label_for_charts", "")
                    warnings.append(f"{name}: {key} of level '{label}' was {value:g}: clamped")
        top = levels[0] if levels else None
        m, u = (top.get("m_probability"), top.get("u_probability")) if top else (None, None)
        if isinstance(m, int | float) and isinstance(u, int | float) and m <= u:
            for level, default in zip(levels, default_m_values(len(levels)), strict=True):
                level["m_probability"] = default
            if levels[0]["m_probability"] > u:
                fallback = "default m used for this comparison"
            else:  # random pairs agree as often as any: the comparison tells nothing apart
                for level in levels:
                    if isinstance(level.get("u_probability"), int | float):
                        level["m_probability"] = level["u_probability"]
                fallback = "m set to u: this comparison carries no evidence"
            warnings.append(
                f"{name}: its best level is no likelier among matches than non-matches "
                f"(m={m:g} <= u={u:g}): {fallback}"
            )
    return model, warnings


def em_prior(block_lambda: float | None, block_share: float) -> float | None:
    """EM's λ inside a blocking rule that holds `block_share` of all pairs, spread over all
    pairs (as if the block held every match: a lower bound)."""
    if not credible(block_lambda) or not 0 < block_share <= 1:
        return None
    assert block_lambda is not None
    return block_lambda * block_share
