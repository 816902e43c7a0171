"""The saga page's chart of steps and compensations over time, as server-rendered SVG (no script, no CDN).

Spans come from the timeline: an attempt starts at `step_started` (or `compensation_step_started`)
and ends at the event that settled it. An attempt still open is drawn up to now. The branches of a
Parallel group are lanes of their own, labelled with the group, so they show side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

STARTS = {"step_started": "forward", "compensation_step_started": "compensation"}
# event kind -> (phase, outcome)
ENDS = {
    "step_succeeded": ("forward", "succeeded"),
    "step_failed": ("forward", "failed"),
    "step_retry_scheduled": ("forward", "failed"),
    "step_compensated": ("compensation", "compensated"),
    "compensation_failed": ("compensation", "failed"),
    "compensation_retry_scheduled": ("compensation", "failed"),
}
COLOURS = {
    ("forward", "succeeded"): "#2e7d32",
    ("forward", "failed"): "#c62828",
    ("forward", "open"): "#1565c0",
    ("compensation", "compensated"): "#ef6c00",
    ("compensation", "failed"): "#8b0000",
    ("compensation", "open"): "#8e24aa",
}
WIDTH, ROW, LABEL, TOP = 900, 22, 170, 22


@dataclass
class Span:
    step: str
    phase: str
    start: datetime
    end: datetime
    outcome: str  # succeeded, failed, compensated, open

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def spans(events, *, now: datetime | None = None) -> list[Span]:
    """Attempts of each step and compensation, oldest first. `events` in timeline order (oldest first)."""
    now = now or timezone.now()
    open_: dict[tuple[str, str], datetime] = {}
    found: list[Span] = []
    previous: datetime | None = None
    for event in events:
        if event.kind in STARTS:
            open_[(event.step, STARTS[event.kind])] = event.at
        elif event.kind in ENDS:
            phase, outcome = ENDS[event.kind]
            # A local step commits with its checkpoint and records no start: it ran since the event before.
            start = open_.pop((event.step, phase), None) or previous or event.at
            found.append(Span(event.step, phase, start, event.at, outcome))
        previous = event.at
    found += [Span(step, phase, start, now, "open") for (step, phase), start in open_.items()]
    return sorted(found, key=lambda s: s.start)


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def steps_svg(found: list[Span], *, lanes: dict[str, str] | None = None) -> SafeString:
    """`lanes`: step name -> its Parallel group's name, for the steps of a branch."""
    lanes = lanes or {}
    if not found:
        return mark_safe("")
    rows: list[tuple[str, str]] = []
    for span in found:
        if (span.step, span.phase) not in rows:
            rows.append((span.step, span.phase))
    t0 = min(s.start for s in found)
    total = max((max(s.end for s in found) - t0).total_seconds(), 0.001)
    plot = WIDTH - LABEL - 10
    height = TOP + ROW * len(rows) + 6
    parts = [
        format_html('<text x="{}" y="14" class="axis">0</text>', LABEL),
        format_html('<text x="{}" y="14" class="axis" text-anchor="end">{}</text>', WIDTH - 10, _duration(total)),
    ]
    for i, (step, phase) in enumerate(rows):
        y = TOP + i * ROW
        name = f"∥ {lanes[step]} · {step}" if step in lanes else step
        label = name if phase == "forward" else f"↶ {name} (compensation)"
        parts.append(format_html('<text x="4" y="{}" class="axis">{}</text>', y + 15, label))
        parts.append(
            format_html('<line x1="{}" x2="{}" y1="{}" y2="{}" class="grid"/>', LABEL, WIDTH - 10, y + 20, y + 20)
        )
    for span in found:
        i = rows.index((span.step, span.phase))
        x = LABEL + plot * (span.start - t0).total_seconds() / total
        w = max(plot * span.seconds / total, 2)
        parts.append(
            format_html(
                '<rect class="span span-{}" x="{}" y="{}" width="{}" height="14" fill="{}">'
                "<title>{} {}: {} ({}, from +{})</title></rect>",
                span.outcome,
                f"{x:.1f}",
                TOP + i * ROW + 3,
                f"{w:.1f}",
                COLOURS[(span.phase, span.outcome)],
                span.step,
                span.phase,
                span.outcome,
                _duration(span.seconds),
                _duration((span.start - t0).total_seconds()),
            )
        )
    body = format_html_join("", "{}", ((p,) for p in parts))
    return format_html(
        '<svg class="sagaops-chart gantt" viewBox="0 0 {} {}" role="img" aria-label="Steps over time">{}</svg>',
        WIDTH,
        height,
        body,
    )
