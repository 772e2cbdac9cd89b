"""Training that cannot collapse: a prior never 0 or 1, m/u that always score, and the link
threshold chosen from the scores. Pure functions first, then real Splink on DuckDB."""

from __future__ import annotations

import dataclasses
import math
import random

import duckdb
import pyarrow as pa
import pytest
from splink import DuckDBAPI, Linker

import matching.resolution.trainer as model_module
from e360.config import MatchingConfig
from matching.resolution.engine import register
from matching.resolution.safeguards import (
    PARAMETER_FLOOR,
    checked_parameters,
    choose_prior,
    default_m_values,
    one_per_master_bound,
    total_pairs,
)
from matching.resolution.scoring import score_all
from matching.resolution.settings import blocking_rule, settings
from matching.resolution.splink_adapter import SplinkException, set_prior
from matching.resolution.thresholds import (
    auto_threshold,
    expected_quality,
    link_threshold,
    review_band,
)
from matching.resolution.trainer import TrainingReport, train

# The prior.


@pytest.mark.parametrize("deterministic", [0.0, 1.0, None, float("nan")])
def test_a_prior_of_zero_or_one_is_never_used(deterministic: float | None) -> None:
    choice = choose_prior(100, deterministic=deterministic)
    assert 0 < choice.value < 1
    assert choice.source == "default"
    assert any("no estimate" in note for note in choice.notes)


def test_a_credible_deterministic_prior_wins() -> None:
    choice = choose_prior(1000, deterministic=0.002, em=0.01)
    assert (choice.value, choice.source) == (0.002, "deterministic")


def test_em_stands_in_when_the_rules_fire_on_no_pair() -> None:
    choice = choose_prior(1000, deterministic=0.0, em=0.003)
    assert (choice.value, choice.source) == (0.003, "em")
    assert any("fired on no pair" in note for note in choice.notes)


def test_the_one_per_master_structure_corrects_an_implausibly_small_prior() -> None:
    bound = one_per_master_bound({"shop_a": 1000, "shop_b": 1100})
    assert bound == pytest.approx(1000 / (1000 * 1100))  # min(n_l, n_r) / (n_l * n_r)
    choice = choose_prior(2100, deterministic=2e-6, one_per_master=bound)
    assert choice.source == "one_per_master"
    assert choice.value == pytest.approx(bound / 2)
    # Credible: kept; above the bound: capped at it.
    assert choose_prior(2100, deterministic=bound / 3, one_per_master=bound).source == (
        "deterministic"
    )
    capped = choose_prior(2100, deterministic=bound * 5, one_per_master=bound)
    assert (capped.value, capped.source) == (bound, "one_per_master")


def test_one_source_gives_no_bound() -> None:
    assert one_per_master_bound({"only": 50}) is None


def test_the_prior_is_clamped() -> None:
    assert choose_prior(10, deterministic=0.9).value == 0.5
    tiny = choose_prior(1000, deterministic=1e-12)
    assert tiny.value == pytest.approx(0.1 / total_pairs(1000))
    assert any("clamped" in note for note in tiny.notes)


# m and u.


def _model(levels: list[tuple[float, float]]) -> dict:
    return {
        "comparisons": [
            {
                "output_column_name": "name",
                "comparison_levels": [
                    {"is_null_level": True, "sql_condition": "null"},
                    *(
                        {"label_for_charts": f"level {i}", "m_probability": m, "u_probability": u}
                        for i, (m, u) in enumerate(levels)
                    ),
                ],
            }
        ]
    }


def test_parameters_of_exactly_zero_or_one_are_clamped() -> None:
    model, warnings = checked_parameters(_model([(1.0, 0.01), (0.0, 0.99)]))
    levels = model["comparisons"][0]["comparison_levels"][1:]
    assert levels[0]["m_probability"] == 1 - PARAMETER_FLOOR
    assert levels[1]["m_probability"] == PARAMETER_FLOOR
    assert len(warnings) == 2 and all("clamped" in w for w in warnings)


def test_a_top_level_no_likelier_among_matches_gets_default_m() -> None:
    model, warnings = checked_parameters(_model([(0.01, 0.2), (0.5, 0.3), (0.49, 0.5)]))
    levels = model["comparisons"][0]["comparison_levels"][1:]
    assert [lvl["m_probability"] for lvl in levels] == default_m_values(3)
    assert [lvl["u_probability"] for lvl in levels] == [0.2, 0.3, 0.5]  # u kept
    assert levels[0]["m_probability"] > levels[0]["u_probability"]
    assert any("default m used" in w for w in warnings)


def test_a_comparison_every_random_pair_agrees_on_weighs_nothing() -> None:
    model, warnings = checked_parameters(_model([(1.0, 1.0), (0.0, 0.0)]))
    levels = model["comparisons"][0]["comparison_levels"][1:]
    assert all(lvl["m_probability"] == lvl["u_probability"] for lvl in levels)
    assert any("carries no evidence" in w for w in warnings)


def test_sound_parameters_pass_unchanged() -> None:
    model, warnings = checked_parameters(_model([(0.9, 0.01), (0.1, 0.99)]))
    assert warnings == []
    assert model["comparisons"][0]["comparison_levels"][1]["m_probability"] == 0.9


# The threshold.


def test_auto_threshold_maximises_expected_f1() -> None:
    probabilities = [0.99] * 50 + [0.8] * 10 + [0.55] * 10 + [0.02] * 200
    chosen = auto_threshold(probabilities)
    f1_at = {cut: expected_quality(probabilities, cut)[2] for cut in (0.99, 0.8, 0.55)}
    assert chosen.value == max(f1_at, key=f1_at.get)  # type: ignore[arg-type]
    precision, recall, _ = expected_quality(probabilities, chosen.value)
    assert chosen.expected_precision == pytest.approx(precision, abs=1e-6)
    assert chosen.expected_recall == pytest.approx(recall, abs=1e-6)
    assert chosen.expected_matches == pytest.approx(sum(probabilities), abs=1e-3)


def _best_cut_by_scanning(probabilities: list[float]) -> float:
    """Every distinct score at or above 0.5 tried as the cut; the first of the best F1."""
    cuts = sorted({p for p in probabilities if p >= 0.5}, reverse=True)
    f1 = [expected_quality(probabilities, cut)[2] for cut in cuts]
    return cuts[f1.index(max(f1))]


@pytest.mark.parametrize("seed", range(20))
def test_auto_threshold_is_the_best_of_every_cut(seed: int) -> None:
    rng = random.Random(seed)
    # Rounded scores, so that runs of equal ones (where no cut can fall) are common.
    probabilities = [round(rng.betavariate(0.3, 0.3), 2) for _ in range(rng.randint(1, 400))]
    if not any(p >= 0.5 for p in probabilities):
        probabilities.append(0.75)
    chosen = auto_threshold(probabilities)
    assert chosen.value == _best_cut_by_scanning(probabilities)
    assert auto_threshold(pa.array(probabilities)).value == chosen.value


def test_auto_threshold_never_links_pairs_likelier_non_matches() -> None:
    assert auto_threshold([0.45] * 100 + [0.9]).value == 0.9
    assert auto_threshold([0.3, 0.1]).value > 0.5  # nothing to link


def test_a_configured_threshold_wins() -> None:
    chosen = link_threshold(0.93, [0.99, 0.5])
    assert (chosen.value, chosen.chosen) == (0.93, "configured")
    assert review_band((0.5, 0.9), chosen) == (0.5, 0.9)
    auto = link_threshold("auto", [0.99] * 5 + [0.7] * 5 + [0.01] * 20)
    assert auto.chosen == "auto"
    low, high = review_band((0.5, 0.9), auto)
    assert low <= high <= auto.value


# Real Splink: the crash of a prior of 0 or 1, and training that survives it.

MATCHING = MatchingConfig.model_validate(
    {
        "blocking_rules": [["city"]],
        "comparisons": [
            {"type": "jaro_winkler", "column": "name"},
            {"type": "exact", "column": "dob"},
        ],
        "training": {"deterministic_rules": [["email"]], "em_blocking_rules": [["city"]]},
    }
)


def _people(emails: str, *, noisy: bool = False) -> pa.Table:
    """40 records of 20 people in 3 cities; `emails`: 'distinct' (the deterministic rule
    fires on no pair) or 'same' (on every pair)."""
    rng = random.Random(3)
    rows = []
    for person in range(20):
        name = "".join(rng.choice("abcdefghij") for _ in range(7))
        dob = f"19{rng.randint(40, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
        for copy in range(2):
            typo = name if copy == 0 else name[:-1] + "z"
            if noisy and copy:  # a spread over the name levels, for EM to estimate
                typo = rng.choice([name, name[:-1] + "z", "q" + name[1:]])
            rows.append(
                {
                    "record_id": f"r{person}-{copy}",
                    "source": "crm",
                    "name": typo,
                    "dob": dob,
                    "city": f"c{person % 3}",
                    "email": f"e{person}-{copy}" if emails == "distinct" else "same",
                }
            )
    return pa.Table.from_pylist(rows)


@pytest.mark.parametrize("emails", ["distinct", "same"])
def test_splink_alone_crashes_on_a_collapsed_prior(emails: str) -> None:
    """The known failure, reproduced: Splink's own steps leave λ at 0 (or refuse, and 1 is
    what the rules say), and predict then fails: a math domain error at 0, an infinite match
    weight in its SQL at 1."""
    backend = DuckDBAPI(duckdb.connect())
    linker = Linker(register(backend, _people(emails), "people"), settings(MATCHING))
    if emails == "same":
        with pytest.raises(ValueError, match="more observed matches"):
            linker.training.estimate_probability_two_random_records_match(
                [blocking_rule(["email"])], recall=0.7
            )
        set_prior(linker, 1.0)
    else:
        linker.training.estimate_probability_two_random_records_match(
            [blocking_rule(["email"])], recall=0.7
        )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e4, seed=1)
    with pytest.raises((ValueError, SplinkException), match=r'math domain error|"inf"'):
        linker.inference.predict()


@pytest.mark.parametrize("emails", ["distinct", "same"])
def test_training_survives_a_collapsed_prior(emails: str) -> None:
    backend = DuckDBAPI(duckdb.connect())
    records = register(backend, _people(emails), "people")
    report = TrainingReport()
    linker = train(records, MATCHING, report=report)
    assert report.prior is not None and 0 < report.prior.value < 1
    assert report.prior.source != "deterministic"
    assert report.prior.notes
    scores = score_all(linker, records, MATCHING)
    assert scores.num_rows > 0
    assert all(math.isfinite(p) for p in scores.column("match_probability").to_pylist())
    model = linker.misc.save_model_to_json(None)
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            for key in ("m_probability", "u_probability"):
                value = level.get(key)
                assert not isinstance(value, float) or 0 < value < 1
    dob = next(c for c in model["comparisons"] if c["output_column_name"] == "dob")
    exact = dob["comparison_levels"][1]
    assert exact["m_probability"] > exact["u_probability"]
    if emails == "distinct":  # 20 true pairs among 780: EM's λ, spread over all pairs
        assert report.prior.source == "em"
        assert report.prior.value == pytest.approx(20 / 780, rel=0.5)


def test_a_failing_em_session_is_reported_not_raised() -> None:
    broken = MATCHING.model_copy(
        update={
            "training": MATCHING.training.model_copy(
                update={"em_blocking_rules": [["city"], "l.no_such_column = r.no_such_column"]}
            )
        }
    )
    backend = DuckDBAPI(duckdb.connect())
    records = register(backend, _people("distinct"), "people")
    report = TrainingReport()
    train(records, broken, report=report)
    statuses = [s["status"] for s in report.em_sessions]
    assert statuses[1] == "failed" and statuses[0] in ("converged", "not_converged")
    assert any("failed" in w and "skipped" in w for w in report.warnings)


def _m_values(linker: Linker, column: str) -> list[float | None]:
    model = linker.misc.save_model_to_json(None)
    comparison = next(c for c in model["comparisons"] if c["output_column_name"] == column)
    return [lvl.get("m_probability") for lvl in comparison["comparison_levels"][1:]]


def test_an_em_session_that_does_not_converge_gives_way_to_one_that_did(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    two_rules = MATCHING.model_copy(
        update={
            "training": MATCHING.training.model_copy(
                update={"em_blocking_rules": [["dob"], ["city"]]}
            )
        }
    )
    people = _people("distinct", noisy=True)
    baseline = train(register(DuckDBAPI(duckdb.connect()), people, "people"), MATCHING)

    real = model_module._em_session

    def cut_short(linker: Linker, rule: object, report: TrainingReport, *rest: int) -> object:
        # The session on dob, first (from default m), is stopped after one iteration.
        limits = linker._settings_obj.training_settings
        limit = 1 if rule == ["dob"] else 25
        linker._settings_obj.training_settings = dataclasses.replace(limits, max_iterations=limit)
        return real(linker, rule, report, *rest)

    monkeypatch.setattr(model_module, "_em_session", cut_short)
    report = TrainingReport()
    linker = train(
        register(DuckDBAPI(duckdb.connect()), people, "people"), two_rules, report=report
    )
    assert [s["status"] for s in report.em_sessions] == ["not_converged", "converged"]
    assert any("did not converge" in w for w in report.warnings)
    # The name levels both sessions estimated keep the converged session's values alone.
    # (to EM's convergence tolerance: the converged session started elsewhere)
    assert _m_values(linker, "name") == pytest.approx(_m_values(baseline, "name"), abs=1e-3)
    assert any("dropped in favour of converged sessions" in w for w in report.warnings)


def test_a_failed_em_session_leaves_every_comparison_in_the_model() -> None:
    """Splink takes the comparisons an EM rule blocks on out of the linker's settings while
    the session runs and puts them back only when it succeeds: a session that fails halfway
    (here: the rule's second column does not exist) must not cost the model the comparison."""
    halfway = MATCHING.model_copy(
        update={
            "training": MATCHING.training.model_copy(
                update={"em_blocking_rules": ["l.dob = r.dob and l.nope = r.nope", ["city"]]}
            )
        }
    )
    backend = DuckDBAPI(duckdb.connect())
    records = register(backend, _people("distinct", noisy=True), "people")
    report = TrainingReport()
    linker = train(records, halfway, report=report)
    assert report.em_sessions[0]["status"] == "failed"
    model = linker.misc.save_model_to_json(None)
    assert [c["output_column_name"] for c in model["comparisons"]] == ["name", "dob"]
