"""The match-weight waterfall drawn as inline SVG (no chart library, no script: the page's
content security policy allows neither inline styles nor third-party code).

Each bar floats: it starts at the running total so far and adds one step's match weight
(green pushes towards a match, red away), beginning with the prior; the last bar, from zero,
is the final match weight. Each row names its step in two lines: what is compared, and the
level that applied, in words (`matching.resolution.level_names`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stewardship.explain import Waterfall, WaterfallStep

LABEL_WIDTH = 300
BAR_AREA = 262
VALUE_WIDTH = 54
ROW = 30
TOP = 26
LINE_CHARACTERS = 46  # of the second line at 11px in LABEL_WIDTH; the tooltip has it whole


@dataclass(frozen=True)
class Bar:
    y: float
    x: float
    width: float
    kind: str  # css class: prior, up, down, final, none
    label: str  # first line: what the step is about ("Last name")
    level: str  # second line: the level in words, shortened to fit
    detail: str  # the tooltip: all of it, with the two values
    value: str
    connector_x: float | None  # where the next bar starts (the running total)


@dataclass(frozen=True)
class WaterfallChart:
    width: int
    height: int
    zero_x: float
    bars: list[Bar]
    ticks: list[tuple[float, str]]
    label_width: int = LABEL_WIDTH
    bar_area: int = BAR_AREA


def waterfall_chart(waterfall: Waterfall) -> WaterfallChart:
    spans: list[tuple[float, float]] = []
    for step in waterfall.steps:
        if step.kind == "final":
            spans.append((0.0, step.match_weight))
        else:
            spans.append((step.cumulative - step.match_weight, step.cumulative))
    low = min([0.0, *(min(s) for s in spans)])
    high = max([0.0, *(max(s) for s in spans)])
    low, high = low - 0.5, high + 0.5
    scale = BAR_AREA / (high - low)

    def x(value: float) -> float:
        return round(LABEL_WIDTH + (value - low) * scale, 1)

    bars = []
    for i, (step, (start, end)) in enumerate(zip(waterfall.steps, spans, strict=True)):
        if step.kind in ("prior", "final"):
            kind = step.kind
        elif step.match_weight > 0:
            kind = "up"
        elif step.match_weight < 0:
            kind = "down"
        else:
            kind = "none"
        left, right = sorted((x(start), x(end)))
        label, level = _lines(step, waterfall.match_probability)
        detail = f"{label}: {level}"
        if step.kind in ("comparison", "tf"):
            detail += f" — {step.value_l or '∅'} vs {step.value_r or '∅'}"
        bars.append(
            Bar(
                y=TOP + i * ROW,
                x=left,
                width=max(right - left, 1.5),
                kind=kind,
                label=label,
                level=_shortened(level),
                detail=detail,
                value=f"{step.match_weight:+.2f}",
                connector_x=x(end) if step.kind != "final" else None,
            )
        )
    ticks = []
    first = int(low) if low == int(low) else int(low) + (0 if low < 0 else 1)
    span = high - low
    step_size = 10 if span > 40 else 5 if span > 16 else 2 if span > 8 else 1
    for value in range(first - first % step_size, int(high) + 1, step_size):
        if low <= value <= high:
            ticks.append((x(value), str(value)))
    return WaterfallChart(
        width=LABEL_WIDTH + BAR_AREA + VALUE_WIDTH,
        height=TOP + len(bars) * ROW + 8,
        zero_x=x(0.0),
        bars=bars,
        ticks=ticks,
    )


def _lines(step: WaterfallStep, probability: float) -> tuple[str, str]:
    if step.kind == "tf":
        return step.label, "how often the value occurs"
    if step.kind == "prior":
        return "Prior", step.label.removeprefix("Starting point: ")
    if step.kind == "final":
        return step.name, f"{probability:.1%} match probability"
    return step.name, step.label


def _shortened(text: str) -> str:
    """The level for the chart's second line: without its measure if need be (the table
    below and the tooltip keep it), cut as a last resort."""
    if len(text) <= LINE_CHARACTERS:
        return text
    text = re.sub(r" \([^()]*\)$", "", text)
    if len(text) <= LINE_CHARACTERS:
        return text
    return text[: LINE_CHARACTERS - 1].rstrip() + "…"
