"""A story's coverage timeline as inline SVG: one lane per outlet, a line per article from first to last
sighting, a dot at its first sighting and a diamond at each later version.

Drawn here rather than by matplotlib so the page needs no image request and no
inline style (the app's Content-Security-Policy allows neither script nor
``style`` attributes; SVG presentation attributes are not styles).
"""

from __future__ import annotations

from datetime import datetime

from markupsafe import Markup, escape

from archive.queries import ArticleLine

__all__ = ["timeline_svg"]

WIDTH, LANE, LEFT, RIGHT, TOP, AXIS = 900, 36, 210, 20, 10, 40
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f"]


def timeline_svg(lines: list[ArticleLine]) -> Markup:
    outlets = sorted({line.outlet for line in lines})
    height = TOP + LANE * max(len(outlets), 1) + AXIS
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="coverage timeline">'
    ]
    if not lines:
        parts.append(f'<text x="{WIDTH / 2}" y="{height / 2}" text-anchor="middle">no articles</text></svg>')
        return Markup("".join(parts))
    times = [t for line in lines for t in (line.first_seen, line.last_seen, *line.changes)]
    start, end = min(times), max(times)
    span = max((end - start).total_seconds(), 1.0)

    def x(moment: datetime) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * (moment - start).total_seconds() / span, 1)

    for lane, outlet in enumerate(outlets):
        colour = COLOURS[lane % len(COLOURS)]
        y0 = TOP + lane * LANE
        parts.append(
            f'<text x="{LEFT - 8}" y="{y0 + LANE / 2 + 4}" text-anchor="end" font-size="12">{escape(outlet)}</text>'
        )
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y0 + LANE}" y2="{y0 + LANE}" stroke="#ddd"/>')
        mine = [line for line in lines if line.outlet == outlet]
        for index, line in enumerate(mine):
            y = round(y0 + LANE * (0.5 if len(mine) == 1 else 0.2 + 0.6 * index / (len(mine) - 1)), 1)
            title = f"<title>{escape(outlet)}: first seen {line.first_seen:%Y-%m-%d %H:%M}</title>"
            x1 = x(line.first_seen)
            x2 = max(x(line.last_seen), x1 + 2)
            parts.append(
                f'<line x1="{x1}" x2="{x2}" y1="{y}" y2="{y}" stroke="{colour}" stroke-width="3" stroke-opacity="0.6"/>'
            )
            parts.append(f'<circle cx="{x(line.first_seen)}" cy="{y}" r="5" fill="{colour}">{title}</circle>')
            for change in line.changes:
                cx = x(change)
                parts.append(
                    f'<polygon points="{cx},{y - 6} {cx + 6},{y} {cx},{y + 6} {cx - 6},{y}" fill="white" '
                    f'stroke="{colour}" stroke-width="2"><title>new version {change:%Y-%m-%d %H:%M}</title></polygon>'
                )
    axis_y = TOP + LANE * len(outlets) + 16
    for moment, anchor in ((start, "start"), (end, "end")):
        parts.append(
            f'<text x="{x(moment)}" y="{axis_y}" text-anchor="{anchor}" font-size="11">'
            f"{moment:%Y-%m-%d %H:%M} UTC</text>"
        )
    parts.append(f'<text x="{LEFT}" y="{axis_y + 16}" font-size="11">● first seen  ◇ a new version</text></svg>')
    return Markup("".join(parts))
