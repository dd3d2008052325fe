"""Word-level differences between two versions of an article.

Researchers read a change as words added and removed (a corrected figure, a
softened verb, a paragraph appended), not as changed lines: texts are
compared word by word with :mod:`difflib`, paragraph breaks kept as tokens
so the result can be shown with its paragraphs (:func:`paragraphs` cuts it
there, so that no markup around a run of words ever spans two paragraphs).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any

from archive.db.models import ArticleVersion

__all__ = ["Change", "VersionDiff", "WordDiff", "diff_versions", "paragraphs", "render", "word_diff", "words"]

#: A paragraph break, kept as a token of its own.
BREAK = "\n"
#: How a paragraph break that only one side has is shown (at the end of the paragraph it ends).
PILCROW = "¶"
_TOKENS = re.compile(r"\n|[^\s]+")
#: Metadata compared between versions besides headline and text.
METADATA_FIELDS = ("author", "published", "description", "license", "language", "canonical_url", "extractor_version")

_RED, _GREEN, _DIM, _RESET = "\033[31m", "\033[32m", "\033[2m", "\033[0m"


def words(text: str) -> list[str]:
    """The words of a text (whitespace-separated)."""
    return text.split()


@dataclass(frozen=True)
class Change:
    """One run of the diff: ``equal``, ``insert``, ``delete`` or ``replace``, with the tokens on each side."""

    op: str
    old: list[str]
    new: list[str]


@dataclass(frozen=True)
class WordDiff:
    changes: list[Change]
    added: int = field(init=False)
    removed: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "added", sum(_count(c.new) for c in self.changes if c.op != "equal"))
        object.__setattr__(self, "removed", sum(_count(c.old) for c in self.changes if c.op != "equal"))

    @property
    def unchanged(self) -> bool:
        return all(c.op == "equal" for c in self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "removed": self.removed,
            "changes": [{"op": c.op, "old": _join(c.old), "new": _join(c.new)} for c in self.changes],
        }


def word_diff(old: str | None, new: str | None) -> WordDiff:
    """The word-level difference from ``old`` to ``new``."""
    a, b = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return WordDiff([Change(op, a[i1:i2], b[j1:j2]) for op, i1, i2, j1, j2 in matcher.get_opcodes()])


@dataclass(frozen=True)
class VersionDiff:
    """What changed from one article version to another: headline, text, and metadata fields."""

    old_version: int
    new_version: int
    old_seen: datetime
    new_seen: datetime
    headline: WordDiff
    text: WordDiff
    metadata: dict[str, tuple[Any, Any]]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            old_seen=self.old_seen.isoformat(),
            new_seen=self.new_seen.isoformat(),
            headline=self.headline.to_dict(),
            text=self.text.to_dict(),
            metadata={name: {"old": old, "new": new} for name, (old, new) in self.metadata.items()},
        )
        return data


def diff_versions(old: ArticleVersion, new: ArticleVersion, old_number: int, new_number: int) -> VersionDiff:
    """Compare two versions of an article (numbered as in its timeline)."""
    return VersionDiff(
        old_version=old_number,
        new_version=new_number,
        old_seen=old.first_seen_at,
        new_seen=new.first_seen_at,
        headline=word_diff(old.title, new.title),
        text=word_diff(old.text, new.text),
        metadata={
            name: (getattr(old, name), getattr(new, name))
            for name in METADATA_FIELDS
            if getattr(old, name) != getattr(new, name)
        },
    )


def paragraphs(diff: WordDiff) -> list[list[tuple[str, str]]]:
    """The diff as paragraphs of runs, ``("equal" | "delete" | "insert", words)``, for display as HTML.

    Every paragraph break, of either side, starts a new paragraph, so no run crosses one and the markup
    around a run (``<ins>``, ``<del>``) nests inside its paragraph. A break only one side has (paragraphs
    joined or split) ends its paragraph with a :data:`PILCROW` in a run of its kind, so the reader still sees it.
    """
    out: list[list[tuple[str, str]]] = [[]]

    def add(op: str, tokens: list[str]) -> None:
        run: list[str] = []
        for token in tokens:
            if token != BREAK:
                run.append(token)
                continue
            if op != "equal":
                run.append(PILCROW)
            if run:
                out[-1].append((op, " ".join(run)))
                run = []
            out.append([])
        if run:
            out[-1].append((op, " ".join(run)))

    for change in diff.changes:
        if change.op == "equal":
            add("equal", change.old)
        else:
            add("delete", change.old)
            add("insert", change.new)
    return [paragraph for paragraph in out if paragraph]


def render(diff: WordDiff, color: bool = False, context: int = 12) -> str:
    """The diff as text: ``[-removed-]{+added+}`` (or red and green), unchanged runs longer than
    twice ``context`` words shortened to their ends."""
    out: list[str] = []
    last = len(diff.changes) - 1
    for index, change in enumerate(diff.changes):
        if change.op == "equal":
            out.append(_shorten(change.old, context, keep_head=index > 0, keep_tail=index < last, color=color))
            continue
        if change.old:
            out.append(f"{_RED}{_join(change.old)}{_RESET}" if color else f"[-{_join(change.old)}-]")
        if change.new:
            out.append(f"{_GREEN}{_join(change.new)}{_RESET}" if color else f"{{+{_join(change.new)}+}}")
    return " ".join(part for part in out if part).replace(" \n ", "\n").replace("\n ", "\n").replace(" \n", "\n")


def _shorten(tokens: list[str], context: int, keep_head: bool, keep_tail: bool, color: bool) -> str:
    head = tokens[:context] if keep_head else []
    tail = tokens[-context:] if keep_tail else []
    if len(tokens) <= len(head) + len(tail) + 1:
        return _join(tokens)
    gap = f"{_DIM}[…]{_RESET}" if color else "[…]"
    return " ".join(part for part in (_join(head), gap, _join(tail)) if part)


def _join(tokens: list[str]) -> str:
    return " ".join(tokens).replace(" \n ", "\n").replace("\n ", "\n").replace(" \n", "\n")


def _count(tokens: list[str]) -> int:
    return sum(1 for token in tokens if token != BREAK)
