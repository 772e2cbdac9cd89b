"""The commented `e360.yaml` of a proposal, and the table of what was guessed.

Written line by line rather than dumped: every guess carries its comment (how sure, and why),
the matching settings say which of the defaults the mapping could not use, and the result is
loaded back with `e360.config.load_config` before it is kept, so `e360 init` never leaves a
file the pipeline refuses.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from e360.config import load_config
from e360.entities import DEFAULT_ID_PREFIX, MASTERED_ENTITIES, MasteredEntity
from e360.mappings import columns_of
from onboarding.profile import OnboardingError
from onboarding.propose import Guess, Proposal, SourceProposal

COMMENT_COLUMN = 34  # where trailing comments start, when the line leaves room


def _flow(value: Any) -> str:
    """A value as one line of YAML (flow style)."""
    if isinstance(value, bool | int | float) or value is None:
        return yaml.safe_dump(value).removesuffix("\n...\n").strip()
    text = yaml.safe_dump(
        value, default_flow_style=True, width=10**6, allow_unicode=True, sort_keys=False
    )
    return text.removesuffix("\n...\n").strip()


def _sure(guess: Guess) -> str:
    return f"{guess.confidence:.2f}: {guess.reason}"


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, indent: int, text: str, comment: str | None = None) -> None:
        line = "  " * indent + text
        if comment:
            line = f"{line.ljust(COMMENT_COLUMN)} # {comment}" if line else f"# {comment}"
        self.lines.append(line.rstrip())

    def comment(self, indent: int, text: str) -> None:
        self.lines.append("  " * indent + f"# {text}")

    def blank(self) -> None:
        self.lines.append("")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def render(proposal: Proposal, config_path: Path) -> str:
    """The configuration file's text."""
    out = _Lines()
    landing = Path(os.path.relpath(proposal.landing.resolve(), config_path.parent.resolve()))
    out.comment(0, f"Written by `e360 init` from the files under {landing.as_posix()}/.")
    out.comment(0, "Each guess says how sure it is (0-1) and why; lines saying `check` deserve")
    out.comment(0, "a look. Then: e360 run -c " + config_path.name)
    out.add(0, "project:")
    out.add(1, f"name: {_flow(proposal.landing.resolve().parent.name or 'e360')}")
    out.add(1, "root: .", "relative to this file")
    out.blank()
    out.add(0, "paths:", "relative to project.root")
    out.add(1, f"landing: {_flow(landing.as_posix())}")
    out.add(1, "lake: lake")
    out.add(1, "runs: runs")
    out.add(1, "models: models")
    out.blank()
    out.add(0, "sources:")
    for source in proposal.sources:
        _source(out, source)
    out.add(0, "entities:")
    for entity in MASTERED_ENTITIES:
        _entity(out, proposal, entity)
    return out.text()


def _source(out: _Lines, source: SourceProposal) -> None:
    family = source.family
    files = f"{len(family.files)} file{'s' * (len(family.files) > 1)}, {family.rows:,} rows"
    if family.sampled:
        files += " profiled from the start of large files"
    if family.rejected:
        files += f", {family.rejected:,} unreadable (they will be quarantined)"
    out.add(1, f"{source.name}:", files)
    assert source.entity is not None
    out.add(2, f"entity: {source.kind}", _sure(source.entity))
    out.add(2, f"format: {family.format}")
    out.add(2, f"path: {_flow(family.pattern)}")
    if family.format == "csv":
        options: dict[str, str] = {}
        notes = []
        if family.encoding:
            options["encoding"] = family.encoding
            notes.append(family.encoding_reason)
        if family.delimiter != ",":
            options["delimiter"] = family.delimiter
            notes.append(f"rows split evenly on {family.delimiter!r}")
        if options:
            out.add(2, f"csv: {_flow(options)}", "; ".join(notes))
    out.add(2, f"key: {_flow(source.key.value)}", _sure(source.key))
    required = source.mapping.get("occurred_at")
    if source.kind == "event" and required is not None:
        required_columns = _flow(columns_of(str(required.value)))
        out.add(2, f"required: {required_columns}", "an event without a time says little")
    if source.updated_at is not None:
        out.add(2, f"updated_at: {_flow(source.updated_at.value)}", _sure(source.updated_at))
    if source.dayfirst is not None:
        out.add(2, f"dayfirst: {_flow(source.dayfirst.value)}", _sure(source.dayfirst))
    if source.one_per_master is not None:
        out.add(2, "one_per_master: true", _sure(source.one_per_master))
    out.add(2, "mapping:")
    for attribute, guess in source.mapping.items():
        # the value is a mapping value already: a column (braced when its name holds a brace)
        # or a template
        out.add(3, f"{attribute}: {_flow(guess.value)}", _sure(guess))
    unmapped = [
        f"{c.name} (e.g. {', '.join(c.examples[:2])})" if c.examples else f"{c.name} (empty)"
        for c in source.unmapped
    ]
    if unmapped:
        out.comment(3, "not mapped: " + "; ".join(unmapped))
    if source.event is not None:
        event = source.event
        out.add(2, "event:")
        if event.type_column is not None:
            out.add(3, f"type_column: {_flow(event.type_column.value)}", _sure(event.type_column))
            out.add(3, f"type_map: {_flow(event.type_map)}")
            if event.unmapped_types:
                out.comment(3, f"check: not mapped to an event type: {event.unmapped_types}")
        elif event.type is not None:
            out.add(3, f"type: {event.type.value}", _sure(event.type))
        out.add(3, f"channel: {_flow(event.channel.value)}", _sure(event.channel))
        for entity in ("customer", "product"):
            guess = getattr(event, f"{entity}_source")
            if guess is not None:
                out.add(3, f"{entity}_source: {guess.value}", _sure(guess))
            several = getattr(event, f"{entity}_sources")
            if several is not None:
                out.add(
                    3, f"{entity}_sources: {_flow(several.sources.value)}", _sure(several.sources)
                )
                if several.column is not None:
                    column = several.column
                    out.add(3, f"{entity}_source_column: {_flow(column.value)}", _sure(column))
                    out.add(3, f"{entity}_source_map: {_flow(several.values)}")
                elif several.prefixes is not None:
                    prefixes = several.prefixes
                    out.add(3, f"{entity}_key_prefixes: {_flow(prefixes.value)}", _sure(prefixes))
    out.blank()


def _entity(out: _Lines, proposal: Proposal, entity: MasteredEntity) -> None:
    plan = proposal.plans[entity]
    defaults = proposal.defaults[entity]
    matching = plan.matching
    out.add(1, f"{entity}:")
    out.add(2, f"id_prefix: {defaults.id_prefix or DEFAULT_ID_PREFIX[entity]}")
    out.add(2, "matching:")
    out.comment(3, "e360's defaults (the entities of the demo configuration it ships) cut to")
    out.comment(3, "what is mapped: a rule or comparison stays when its columns can be filled.")
    for what, unused in plan.unused.items():
        out.comment(3, f"left out, nothing mapped for them: {what} {_flow(unused)}")
    out.add(3, "blocking_rules:")
    for rule in matching.blocking_rules:
        out.add(4, f"- {_flow(rule)}")
    out.add(3, "comparisons:")
    for spec in matching.comparisons:
        out.add(4, f"- {_flow(spec.model_dump(mode='json', exclude_defaults=True))}")
    training = matching.training
    out.add(3, "training:")
    out.add(4, "deterministic_rules:")
    for rule in training.deterministic_rules:
        out.add(5, f"- {_flow(rule)}")
    out.add(4, f"recall: {_flow(training.recall)}")
    out.add(4, "em_blocking_rules:")
    for rule in training.em_blocking_rules:
        out.add(5, f"- {_flow(rule)}")
    out.add(3, f"threshold: {_flow(matching.threshold)}")
    out.add(3, f"review_band: {_flow(list(matching.review_band))}")
    sources = proposal.of(entity)
    updated = all(s.updated_at is not None for s in sources)
    # The most complete source first: its values win where recency cannot tell.
    priority = [s.name for s in sorted(sources, key=lambda s: -len(s.mapping))]
    out.add(2, "survivorship:")
    out.add(
        3,
        f"default: {'most_recent' if updated else 'most_complete'}",
        "every source says when a record changed" if updated else "not every source has updated_at",
    )
    out.add(3, f"source_priority: {_flow(priority)}", "the sources mapping most attributes first")
    out.blank()


def write_config(proposal: Proposal, path: Path, *, force: bool = False) -> str:
    """Write the configuration (refusing to replace one unless forced) and load it back."""
    if path.exists() and not force:
        raise OnboardingError(f"{path}: already exists; pass --force to overwrite it")
    text = render(proposal, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.init")
    draft.write_text(text, encoding="utf-8")
    try:
        load_config(draft, environ={})
    except Exception:
        draft.unlink()
        raise
    draft.replace(path)
    return text


def summary_rows(proposal: Proposal) -> list[tuple[str, str, str, str]]:
    """(source, what, guess, how sure) for the table `e360 init` prints."""
    rows: list[tuple[str, str, str, str]] = []
    for source in proposal.sources:
        family = source.family
        assert source.entity is not None
        rows.append((source.name, "entity", source.kind, f"{source.entity.confidence:.2f}"))
        read: str = family.format
        if family.encoding or (family.format == "csv" and family.delimiter != ","):
            read += f" {family.encoding or 'utf-8'} {family.delimiter!r}"
        rows.append(("", "files", f"{family.pattern} ({read}, {family.rows:,} rows)", ""))
        rows.append(("", "key", source.key.value, f"{source.key.confidence:.2f}"))
        if source.updated_at is not None:
            rows.append(
                ("", "updated_at", source.updated_at.value, f"{source.updated_at.confidence:.2f}")
            )
        for attribute, guess in source.mapping.items():
            rows.append(("", attribute, guess.value, f"{guess.confidence:.2f}"))
        if source.event is not None:
            event = source.event
            guesses: list[tuple[str, Guess | None]] = [
                ("event type", event.type_column or event.type),
                ("customers in", event.customer_source),
                ("products in", event.product_source),
            ]
            for label, chosen in guesses:
                if chosen is not None:
                    rows.append(("", label, str(chosen.value), f"{chosen.confidence:.2f}"))
            for label, several in (
                ("customers in", event.customer_sources),
                ("products in", event.product_sources),
            ):
                if several is not None:
                    how = f"by {several.column.value}" if several.column else "by key prefix"
                    names = ", ".join(several.sources.value)
                    sure = f"{several.sources.confidence:.2f}"
                    rows.append(("", label, f"{names} ({how})", sure))
    return rows
