"""What discovery and article classification add to a crawl's CPU, beside hand-written seeds for the same pages.

    python -m bench.discovery [--outlets N] [--articles M] [--runs R]

Two whole crawls of the synthetic web (:mod:`bench.synthweb`), each ``scrapy
crawl news`` in a process of its own (:func:`bench.crawls.crawl_ours`: crawl,
WARC, database and extraction), taking turns over ``R`` runs, the side that
goes first alternating, so that whatever else loads the machine weighs on
both alike:

- **hand-written**: each outlet's sitemap, feed and front page, with
  ``article_patterns`` for its article URLs and ``follow_patterns`` for its
  sections and their pages: what a researcher writes for an outlet.
- **homepage only**: each outlet's name, home page and domain, nothing else. The
  spider discovers the sitemap (from robots.txt), the feed (declared by the
  home page) and the sections (its navigation), takes links and listed URLs
  by their shape, follows the sections' pagination, and decides every
  article page on its extraction (a ``decision/1`` record each).

Both sides fetch the same pages within the same section depth: discovery
finds exactly what the hand-written list names, and only reads robots.txt
once more itself (checked: the article pages counted must be the same on
both sides, else the comparison says nothing and the run fails). CPU is the
crawl process tree's (user + system, the archiver and extraction processes
included); the synthetic web runs in a process of its own, outside it.

Prints one JSON line: each side's median CPU seconds (the whole tree's, and
the crawler process's alone: the spider, where discovery and classification
run, without the archiver and extraction processes, where the decisions are
written and indexed) and pages, the median of the runs' ratios of the whole
tree's CPU (homepage only over hand-written), and whether it is within the
target: discovery and classification add at most 10 % (``TARGET``).
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path

from bench.crawls import CrawlResult, crawl_ours, serving
from bench.measure import machine, median
from bench.synthweb import SynthWeb

#: The most a crawl from home pages alone may cost, as a multiple of the hand-written crawl's CPU.
TARGET = 1.10


def handwritten_seeds(web: SynthWeb) -> str:
    """Every outlet as a researcher writes it: its listings, its article URL pattern, its sections to follow."""
    lines = []
    for outlet in web.outlet_list:
        host, sections = re.escape(outlet.host), "|".join(outlet.sections)
        lines += [
            "[[outlet]]",
            f'name = "{outlet.name}"',
            f'homepage = "{outlet.base}/"',
            f'allowed_domains = ["{outlet.host}"]',
            f'start_urls = ["{outlet.base}/"]',
            f'feeds = ["{outlet.base}/feed.xml"]',
            f'sitemaps = ["{outlet.base}/sitemap.xml"]',
            f"article_patterns = ['^http://{host}/({sections})/\\d{{4}}/\\d{{2}}/\\d{{2}}/[a-z0-9-]+-\\d+\\.html$']",
            f"follow_patterns = ['^http://{host}/({sections})/(page/\\d+/)?$']",
            "",
        ]
    return "\n".join(lines)


def homepage_seeds(web: SynthWeb) -> str:
    """Every outlet by its name and home page alone (and its domain: ``.example`` is no registered domain)."""
    return "\n".join(
        f'[[outlet]]\nname = "{o.name}"\nhomepage = "{o.base}/"\nallowed_domains = ["{o.host}"]\n'
        for o in web.outlet_list
    )


def articles_counted(result: CrawlResult, workdir: Path) -> int:
    """Article pages the crawl counted: extracted ones, less those a decision said were not articles."""
    stats = json.loads((workdir / "stats.json").read_text())
    return int(result.articles or 0) - int(stats.get("decision/not_articles", 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outlets", type=int, default=4)
    parser.add_argument("--articles", type=int, default=250, help="per outlet")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    web = SynthWeb(args.outlets, args.articles)
    sides = {"handwritten": handwritten_seeds(web), "homepage_only": homepage_seeds(web)}
    results: dict[str, list[CrawlResult]] = {side: [] for side in sides}
    with tempfile.TemporaryDirectory(prefix="bench-discovery-") as folder, serving(web, Path(folder)) as server:
        for run in range(args.runs):
            order = list(sides) if run % 2 == 0 else list(reversed(sides))
            counted = {}
            for side in order:
                workdir = Path(folder) / f"{side}-{run}"
                results[side].append(crawl_ours(server, workdir, archive_only=False, seed_toml=sides[side]))
                counted[side] = articles_counted(results[side][-1], workdir)
            if len(set(counted.values())) != 1 or counted["handwritten"] != args.outlets * args.articles:
                raise RuntimeError(f"run {run + 1}: the sides counted different articles: {counted}")
    ratios = [
        ours.measured.cpu_seconds / base.measured.cpu_seconds
        for ours, base in zip(results["homepage_only"], results["handwritten"], strict=True)
    ]
    ratio = median(ratios)
    report: dict[str, object] = {"articles": args.outlets * args.articles, "runs": args.runs}
    for side, done in results.items():
        report[f"{side}_cpu_s"] = round(median([r.measured.cpu_seconds for r in done]), 2)
        report[f"{side}_crawler_cpu_s"] = round(median([r.measured.own_cpu_seconds for r in done]), 2)
        report[f"{side}_pages"] = median([r.pages for r in done])
    report |= {
        "cpu_ratios": [round(r, 3) for r in ratios],
        "cpu_ratio": round(ratio, 3),
        "target": TARGET,
        "met": ratio <= TARGET,
        "machine": machine(),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
