"""Active learning's pure parts: which pairs are asked about, and what labels teach."""

from __future__ import annotations

import math

import pytest

from matching.resolution.active_learning import (
    Candidate,
    Parameters,
    disagreement,
    fit_from_labels,
    probability,
    score_band,
    select_pairs,
    uncertainty,
    with_parameters,
)

COMPARISONS = ("name", "code")


def _candidate(
    left: str,
    right: str,
    p: float,
    *,
    key: str = "0",
    gammas: tuple[int, ...] = (1, 1),
    weights: tuple[float, ...] = (1.0, 1.0),
) -> Candidate:
    return Candidate(left, right, p, key, gammas, weights)


def _start() -> Parameters:
    return Parameters(
        m={"name": {1: 0.9, 0: 0.1}, "code": {1: 0.8, 0: 0.2}},
        u={"name": {1: 0.1, 0: 0.9}, "code": {1: 0.2, 0: 0.8}},
        prior=0.1,
    )


def test_uncertainty_peaks_at_the_threshold_and_falls_away_from_it() -> None:
    assert uncertainty(0.8, 0.8) == pytest.approx(1.0)
    assert uncertainty(0.5, 0.8) < uncertainty(0.7, 0.8) < 1.0
    assert uncertainty(0.999999, 0.8) < 0.01
    assert uncertainty(0.0, 0.8) == pytest.approx(0.0, abs=1e-3)


def test_disagreement_is_high_when_evidence_pulls_both_ways() -> None:
    assert disagreement([5.0, 3.0]) == 0.0
    assert disagreement([-2.0, -1.0]) == 0.0
    assert disagreement([4.0, -4.0]) == 1.0
    assert 0 < disagreement([6.0, -2.0]) < disagreement([6.0, -5.0]) < 1
    assert disagreement([]) == 0.0


def test_selection_prefers_uncertain_and_conflicting_pairs() -> None:
    sure = _candidate("a", "b", 0.999, gammas=(1, 1))
    near = _candidate("c", "d", 0.6, gammas=(1, 0))
    conflicting = _candidate("e", "f", 0.999, gammas=(0, 1), weights=(8.0, -7.0))
    picks = select_pairs([sure, near, conflicting], 0.6, 2)
    assert [p.candidate.pair for p in picks] == [("c", "d"), ("e", "f")]
    assert picks[0].uncertainty == pytest.approx(1.0)


def test_selection_takes_turns_across_blocking_rules() -> None:
    # Rule 0 has the three most uncertain pairs; rule 1's best still gets the second place.
    rule0 = [_candidate(f"a{i}", f"b{i}", 0.5 + i / 100, key="0", gammas=(i, 0)) for i in range(3)]
    rule1 = [_candidate("x", "y", 0.2, key="1", gammas=(9, 9))]
    picks = select_pairs([*rule0, *rule1], 0.5, 3)
    assert [p.candidate.match_key for p in picks] == ["0", "1", "0"]


def test_selection_caps_picks_per_record_and_per_comparison_pattern() -> None:
    # One record in many uncertain pairs, and many pairs with one comparison vector.
    hub = [_candidate("hub", f"r{i}", 0.5, gammas=(i, 5)) for i in range(5)]
    same = [_candidate(f"s{i}", f"t{i}", 0.5, gammas=(7, 7)) for i in range(5)]
    picks = select_pairs([*hub, *same], 0.5, 10, per_record=2, per_pattern=2)
    pairs = [p.candidate.pair for p in picks]
    assert sum(1 for a, b in pairs if "hub" in (a, b)) == 2
    assert sum(1 for p in picks if p.candidate.gammas == (7, 7)) == 2
    assert len(pairs) == len(set(pairs)) == 4


def test_selection_skips_pairs_already_labelled() -> None:
    pairs = [_candidate("a", "b", 0.5), _candidate("c", "d", 0.5, gammas=(0, 0))]
    picks = select_pairs(pairs, 0.5, 2, exclude=[("b", "a")])
    assert [p.candidate.pair for p in picks] == [("c", "d")]


def test_exploration_covers_the_bands_with_most_pairs_per_label() -> None:
    # Four pairs at the threshold, thirty far below it (band -10), ten far above (band 10).
    near = [_candidate(f"n{i}", f"m{i}", 0.5, gammas=(i, 0)) for i in range(4)]
    low = [_candidate(f"l{i}", f"k{i}", 2**-10 / (1 + 2**-10), gammas=(i, 1)) for i in range(30)]
    high = [
        _candidate(f"h{i}", f"g{i}", 1 - 2**-10 / (1 + 2**-10), gammas=(i, 2)) for i in range(10)
    ]
    pool = [*near, *low, *high]
    bands = lambda picks: [score_band(p.candidate.match_probability) for p in picks]  # noqa: E731

    assert bands(select_pairs(pool, 0.5, 4, explore=0.0)) == [0, 0, 0, 0]
    assert bands(select_pairs(pool, 0.5, 4)) == [0, 0, -10, -10]  # 30 pairs per label vs 10
    # Fifteen low pairs labelled already: the high band now has more pairs per label.
    asked = [p.pair for p in low[:15]]
    assert bands(select_pairs(pool, 0.5, 4, exclude=asked)) == [0, 0, 10, 10]


def test_probability_adds_the_prior_and_each_level_weight() -> None:
    candidate = _candidate("a", "b", 0.5, gammas=(1, -1))
    expected_weight = math.log2(0.1 / 0.9) + math.log2(0.9 / 0.1)
    assert probability(candidate, COMPARISONS, _start()) == pytest.approx(
        2**expected_weight / (1 + 2**expected_weight)
    )


def _population() -> list[Candidate]:
    """Matches agree on both comparisons, non-matches on the name only half the time."""
    pairs = [_candidate(f"m{i}", f"n{i}", 0.6, gammas=(1, 1)) for i in range(20)]
    pairs += [_candidate(f"x{i}", f"y{i}", 0.4, gammas=(i % 2, 0)) for i in range(80)]
    return pairs


def test_labels_move_m_u_and_the_prior_towards_what_they_show() -> None:
    pairs = _population()
    labels = {c.pair: c.record_l.startswith("m") for c in pairs[::5]}
    fit = fit_from_labels(pairs, COMPARISONS, _start(), labels)
    fitted = fit.parameters
    assert fit.matches == 4 and fit.non_matches == 16 and fit.outside_candidates == 0
    # Labelled matches all agree on the code: its m rises, its u among candidates falls.
    assert fitted.m["code"][1] > 0.9 and fitted.u["code"][1] < 0.1
    # λ is the candidate population's match rate now (20 of 100), not the random-pair one.
    assert 0.15 < fitted.prior < 0.3
    matched = probability(pairs[0], COMPARISONS, fitted)
    unmatched = probability(pairs[-1], COMPARISONS, fitted)
    assert matched > 0.9 and unmatched < 0.1


def test_few_labels_never_give_a_probability_of_0_or_1() -> None:
    pairs = [_candidate("a", "b", 1.0, gammas=(1, 1)), _candidate("c", "d", 1.0, gammas=(1, 1))]
    fit = fit_from_labels(pairs, COMPARISONS, _start(), {("a", "b"): True})
    for table in (fit.parameters.m, fit.parameters.u):
        for levels in table.values():
            assert all(0 < v < 1 for v in levels.values()), levels
    assert 0 < fit.parameters.prior < 1


def test_labels_outside_the_candidates_are_counted_not_used() -> None:
    pairs = _population()
    fit = fit_from_labels(pairs, COMPARISONS, _start(), {("zz", "aa"): True})
    assert fit.outside_candidates == 1 and fit.matches == 0
    assert "not candidate pairs" in fit.notes[0]


def test_parameters_are_written_into_the_splink_model_by_level() -> None:
    model = {
        "probability_two_random_records_match": 0.01,
        "comparisons": [
            {
                "output_column_name": "name",
                "comparison_levels": [
                    {"sql_condition": "null", "is_null_level": True},
                    {"sql_condition": "l = r", "m_probability": 0.5, "u_probability": 0.5},
                    {"sql_condition": "else"},
                ],
            }
        ],
    }
    parameters = Parameters(m={"name": {1: 0.8, 0: 0.2}}, u={"name": {1: 0.3, 0: 0.7}}, prior=0.2)
    written = with_parameters(model, parameters)
    levels = written["comparisons"][0]["comparison_levels"]
    assert "m_probability" not in levels[0]
    assert (levels[1]["m_probability"], levels[1]["u_probability"]) == (0.8, 0.3)
    assert (levels[2]["m_probability"], levels[2]["u_probability"]) == (0.2, 0.7)
    assert written["probability_two_random_records_match"] == 0.2
    assert model["comparisons"][0]["comparison_levels"][1]["m_probability"] == 0.5  # a copy


def test_labels_chosen_for_their_uncertainty_do_not_bias_the_prior() -> None:
    """A steward shown mostly matches (selection is not random) must not teach that most
    candidates match: each label speaks for the pairs of its comparison vector only."""
    pairs = _population()
    matches = [c for c in pairs if c.record_l.startswith("m")]
    labels = {c.pair: True for c in matches[:10]}
    labels |= {c.pair: False for c in [c for c in pairs if c.gammas == (1, 0)][:2]}
    fit = fit_from_labels(pairs, COMPARISONS, _start(), labels)
    # 10 of the 12 labels are matches; among the candidates 20 of 100 are.
    assert 0.15 < fit.parameters.prior < 0.3


def test_a_label_speaks_for_the_unlabelled_pairs_of_its_comparison_vector() -> None:
    # Two strata the start model cannot tell apart; labels say the first holds non-matches.
    start = Parameters(
        m={"name": {1: 0.5, 0: 0.5}, "code": {1: 0.5, 0: 0.5}},
        u={"name": {1: 0.5, 0: 0.5}, "code": {1: 0.5, 0: 0.5}},
        prior=0.5,
    )
    first = [_candidate(f"a{i}", f"b{i}", 0.5, gammas=(1, 0)) for i in range(30)]
    second = [_candidate(f"c{i}", f"d{i}", 0.5, gammas=(0, 1)) for i in range(30)]
    labels = {c.pair: False for c in first[:3]} | {c.pair: True for c in second[:3]}
    fitted = fit_from_labels([*first, *second], COMPARISONS, start, labels).parameters
    assert probability(first[-1], COMPARISONS, fitted) < 0.3
    assert probability(second[-1], COMPARISONS, fitted) > 0.7
