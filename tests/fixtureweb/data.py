"""The seed documents, their line labels and expected metadata, loaded for tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["EXPECTED_PATH", "LABELS", "SEEDS_DIR", "Seed", "load_cases", "load_seeds"]

SEEDS_DIR: Path = Path(__file__).resolve().with_name("seeds")
EXPECTED_PATH: Path = SEEDS_DIR / "expected.json"

#: ``description`` is the standfirst under the headline: metadata, not scored as body.
LABELS: frozenset[str] = frozenset({"title", "byline", "description", "body", "boilerplate", "blank"})


@dataclass(frozen=True)
class Seed:
    """One saved article: its text lines, one label per line, and what a crawl of its
    page should find."""

    name: str
    lines: tuple[str, ...]
    labels: tuple[str, ...]
    url: str
    outlet: str
    sitename: str
    host: str
    title: str
    author: str | None
    date: str
    published: str
    language: str
    description: str | None

    def labelled(self, label: str) -> list[str]:
        """The lines carrying one label, in page order."""
        return [line for line, lab in zip(self.lines, self.labels, strict=True) if lab == label]

    @property
    def body_lines(self) -> list[str]:
        """The article text, paragraph by paragraph: what extraction is scored on."""
        return self.labelled("body")


def _read_expected() -> dict[str, Any]:
    """expected.json as parsed JSON."""
    with EXPECTED_PATH.open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def load_seeds() -> list[Seed]:
    """Every seed with its labels, in file-name order."""
    seeds = []
    for name, meta in sorted(_read_expected()["seeds"].items()):
        lines = tuple((SEEDS_DIR / name).read_text(encoding="utf-8").splitlines())
        labels = tuple((SEEDS_DIR / meta["labels"]).read_text(encoding="utf-8").splitlines())
        seeds.append(
            Seed(
                name=name,
                lines=lines,
                labels=labels,
                url=meta["url"],
                outlet=meta["outlet"],
                sitename=meta["sitename"],
                host=meta["host"],
                title=meta["title"],
                author=meta["author"],
                date=meta["date"],
                published=meta["published"],
                language=meta["language"],
                description=meta["description"],
            )
        )
    return seeds


def load_cases() -> list[dict[str, Any]]:
    """The odd cases (errors, redirects, slow, non-HTML, transport), as listed in expected.json."""
    cases: list[dict[str, Any]] = _read_expected()["cases"]
    return cases
