"""Extraction quality and speed on the development corpus: ``python -m bench.extraction [--corpus DIR] [--runs N]``.

Runs the project's path (:func:`archive.extract.extract_article`) and plain
``trafilatura.extract(include_comments=False)``, with and without ``fast=True``, one
after the other in this one process, on the 990 labelled pages of the development
corpus, scored by the corpus's own ``score.py`` (imported from ``--corpus``, default
``../shared/extraction-dev`` beside the repository; the pages are never copied here).
Prints precision, recall, F1 and docs/s of each side, and each side's docs/s as a ratio
of plain trafilatura's. With ``--runs N`` the sides take turns N times and the figures
are medians (other work on the machine skews one run's speed).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import re
import statistics
import sys
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
SUMMARY = re.compile(r"precision ([\d.]+)\s+recall ([\d.]+)\s+F1 ([\d.]+)\s+([\d.]+) docs/s")
BASELINE = "trafilatura.extract"


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


#: The sides, by the name the table gives them, as ``module:function`` for the scorer.
SIDES = {
    "newsarchive extract_article": "bench.extraction:ours",
    BASELINE: "bench.extraction:plain",
    f"{BASELINE}(fast=True)": "bench.extraction:plain_fast",
}


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    docs_per_s: float


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


def score(scorer: ModuleType, extractor: str) -> Score:
    """One side through the scorer's own loop, read back from what it prints."""
    output = io.StringIO()
    argv = sys.argv
    sys.argv = ["score.py", extractor]
    try:
        with contextlib.redirect_stdout(output):
            scorer.main()
    finally:
        sys.argv = argv
    match = SUMMARY.search(output.getvalue())
    if match is None:
        raise SystemExit(f"the scorer printed no figures for {extractor}: {output.getvalue()[:500]}")
    return Score(*(float(value) for value in match.groups()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of score.py and the pages")
    parser.add_argument("--runs", type=int, default=1, help="turns each side takes; figures are medians")
    args = parser.parse_args(argv)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # the scorer imports the sides by module name
    scorer = load_scorer(args.corpus.resolve())
    for extractor in SIDES.values():  # imports and first-call set-up are not timed
        scorer.load(extractor)("<html><body><p>warm-up</p></body></html>")
    runs: list[dict[str, Score]] = []
    for run in range(args.runs):
        results = {}
        for name, extractor in SIDES.items():
            results[name] = score(scorer, extractor)
            print(f"run {run + 1}/{args.runs} {name}: {results[name]}", file=sys.stderr, flush=True)
        runs.append(results)
    rows = []
    for name in SIDES:
        figures = [r[name] for r in runs]
        ratio = statistics.median(r[name].docs_per_s / r[BASELINE].docs_per_s for r in runs)
        rows.append(
            [
                name,
                f"{statistics.median(f.precision for f in figures):.3f}",
                f"{statistics.median(f.recall for f in figures):.3f}",
                f"{statistics.median(f.f1 for f in figures):.3f}",
                f"{statistics.median(f.docs_per_s for f in figures):.1f}",
                f"{ratio:.2f}",
            ]
        )
    print(table(["extractor", "precision", "recall", "F1", "docs/s", f"speed vs {BASELINE}"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
