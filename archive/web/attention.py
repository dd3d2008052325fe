"""Attention over time as inline SVG: articles per day (per week or month over long spans), one line per outlet.

Drawn here, as :mod:`archive.web.timeline` is, so that the search page needs no
image request, script or inline style under the app's Content-Security-Policy.
The busiest outlets get a line each and the rest are summed into one, so that
a query answered by hundreds of outlets still draws a chart one can read.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from markupsafe import Markup, escape

from archive.web.timeline import COLOURS

__all__ = ["LINES", "attention_svg", "buckets"]

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM, LEGEND = 900, 220, 50, 20, 12, 36, 18
#: Outlets drawn as a line of their own; the others are summed.
LINES = 7
#: Longest span, in days, drawn day by day; then week by week up to :data:`_WEEKS_UP_TO`, then month by month.
_DAYS_UP_TO = 184
_WEEKS_UP_TO = 3 * 366


def buckets(days: list[date]) -> tuple[str, list[date]]:
    """The bucket size for a span of days (``day``, ``week`` or ``month``) and every bucket's first day, in order."""
    start, end = min(days), max(days)
    span = (end - start).days
    if span <= _DAYS_UP_TO:
        return "day", [start + timedelta(days=n) for n in range(span + 1)]
    if span <= _WEEKS_UP_TO:
        monday = start - timedelta(days=start.weekday())
        return "week", [monday + timedelta(weeks=n) for n in range((end - monday).days // 7 + 1)]
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return "month", months


def _bucket_of(day: date, size: str) -> date:
    if size == "day":
        return day
    if size == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def attention_svg(counts: list[tuple[str, str | None, int]], other: str = "other outlets") -> Markup:
    """The chart of ``(day, outlet, articles)`` rows (days written YYYY-MM-DD; others are left out)."""
    parsed: list[tuple[date, str, int]] = []
    for day, outlet, n in counts:
        try:
            parsed.append((date.fromisoformat(day), outlet or "(no outlet)", n))
        except (TypeError, ValueError):
            continue
    height = HEIGHT + LEGEND * ((min(len({o for _, o, _ in parsed}), LINES + 1) + 2) // 3)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="attention" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="articles per day per outlet">'
    )
    if not parsed:
        return Markup(f'{head}<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no articles</text></svg>')
    size, starts = buckets([d for d, _, _ in parsed])
    totals: dict[str, int] = defaultdict(int)
    for _, outlet, n in parsed:
        totals[outlet] += n
    ranked = sorted(totals, key=lambda o: (-totals[o], o))
    shown = ranked if len(ranked) <= LINES + 1 else ranked[:LINES]
    series: dict[str, dict[date, int]] = {name: defaultdict(int) for name in shown}
    if len(shown) < len(ranked):
        series[other] = defaultdict(int)
    for day, outlet, n in parsed:
        series[outlet if outlet in shown else other][_bucket_of(day, size)] += n
    peak = max(max(values.values(), default=0) for values in series.values()) or 1
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_width / max(len(starts) - 1, 1)

    def x(index: int) -> float:
        return round(LEFT + index * step, 1)

    def y(n: int) -> float:
        return round(TOP + plot_height * (1 - n / peak), 1)

    parts = [head, f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0)}" y2="{y(0)}" stroke="#999"/>']
    for value in (peak // 2, peak) if peak > 1 else (peak,):
        parts.append(f'<text x="{LEFT - 6}" y="{y(value) + 4}" text-anchor="end" font-size="11">{value}</text>')
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value)}" y2="{y(value)}" stroke="#eee"/>')
    for index, anchor in ((0, "start"), (len(starts) - 1, "end")):
        parts.append(
            f'<text x="{x(index)}" y="{HEIGHT - BOTTOM + 16}" text-anchor="{anchor}" font-size="11">'
            f"{starts[index].isoformat()}</text>"
        )
    axis = HEIGHT - BOTTOM + 16
    parts.append(f'<text x="{WIDTH / 2}" y="{axis}" text-anchor="middle" font-size="11">articles per {size}</text>')
    for number, (name, values) in enumerate(series.items()):
        colour = COLOURS[number % len(COLOURS)]
        points = " ".join(f"{x(i)},{y(values.get(start, 0))}" for i, start in enumerate(starts))
        label = f"{escape(name)}: {sum(values.values())} articles"
        parts.append(
            f'<polyline class="outlet" points="{points}" fill="none" stroke="{colour}" stroke-width="2">'
            f"<title>{label}</title></polyline>"
        )
        for i, start in enumerate(starts):
            if values.get(start) and len(starts) <= _DAYS_UP_TO:
                parts.append(
                    f'<circle cx="{x(i)}" cy="{y(values[start])}" r="2.5" fill="{colour}"><title>{escape(name)}, '
                    f"{start.isoformat()}: {values[start]}</title></circle>"
                )
        lx, ly = LEFT + (number % 3) * 280, HEIGHT + LEGEND * (number // 3)
        parts.append(f'<rect x="{lx}" y="{ly - 9}" width="12" height="4" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 18}" y="{ly - 4}" font-size="12">{label}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
