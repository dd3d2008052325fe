"""An article's checks as an inline SVG strip: one mark per check along its time, coloured by what it found.

Drawn server-side like :mod:`archive.web.timeline`, with presentation
attributes only (the app's Content-Security-Policy allows no script and no
``style`` attribute); each mark's ``<title>`` says when and what.
"""

from __future__ import annotations

from datetime import datetime

from markupsafe import Markup, escape

from archive.queries.checks import Check

__all__ = ["COLOURS", "check_strip"]

WIDTH, HEIGHT, LEFT, RIGHT, MIDDLE = 900, 46, 10, 10, 16
#: One colour per outcome; the page's legend uses the same ones (``.o-<outcome>`` in style.css).
COLOURS = {
    "first": "#1f77b4",
    "changed": "#d62728",
    "unchanged": "#2ca02c",
    "checked": "#7f7f7f",
    "moved": "#ff7f0e",
    "gone": "#222222",
    "error": "#9467bd",
    "failed": "#8c564b",
}


def check_strip(checks: list[Check]) -> Markup:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="checks" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="checks of the article over time">'
    ]
    if not checks:
        parts.append(f'<text x="{WIDTH / 2}" y="{MIDDLE + 4}" text-anchor="middle">no checks</text></svg>')
        return Markup("".join(parts))
    start, end = checks[0].at, checks[-1].at
    span = max((end - start).total_seconds(), 1.0)

    def x(moment: datetime) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * (moment - start).total_seconds() / span, 1)

    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{MIDDLE}" y2="{MIDDLE}" stroke="#ccc"/>')
    # the rare findings last, so that a day of "unchanged" never hides a change
    for check in sorted(checks, key=lambda c: c.outcome in ("changed", "gone", "moved", "first")):
        colour = COLOURS.get(check.outcome, "#000")
        cx = x(check.at)
        detail = f" ({check.detail})" if check.detail else ""
        version = f", version {check.version}" if check.version else ""
        title = f"<title>{check.at:%Y-%m-%d %H:%M:%S} UTC: {escape(check.outcome)}{escape(detail)}{version}</title>"
        if check.outcome == "changed":
            shape = (
                f'<polygon points="{cx},{MIDDLE - 8} {cx + 7},{MIDDLE} {cx},{MIDDLE + 8} {cx - 7},{MIDDLE}" '
                f'fill="{colour}" data-outcome="changed">'
            )
            parts.append(f"{shape}{title}</polygon>")
        else:
            parts.append(
                f'<rect x="{cx - 1.5}" y="{MIDDLE - 7}" width="3" height="14" fill="{colour}" '
                f'data-outcome="{escape(check.outcome)}">{title}</rect>'
            )
    for moment, anchor in ((start, "start"), (end, "end")):
        parts.append(
            f'<text x="{x(moment)}" y="{HEIGHT - 4}" text-anchor="{anchor}" font-size="11">'
            f"{moment:%Y-%m-%d %H:%M} UTC</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
