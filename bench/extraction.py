"""Extraction quality and speed on the development corpus: ``python -m bench.extraction [--corpus DIR] [--runs N]``.

Runs the project's path (:func:`archive.extract.extract_article`) and plain
``trafilatura.extract(include_comments=False)``, with and without ``fast=True``, in this one
process on the labelled pages of the development corpus (``--corpus``, default
``../shared/extraction-dev`` beside the repository; the pages are never copied here).

Speed is CPU time (``time.process_time``) page by page, the sides taking turns on each page,
the order of the turns reversed from one page to the next: other work on the machine then
slows every side alike, and no side always meets a page second, when the first has warmed the
caches for it. Each side's docs/s is given as a ratio of plain trafilatura's. With ``--runs N``
the corpus is timed N times and the ratios are medians.

Precision, recall and F1 are the corpus's own ``score.py``'s (imported from ``--corpus``): its
counting sits inside its ``main``, so the bench hands it the texts already extracted, as the
function it scores, and reads back the figures it prints.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import importlib.util
import io
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType

from archive.cli.table import table

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "extraction-dev"
#: Late enough that no page's date is refused: the corpus pages were fetched at many times.
FETCHED_AT = datetime(2100, 1, 1, tzinfo=timezone.utc)
#: What the scorer prints for one extractor.
SUMMARY = re.compile(r"precision ([\d.]+)\s+recall ([\d.]+)\s+F1 ([\d.]+)")
BASELINE = "trafilatura.extract"

Extractor = Callable[[str], str | None]


def ours(html: str) -> str | None:
    from archive.extract import extract_article

    result = extract_article(html, "", FETCHED_AT)
    return result.text if result is not None else None


def plain(html: str) -> str | None:
    import trafilatura

    return trafilatura.extract(html, include_comments=False)


def plain_fast(html: str) -> str | None:
    import trafilatura

    return trafilatura.extract(html, include_comments=False, fast=True)


#: The sides, by the name the table gives them.
SIDES: dict[str, Extractor] = {
    "newsarchive extract_article": ours,
    BASELINE: plain,
    f"{BASELINE}(fast=True)": plain_fast,
}


@dataclass(frozen=True)
class Quality:
    precision: float
    recall: float
    f1: float


def load_scorer(corpus: Path) -> ModuleType:
    """The corpus's score.py, as a module."""
    path = corpus / "score.py"
    if not path.is_file():
        raise SystemExit(f"no score.py in {corpus}: give the corpus folder with --corpus")
    spec = importlib.util.spec_from_file_location("extraction_dev_score", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_pages(corpus: Path) -> list[str]:
    """The corpus's pages, decoded as its scorer decodes them."""
    expected = json.loads((corpus / "expected.json").read_text())
    return [gzip.decompress((corpus / "pages" / name).read_bytes()).decode("utf-8", "replace") for name in expected]


def timed_run(pages: list[str], sides: dict[str, Extractor], texts: dict[str, dict[str, str]]) -> dict[str, float]:
    """CPU seconds each side spent on the pages, taking turns on each page in an order reversed
    from one page to the next; each side's texts are kept in ``texts`` (by page)."""
    spent = dict.fromkeys(sides, 0.0)
    names = list(sides)
    for index, html in enumerate(pages):
        for name in names if index % 2 == 0 else reversed(names):
            start = time.process_time()
            text = sides[name](html) or ""
            spent[name] += time.process_time() - start
            texts[name][html] = text
    return spent


def quality(scorer: ModuleType, texts: dict[str, str]) -> Quality:
    """The scorer's own figures for texts already extracted (by page), read back from what it prints."""
    output = io.StringIO()
    argv, load = sys.argv, scorer.load
    sys.argv = ["score.py", "extracted:texts"]
    scorer.load = lambda spec: lambda html: texts[html]
    try:
        with contextlib.redirect_stdout(output):
            scorer.main()
    finally:
        sys.argv, scorer.load = argv, load
    match = SUMMARY.search(output.getvalue())
    if match is None:
        raise SystemExit(f"the scorer printed no figures: {output.getvalue()[:500]}")
    return Quality(*(float(value) for value in match.groups()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of score.py and the pages")
    parser.add_argument("--runs", type=int, default=1, help="times the corpus is timed; ratios are medians")
    args = parser.parse_args(argv)
    corpus = args.corpus.resolve()
    scorer = load_scorer(corpus)
    pages = load_pages(corpus)
    for extractor in SIDES.values():  # imports and first-call set-up are not timed
        extractor("<html><body><p>warm-up</p></body></html>")
    texts: dict[str, dict[str, str]] = {name: {} for name in SIDES}
    runs = []
    for run in range(args.runs):
        runs.append(timed_run(pages, SIDES, texts))
        print(f"run {run + 1}/{args.runs}: {runs[-1]}", file=sys.stderr, flush=True)
    rows = []
    for name in SIDES:
        figures = quality(scorer, texts[name])
        docs_per_s = statistics.median(len(pages) / spent[name] for spent in runs)
        ratio = statistics.median(spent[BASELINE] / spent[name] for spent in runs)
        rows.append(
            [
                name,
                f"{figures.precision:.3f}",
                f"{figures.recall:.3f}",
                f"{figures.f1:.3f}",
                f"{docs_per_s:.1f}",
                f"{ratio:.2f}",
            ]
        )
    print(table(["extractor", "precision", "recall", "F1", "CPU docs/s", f"speed vs {BASELINE}"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
