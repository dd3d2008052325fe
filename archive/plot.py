"""Coverage timelines (who published what, when, and when it changed) and attention charts (articles per day per
outlet matching a search query).

One lane per outlet; each article is a line from its first sighting to its
last, with a dot where it was first seen and a diamond at each later
version. Above, the running count of articles per outlet. Drawn with
matplotlib's object API (no pyplot, so no global backend state), to PNG or
SVG by the file's suffix; SVG keeps text as text, so outlet names and
headlines stay searchable.

The lines come from :func:`archive.queries.timeline_data`, the counts from
:func:`archive.search.results.attention`; this module only draws, so that
nothing but ``newsarchive plot`` loads matplotlib.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import matplotlib
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from archive.queries import ArticleLine

__all__ = ["FORMATS", "LINES", "plot_attention", "plot_coverage"]

FORMATS = (".png", ".svg")
#: Outlets drawn as a line of their own on an attention chart; the others are summed into one line.
LINES = 9


def plot_attention(counts: list[tuple[str, str | None, int]], path: str | os.PathLike[str], title: str) -> Path:
    """Draw articles per day per outlet (``(day, outlet, articles)`` rows; days not written YYYY-MM-DD are left
    out) to ``path``: a line for each of the busiest outlets, the rest summed, and the total."""
    path = _image_path(path)
    per_outlet: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for day, outlet, n in counts:
        try:
            per_outlet[outlet or "(no outlet)"][date.fromisoformat(day)] += n
        except (TypeError, ValueError):
            continue
    ranked = sorted(per_outlet, key=lambda name: (-sum(per_outlet[name].values()), name))
    shown = ranked if len(ranked) <= LINES + 1 else ranked[:LINES]
    series = {name: per_outlet[name] for name in shown}
    if len(shown) < len(ranked):
        others: dict[date, int] = defaultdict(int)
        for name in ranked[LINES:]:
            for day, n in per_outlet[name].items():
                others[day] += n
        series[f"{len(ranked) - LINES} other outlets"] = others
    days = sorted({day for values in series.values() for day in values})
    with matplotlib.rc_context({"svg.fonttype": "none", "font.size": 9}):
        figure = Figure(figsize=(10, 4.5), layout="constrained")
        axes = figure.subplots()
        figure.suptitle(title)
        if days:
            total = [sum(values.get(day, 0) for values in series.values()) for day in days]
            axes.plot(days, total, color="0.6", linewidth=1, label=f"all outlets ({sum(total)})")
            for i, (name, values) in enumerate(series.items()):
                axes.plot(
                    days,
                    [values.get(day, 0) for day in days],
                    color=f"C{i % 10}",
                    marker="o" if len(days) < 60 else None,
                    markersize=3,
                    label=f"{name} ({sum(values.values())})",
                )
            axes.legend(loc="upper left", fontsize="small", frameon=False)
            locator = AutoDateLocator()
            axes.xaxis.set_major_locator(locator)
            axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        else:
            axes.text(0.5, 0.5, "no articles", transform=axes.transAxes, ha="center", va="center")
        axes.set_ylabel("articles per day")
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.set_ylim(bottom=0)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=150)
    return path


def _image_path(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"cannot tell the image format of {str(path)!r}: name it *.png or *.svg")
    return path


def plot_coverage(lines: list[ArticleLine], path: str | os.PathLike[str], title: str) -> Path:
    """Draw the timeline to ``path`` (``.png`` or ``.svg``)."""
    path = _image_path(path)
    outlets = sorted({line.outlet for line in lines})
    lane = {name: i for i, name in enumerate(outlets)}
    with matplotlib.rc_context({"svg.fonttype": "none", "font.size": 9}):
        figure = Figure(figsize=(10, 2.2 + 0.45 * max(len(outlets), 1)), layout="constrained")
        counts, lanes = figure.subplots(2, 1, sharex=True, height_ratios=[1, max(len(outlets), 1) * 0.5 + 0.5])
        figure.suptitle(title)
        colours = {name: f"C{i % 10}" for i, name in enumerate(outlets)}

        by_outlet: dict[str, list[datetime]] = defaultdict(list)
        for line in lines:
            by_outlet[line.outlet].append(line.first_seen)
        for name in outlets:
            times = sorted(by_outlet[name])
            counts.step(times, range(1, len(times) + 1), where="post", color=colours[name], label=name)
        counts.set_ylabel("articles")
        counts.yaxis.get_major_locator().set_params(integer=True)
        if outlets:
            counts.legend(loc="upper left", fontsize="small", frameon=False)

        for name in outlets:
            mine = [line for line in lines if line.outlet == name]
            for index, line in enumerate(mine):
                # spread an outlet's articles over its lane so that overlapping lines stay apart
                y = lane[name] + (-0.3 + 0.6 * index / (len(mine) - 1) if len(mine) > 1 else 0.0)
                colour = colours[name]
                lanes.plot([line.first_seen, line.last_seen], [y, y], color=colour, linewidth=1.5, alpha=0.6)
                lanes.plot([line.first_seen], [y], "o", color=colour, markersize=5)
                if line.changes:
                    lanes.plot(line.changes, [y] * len(line.changes), "D", color=colour, markersize=5, fillstyle="none")
        lanes.set_yticks(range(len(outlets)), outlets)
        lanes.set_ylim(-0.6, max(len(outlets), 1) - 0.4)
        lanes.invert_yaxis()
        lanes.set_xlabel("first seen (UTC); ◇ a new version")
        locator = AutoDateLocator()
        lanes.xaxis.set_major_locator(locator)
        lanes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        if not lines:
            lanes.text(0.5, 0.5, "no articles", transform=lanes.transAxes, ha="center", va="center")
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=150)
    return path
