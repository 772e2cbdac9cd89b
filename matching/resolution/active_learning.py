"""Active learning: which candidate pairs a steward should label next, and what the labels
teach the model.

Pure functions over candidate pairs (each with its comparison vector, the per-comparison
match weights and the blocking rule that produced it, Splink's `match_key`); the Splink side
(scoring the pairs, writing the model) is the trainer's.

Selection ranks a pair by how much its label could change the model: uncertainty (its match
weight near the link threshold's, where a label flips a decision) plus disagreement (some
comparisons strongly for, others strongly against: the label says which kind of evidence to
trust). Half of each batch instead covers the score bands the labels are post-stratified by
(below), each band getting labels in proportion to its pairs, the share random labels would
give it, but spent on its most informative pairs. The picks are kept diverse: taken in turn from each blocking rule, at most a few per
record and per comparison-vector pattern, so a budget is not spent on near-duplicates.

Learning (`fit_from_labels`) re-estimates m, u and λ by EM on the candidate pairs, the
population a steward's labels are drawn from and the only pairs the model ever scores. Every
candidate counts once: a labelled pair with its label, any other with its current match
probability corrected by the labels of its strata: how far the model was off on the labelled
pairs of its score band (`BAND_BITS` of match weight) and, beyond that, of its comparison
vector, each shrunk towards 0 (`BAND_SHRINKAGE`, `STRATUM_SHRINKAGE`). Labels are not a
random sample: selection picks pairs by their score, and the uncertain pairs' non-matches
agree far more than a typical non-match, so counting labels at face value (or weighting them
above the rest) inflates λ and the u of the agreeing levels, and more labels make the model
worse. Within a band, though, selection no longer depends on the score, and within a
comparison vector every pair looks the same to the model: post-stratified, each label
speaks for its strata's pairs and no more, whichever way the labels were chosen. Mixing labels of blocked pairs with the u of random pairs under a λ of
all pairs would be inconsistent too, so the fitted λ and u describe candidate pairs, which is
what every score is computed on. Pseudo-counts from the starting model keep every m, u and λ
strictly between 0 and 1, however few the labels.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

# Pairs' worth of "the model was right" a stratum's label residuals are shrunk by.
STRATUM_SHRINKAGE = 1.0
# Width, in bits of match weight, of the score bands labels are post-stratified by; a band's
# residual is shrunk by more pairs than a comparison vector's: a band holds pairs of many
# vectors, so a few labels say less about all of them.
BAND_BITS = 1.0
BAND_SHRINKAGE = 4.0
EM_ROUNDS = 5
# How much the starting model's m and u count, in pairs, per comparison: smoothing that keeps
# an unseen level from falling to 0.
PRIOR_PAIRS = 1.0
# Disagreement (0..1) is worth this much entropy (0..1 bit) in the ranking.
DISAGREEMENT_WEIGHT = 0.5
PER_RECORD = 2
PER_PATTERN = 2
# The share of each batch of picks spent covering score bands rather than on uncertainty.
EXPLORE_SHARE = 0.5
_EPS = 1e-6

Pair = tuple[str, str]


@dataclass(frozen=True)
class Candidate:
    """One scored candidate pair: `gammas` and `weights` follow the model's comparisons."""

    record_l: str
    record_r: str
    match_probability: float
    match_key: str
    gammas: tuple[int, ...]  # comparison vector value per comparison, -1 for null
    weights: tuple[float, ...]  # partial match weight (log2 Bayes factor) per comparison

    @property
    def pair(self) -> Pair:
        return ordered_pair(self.record_l, self.record_r)


@dataclass(frozen=True)
class Parameters:
    """m and u per comparison and level (comparison vector value), and λ."""

    m: dict[str, dict[int, float]]
    u: dict[str, dict[int, float]]
    prior: float


@dataclass(frozen=True)
class Pick:
    """A selected pair and why: the scores behind its rank."""

    candidate: Candidate
    uncertainty: float
    disagreement: float
    covers_band: bool = False  # picked to cover its score band, not for its information

    @property
    def information(self) -> float:
        return self.uncertainty + DISAGREEMENT_WEIGHT * self.disagreement


@dataclass
class LabelFit:
    """What fitting on labels used: counts for the report, and the fitted parameters."""

    parameters: Parameters
    matches: int
    non_matches: int
    outside_candidates: int  # labelled pairs blocking never produced: not used for m/u/λ
    candidates: int
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "matches": self.matches,
            "non_matches": self.non_matches,
            "outside_candidates": self.outside_candidates,
            "candidates": self.candidates,
            "prior": self.parameters.prior,
            "frame": "candidate pairs",
            "notes": self.notes,
        }


def ordered_pair(a: str, b: str) -> Pair:
    return (a, b) if a <= b else (b, a)


# Selection ------------------------------------------------------------------------------


def _logit2(p: float) -> float:
    p = min(max(p, _EPS), 1 - _EPS)
    return math.log2(p / (1 - p))


def uncertainty(match_probability: float, threshold: float) -> float:
    """Binary entropy (bits) of the pair's probability re-centred on the threshold: 1 at the
    threshold, falling towards 0 as the match weight moves away from the threshold's."""
    shifted = _logit2(match_probability) - _logit2(threshold)
    q = 1.0 / (1.0 + 2.0**-shifted)
    if q <= 0.0 or q >= 1.0:
        return 0.0
    return -(q * math.log2(q) + (1 - q) * math.log2(1 - q))


def disagreement(weights: Sequence[float]) -> float:
    """0 when every comparison points one way; 1 when the evidence for and against weigh the
    same."""
    for_ = sum(w for w in weights if w > 0)
    against = -sum(w for w in weights if w < 0)
    strongest = max(for_, against)
    return min(for_, against) / strongest if strongest > 0 else 0.0


def rank(candidates: Iterable[Candidate], threshold: float) -> list[Pick]:
    """Every candidate with its scores, most informative first (ties: by pair, for a stable
    order)."""
    picks = [
        Pick(c, uncertainty(c.match_probability, threshold), disagreement(c.weights))
        for c in candidates
    ]
    picks.sort(key=lambda p: (-p.information, p.candidate.pair))
    return picks


def select_pairs(
    candidates: Iterable[Candidate],
    threshold: float,
    count: int,
    *,
    exclude: Iterable[Pair] = (),
    per_record: int = PER_RECORD,
    per_pattern: int = PER_PATTERN,
    explore: float = EXPLORE_SHARE,
) -> list[Pick]:
    """Up to `count` pairs to label next; at most `per_record` picks name one record and
    `per_pattern` share one comparison vector. `exclude`: pairs already asked about.

    Most picks are the most informative, taken in turn from each blocking rule's ranking;
    the share `explore` of them covers the score bands (`score_band`) labels are
    post-stratified by: each goes to the band with the most candidate pairs per label so far,
    its most informative pair. Uncertainty alone asks about the pairs near the threshold only,
    so the bands far from it, where most pairs and the matches the model misses lie, would
    never be corrected; covered in proportion to their size, they get the labels random
    labelling would give them."""
    pool = list(candidates)
    skip = {ordered_pair(a, b) for a, b in exclude}
    ranked = rank((c for c in pool if c.pair not in skip), threshold)
    taken = _Diversity(per_record, per_pattern)
    explored = int(count * explore)
    chosen = _most_informative(ranked, count - explored, taken)
    labelled = Counter(score_band(c.match_probability) for c in pool if c.pair in skip)
    labelled.update(score_band(p.candidate.match_probability) for p in chosen)
    return chosen + _band_coverage(ranked, pool, count - len(chosen), labelled, taken)


@dataclass
class _Diversity:
    """Picks so far per record and per comparison vector, and the pairs picked."""

    per_record: int
    per_pattern: int
    records: Counter[str] = field(default_factory=Counter)
    patterns: Counter[tuple[int, ...]] = field(default_factory=Counter)
    pairs: set[Pair] = field(default_factory=set)

    def take(self, pick: Pick) -> bool:
        """Whether `pick` may be added (then it is counted)."""
        c = pick.candidate
        if (
            c.pair in self.pairs
            or self.records[c.record_l] >= self.per_record
            or self.records[c.record_r] >= self.per_record
            or self.patterns[c.gammas] >= self.per_pattern
        ):
            return False
        self.records.update((c.record_l, c.record_r))
        self.patterns[c.gammas] += 1
        self.pairs.add(c.pair)
        return True


def _most_informative(ranked: list[Pick], count: int, taken: _Diversity) -> list[Pick]:
    """Up to `count` picks, in turn from each blocking rule's ranking."""
    by_rule: dict[str, list[Pick]] = {}
    for pick in ranked:
        by_rule.setdefault(pick.candidate.match_key, []).append(pick)
    # Rules whose best pair teaches most go first in every round.
    queues = sorted(
        by_rule.values(), key=lambda picks: (-picks[0].information, picks[0].candidate.match_key)
    )
    return _round_robin([iter(q) for q in queues], count, taken)


def _round_robin(queues: list[Iterator[Pick]], count: int, taken: _Diversity) -> list[Pick]:
    chosen: list[Pick] = []
    live = list(queues)
    while live and len(chosen) < count:
        for queue in list(live):
            if len(chosen) >= count:
                break
            pick = next((p for p in queue if taken.take(p)), None)
            if pick is None:
                live.remove(queue)
            else:
                chosen.append(pick)
    return chosen


def _band_coverage(
    ranked: list[Pick],
    pool: Sequence[Candidate],
    count: int,
    labelled: Counter[int],
    taken: _Diversity,
) -> list[Pick]:
    """Up to `count` picks, each from the band with the most candidates per label."""
    sizes = Counter(score_band(c.match_probability) for c in pool)
    by_band: dict[int, list[Pick]] = {}
    for ranked_pick in ranked:
        by_band.setdefault(score_band(ranked_pick.candidate.match_probability), []).append(
            ranked_pick
        )
    queues = {band: iter(picks) for band, picks in by_band.items()}
    chosen: list[Pick] = []
    while queues and len(chosen) < count:
        band = max(queues, key=lambda b: (sizes[b] / (labelled[b] + 1), -b))
        pick = next((p for p in queues[band] if taken.take(p)), None)
        if pick is None:
            del queues[band]
            continue
        chosen.append(replace(pick, covers_band=True))
        labelled[band] += 1
    return chosen


# Learning ----------------------------------------------------------------------------------


def _sigmoid2(weight: float) -> float:
    if weight >= 0:
        return 1.0 / (1.0 + 2.0**-weight)
    z = 2.0**weight
    return z / (1.0 + z)


def probability(candidate: Candidate, comparisons: Sequence[str], parameters: Parameters) -> float:
    """The candidate's match probability under `parameters` (no term-frequency terms)."""
    weight = _logit2(parameters.prior)
    for name, gamma in zip(comparisons, candidate.gammas, strict=True):
        if gamma < 0:
            continue
        m = parameters.m[name].get(gamma)
        u = parameters.u[name].get(gamma)
        if m is None or u is None:
            continue
        weight += math.log2(m / u)
    return _sigmoid2(weight)


def fit_from_labels(
    candidates: Sequence[Candidate],
    comparisons: Sequence[str],
    start: Parameters,
    labels: Mapping[Pair, bool],
    *,
    rounds: int = EM_ROUNDS,
    shrinkage: float = STRATUM_SHRINKAGE,
) -> LabelFit:
    """m, u and λ re-estimated on the candidate pairs from `labels` (pair -> is a match) and
    the candidates' current probabilities (module docstring). `start`: the current model's
    parameters, the smoothing prior; the levels it names are the levels estimated."""
    index = {c.pair: i for i, c in enumerate(candidates)}
    known = {index[ordered_pair(*p)]: y for p, y in labels.items() if ordered_pair(*p) in index}
    outside = sum(1 for p in labels if ordered_pair(*p) not in index)
    bands = [score_band(c.match_probability) for c in candidates]
    weights = [1.0] * len(candidates)
    model = [c.match_probability for c in candidates]
    parameters = start
    for _ in range(max(rounds, 1)):
        posterior = _posterior(candidates, model, known, bands, shrinkage)
        parameters = _maximise(candidates, comparisons, start, weights, posterior)
        model = [probability(c, comparisons, parameters) for c in candidates]
    matches = sum(1 for y in known.values() if y)
    notes = []
    if outside:
        notes.append(
            f"{outside} labelled pair(s) are not candidate pairs (blocking never compares "
            "them): they constrain clustering but teach the model nothing"
        )
    return LabelFit(parameters, matches, len(known) - matches, outside, len(candidates), notes)


def score_band(match_probability: float) -> int:
    """The stratum of a pair's score: its match weight rounded to `BAND_BITS`."""
    return round(_logit2(match_probability) / BAND_BITS)


def _posterior(
    candidates: Sequence[Candidate],
    model: Sequence[float],
    known: Mapping[int, bool],
    bands: Sequence[int],
    shrinkage: float,
) -> list[float]:
    """Each candidate's chance of being a match: its label where labelled; otherwise the
    model's probability corrected by how far the model was off on the labelled pairs of its
    strata, the band of its score and, within it, its comparison vector (mean residuals,
    each shrunk towards 0 by `shrinkage` pairs)."""

    def residuals(
        key: Callable[[int], Any], offset: Mapping[int, float], shrinkage: float
    ) -> dict[Any, float]:
        sums: dict[Any, float] = {}
        counts: dict[Any, int] = {}
        for i, y in known.items():
            sums[key(i)] = sums.get(key(i), 0.0) + float(y) - model[i] - offset.get(i, 0.0)
            counts[key(i)] = counts.get(key(i), 0) + 1
        return {k: sums[k] / (counts[k] + shrinkage) for k in sums}

    by_band = residuals(lambda i: bands[i], {}, BAND_SHRINKAGE)
    band_offset = {i: by_band[bands[i]] for i in known}
    by_vector = residuals(lambda i: candidates[i].gammas, band_offset, shrinkage)
    return [
        float(known[i])
        if i in known
        else min(
            max(model[i] + by_band.get(bands[i], 0.0) + by_vector.get(c.gammas, 0.0), 0.0), 1.0
        )
        for i, c in enumerate(candidates)
    ]


def _maximise(
    candidates: Sequence[Candidate],
    comparisons: Sequence[str],
    start: Parameters,
    weights: Sequence[float],
    posterior: Sequence[float],
) -> Parameters:
    """One M step: weighted (expected) counts per level, smoothed by the starting model."""
    total = sum(weights)
    matched = sum(w * p for w, p in zip(weights, posterior, strict=True))
    prior = (matched + PRIOR_PAIRS * start.prior) / (total + PRIOR_PAIRS)
    m: dict[str, dict[int, float]] = {}
    u: dict[str, dict[int, float]] = {}
    for j, name in enumerate(comparisons):
        levels = sorted(set(start.m.get(name, {})) | set(start.u.get(name, {})))
        m_counts = dict.fromkeys(levels, 0.0)
        u_counts = dict.fromkeys(levels, 0.0)
        for c, w, p in zip(candidates, weights, posterior, strict=True):
            gamma = c.gammas[j]
            if gamma in m_counts:
                m_counts[gamma] += w * p
                u_counts[gamma] += w * (1 - p)
        m[name] = _smoothed(m_counts, start.m.get(name, {}))
        u[name] = _smoothed(u_counts, start.u.get(name, {}))
    return Parameters(m, u, min(max(prior, _EPS), 1 - _EPS))


def _smoothed(counts: Mapping[int, float], prior: Mapping[int, float]) -> dict[int, float]:
    """(count + PRIOR_PAIRS * the starting share) / (total + PRIOR_PAIRS), levels the start
    lacks sharing the prior evenly; never 0 or 1."""
    if not counts:
        return {}
    even = 1.0 / len(counts)
    shares = {g: prior.get(g, even) or even for g in counts}
    norm = sum(shares.values())
    total = sum(counts.values())
    fitted = {
        g: (counts[g] + PRIOR_PAIRS * shares[g] / norm) / (total + PRIOR_PAIRS) for g in counts
    }
    return {g: min(max(v, _EPS), 1 - _EPS) for g, v in fitted.items()}


# Splink's model JSON -------------------------------------------------------------------------


def _levels(comparison: Mapping[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """(comparison vector value, level) for the non-null levels: Splink numbers them from
    the first (best) level down to 0."""
    levels = [lvl for lvl in comparison["comparison_levels"] if not lvl.get("is_null_level")]
    return [(len(levels) - 1 - i, level) for i, level in enumerate(levels)]


def parameters_of(
    model: Mapping[str, Any], effective: Mapping[str, Mapping[int, tuple[float, float]]]
) -> Parameters:
    """The model's parameters; `effective`: (m, u) per comparison and level as Splink applies
    them (defaults where the JSON has none)."""
    m: dict[str, dict[int, float]] = {}
    u: dict[str, dict[int, float]] = {}
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        m[name], u[name] = {}, {}
        for gamma, _level in _levels(comparison):
            m_value, u_value = effective[name][gamma]
            m[name][gamma], u[name][gamma] = m_value, u_value
    return Parameters(m, u, float(model["probability_two_random_records_match"]))


def with_parameters(model: Mapping[str, Any], parameters: Parameters) -> dict[str, Any]:
    """A copy of Splink's model JSON carrying `parameters`."""
    comparisons = []
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        non_null = [lvl for lvl in comparison["comparison_levels"] if not lvl.get("is_null_level")]
        levels: list[dict[str, Any]] = []
        for level in comparison["comparison_levels"]:
            level = dict(level)
            if not level.get("is_null_level"):
                gamma = len(non_null) - 1 - len([x for x in levels if not x.get("is_null_level")])
                if gamma in parameters.m.get(name, {}):
                    level["m_probability"] = parameters.m[name][gamma]
                    level["u_probability"] = parameters.u[name][gamma]
            levels.append(level)
        comparisons.append({**comparison, "comparison_levels": levels})
    return {
        **model,
        "probability_two_random_records_match": parameters.prior,
        "comparisons": comparisons,
    }
