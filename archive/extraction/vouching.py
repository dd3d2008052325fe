"""Reconciling trafilatura's paragraphs with the ``articleBody`` the publisher states.

The publisher's own body is the best evidence of what the article is, but it is often
truncated (paywalls, teasers), stripped of subheadings, or formatted differently; and
trafilatura's heuristics see the page as rendered. So the body decides only where the
two agree that they describe the same text: when trafilatura's paragraphs cover most of
it, the paragraphs it does not contain at the edges of the text (where related links,
newsletter boxes and author bios sit) are dropped; when trafilatura found next to nothing
and the page itself shows the body, the body replaces it.

The publisher's ``description`` is evidence of the same kind for the standfirst: news pages
show their summary as the lead above the article, in a block trafilatura takes for a teaser
and drops. Shown above or inside the text trafilatura found, it is put back there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Reconciled", "key", "reconcile", "standfirst"]

#: Share of the body's characters trafilatura's paragraphs must cover to be trimmed by it.
AGREEMENT = 0.6
#: Below this share, trafilatura missed the article and the body replaces its text.
MISSED = 0.25
#: Trafilatura's text shorter than this (letters) is replaced by a body it missed; a longer one
#: is the teaser a paywalled page shows, which is what its reader sees.
FOUND_LITTLE = 500
#: A body shorter than this (characters) is a teaser, not the article.
MIN_BODY = 400
#: Beyond this length a paragraph is vouched for by its start and end, not as a whole.
LONG_LINE = 300
#: A paragraph of the body shorter than this (letters) is never put back: a label or a fragment.
MIN_RESTORED = 80
#: Letters at each end of a body paragraph looked for in trafilatura's text before it is put back.
RESTORE_PROBE = 60
#: A description shorter than this (letters) is a label or a slogan, not a standfirst.
MIN_STANDFIRST = 50
#: Letters by which the page's block showing a description may be longer than it and still be its lead.
LEAD_SLACK = 500

_NON_WORD = re.compile(r"\W+")


@dataclass(frozen=True)
class Reconciled:
    """The text to keep, and whether the publisher's body decided it."""

    lines: list[str]
    decided: bool


def key(text: str) -> str:
    """Text reduced to its letters and digits: punctuation, spacing and markup differ between
    the page and the structured data, the words do not."""
    return _NON_WORD.sub("", text.casefold())


def reconcile(lines: list[str], body: str, page_key: Callable[[], str]) -> Reconciled:
    """Trafilatura's ``lines`` trimmed, completed or replaced by the publisher's ``body``, when it decides.

    ``page_key`` gives the :func:`key` of the text the page shows (asked for only when needed:
    it costs a walk of the page): a body paragraph that does not appear on the page (another
    article's, or text the reader never sees) is never put in.
    """
    body_key = key(body)
    if len(body_key) < MIN_BODY:
        restored = _restored(lines, body, page_key)
        return Reconciled(restored, True) if restored != lines else Reconciled(lines, False)
    vouched = [_vouched(key(line), body_key) for line in lines]
    covered = sum(len(key(line)) for line, ok in zip(lines, vouched, strict=True) if ok) / len(body_key)
    if covered >= AGREEMENT:
        # the lines before the first vouched one stay: standfirsts and leads are the article's,
        # and publishers often leave them out of the body; what follows the last one is not
        last = len(vouched) - 1 - vouched[::-1].index(True)
        return Reconciled(_restored(lines[: last + 1], body, page_key), True)
    found = sum(len(key(line)) for line in lines)
    if covered < MISSED and found < FOUND_LITTLE and _shown(body_key, page_key()):
        return Reconciled(_paragraphs(body), True)
    return Reconciled(lines, False)


def _restored(lines: list[str], body: str, page_key: Callable[[], str]) -> list[str]:
    """The lines with the body's paragraphs they lack put back where the page shows them."""
    text_key = key(" ".join(lines))
    missing = [p for p in _paragraphs(body) if len(k := key(p)) >= MIN_RESTORED and _absent(k, text_key)]
    if not missing:
        return lines
    page = page_key()
    result, positions = list(lines), [_position(line, page) for line in lines]
    for paragraph in missing:
        paragraph_key = key(paragraph)
        if _vouched(paragraph_key, page):
            _insert(result, positions, paragraph, page.find(paragraph_key[:100]))
    return result


def standfirst(
    lines: list[str], description: str, page_key: Callable[[], str], block: Callable[[int, str], str | None]
) -> list[str]:
    """The lines with the standfirst the page's ``description`` announces put in where the page shows it,
    when they lack it and the page shows it above their end: a summary shown after the article (in a
    list of related stories, a footer) is another page's teaser, not this one's lead.

    The standfirst is taken as the page shows it, ``block(position, letters)`` being the text of the
    innermost block of the page showing ``letters``, found at that place of ``page_key()``: descriptions
    are often cut short ("…") or run the lead into the first paragraph. A block much longer than the
    description is not its lead but a container of more, and then the description itself is put in,
    if the page shows all of it.
    """
    description_key = key(description)
    if len(description_key) < MIN_STANDFIRST or description[:RESTORE_PROBE] in "\n".join(lines):
        return lines  # (the raw test spares most pages, whose lines hold the lead as it is, their key)
    text_key = key(" ".join(lines))
    probe = description_key[:RESTORE_PROBE]
    if probe in text_key:
        return lines
    page = page_key()
    where = page.find(probe)
    if where < 0:
        return lines
    positions = [_position(line, page) for line in lines]
    if where > max(positions):
        return lines
    lead = block(where, probe)
    if lead is None or len(key(lead)) > len(description_key) + LEAD_SLACK:
        lead = description if _vouched(description_key, page) else None
    if lead is None or not _absent(key(lead), text_key):
        return lines
    result = list(lines)
    _insert(result, positions, " ".join(lead.split()), where)
    return result


def _position(line: str, page: str) -> int:
    """Where the page shows a line (-1: not found, which does not order)."""
    return page.find(line_key[:100]) if (line_key := key(line)) else -1


def _insert(lines: list[str], positions: list[int], paragraph: str, where: int) -> None:
    """Put a paragraph the page shows at ``where`` before the first line the page shows after it."""
    index = next((i for i, at in enumerate(positions) if at > where), len(lines))
    lines.insert(index, paragraph)
    positions.insert(index, where)


def _absent(paragraph_key: str, text_key: str) -> bool:
    """Whether none of a paragraph is in the text: neither its start nor its end (a body's paragraph
    may run two of the page's together, of which trafilatura kept one)."""
    return paragraph_key[:RESTORE_PROBE] not in text_key and paragraph_key[-RESTORE_PROBE:] not in text_key


def _paragraphs(body: str) -> list[str]:
    return [p for p in (" ".join(line.split()) for line in body.splitlines()) if p]


def _vouched(line_key: str, body_key: str) -> bool:
    if not line_key:
        return False
    if len(line_key) <= LONG_LINE:
        return line_key in body_key
    return line_key[:100] in body_key and line_key[-100:] in body_key


def _shown(body_key: str, page_key: str) -> bool:
    """Whether the page shows the body: its start, middle and end are all in the page's text."""
    size = 80
    middle = len(body_key) // 2
    return all(part in page_key for part in (body_key[:size], body_key[middle : middle + size], body_key[-size:]))
