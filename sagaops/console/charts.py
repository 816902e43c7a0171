"""Server-rendered SVG charts: no JavaScript, no CDN."""

from __future__ import annotations

from datetime import datetime

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Stack order (bottom first) and colours, shared with the status badges in console.css.
SERIES = [
    ("completed", "#2e7d32"),
    ("compensated", "#ef6c00"),
    ("resolved", "#6d4c41"),
    ("stuck", "#c62828"),
    ("running", "#1565c0"),
    ("compensating", "#8e24aa"),
    ("pending", "#90a4ae"),
]

WIDTH, HEIGHT = 900, 240
LEFT, BOTTOM, TOP = 48, 28, 12


def nice_max(value: int) -> int:
    """The smallest 1/2/5 x 10^n at or above value (at least 1)."""
    if value <= 1:
        return 1
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= value:
                return step * scale
        scale *= 10


def throughput_svg(buckets: list[tuple[datetime, dict[str, int]]], *, label_format: str = "%H:%M") -> SafeString:
    """Stacked bars: sagas started per bucket, coloured by their status now."""
    if not buckets:
        return mark_safe("")
    top = nice_max(max((sum(c.values()) for _, c in buckets), default=0))
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_w / len(buckets)
    bar_w = max(slot * 0.8, 1)
    parts = []
    for frac in (0, 0.5, 1):
        y = TOP + plot_h * (1 - frac)
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" class="grid"/>'
                '<text x="{}" y="{}" class="axis" text-anchor="end">{}</text>',
                LEFT,
                WIDTH - 8,
                f"{y:.1f}",
                f"{y:.1f}",
                LEFT - 6,
                f"{y + 4:.1f}",
                f"{top * frac:g}",
            )
        )
    every = max(1, len(buckets) // 8)
    for i, (at, counts) in enumerate(buckets):
        x = LEFT + i * slot + (slot - bar_w) / 2
        y = TOP + plot_h
        for status, colour in SERIES:
            n = counts.get(status, 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} {}: {}</title></rect>',
                    f"{x:.1f}",
                    f"{y:.1f}",
                    f"{bar_w:.1f}",
                    f"{h:.1f}",
                    colour,
                    at.strftime(label_format),
                    status,
                    n,
                )
            )
        if i % every == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" class="axis" text-anchor="middle">{}</text>',
                    f"{x + bar_w / 2:.1f}",
                    HEIGHT - 8,
                    at.strftime(label_format),
                )
            )
    body = format_html_join("", "{}", ((p,) for p in parts))
    return format_html(
        '<svg class="sagaops-chart" viewBox="0 0 {} {}" role="img" aria-label="Sagas started over time">{}</svg>',
        WIDTH,
        HEIGHT,
        body,
    )


def legend() -> list[tuple[str, str]]:
    return SERIES
