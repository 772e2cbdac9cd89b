"""The match-weight waterfall drawn as inline SVG (no chart library, no script: the page's
content security policy allows neither inline styles nor third-party code)."""

from __future__ import annotations

from dataclasses import dataclass

from stewardship.explain import Waterfall

LABEL_WIDTH = 190
BAR_AREA = 420
VALUE_WIDTH = 70
ROW = 24
TOP = 26


@dataclass(frozen=True)
class Bar:
    y: float
    x: float
    width: float
    kind: str  # css class: prior, up, down, final, none
    label: str
    detail: str
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
        detail = ""
        if step.kind in ("comparison", "tf"):
            detail = f"{step.value_l or '∅'} vs {step.value_r or '∅'}"
        bars.append(
            Bar(
                y=TOP + i * ROW,
                x=left,
                width=max(right - left, 1.5),
                kind=kind,
                label=step.column if step.kind in ("comparison", "tf") else step.label,
                detail=f"{step.label}: {detail}" if detail else step.label,
                value=f"{step.match_weight:+.2f}",
                connector_x=x(end) if step.kind != "final" else None,
            )
        )
    ticks = []
    first = int(low) if low == int(low) else int(low) + (0 if low < 0 else 1)
    step_size = 5 if high - low > 30 else 2 if high - low > 12 else 1
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
