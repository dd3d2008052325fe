"""News boilerplate that trafilatura keeps because it sits inside the article element.

Read-more teasers ("Read more: …", "Lea también: …"), related-links headings, ad labels,
photo credits, newsletter, subscription and share prompts: short lines whose wording news
sites share across outlets and languages. A line is dropped only when it is short and
its wording says what it is; body paragraphs that merely mention a newsletter are longer.
Each entry below is a wording used by many outlets, never a phrase of one site.
"""

from __future__ import annotations

import re

__all__ = ["drop_boilerplate", "is_boilerplate"]

#: Longest line that may be judged boilerplate by its wording (characters).
MAX_LINE = 220

#: "Read more: <headline>" and its translations: a link to another story inside the text.
_TEASER = (
    r"read (?:more|also)|see also|also read|related|more on this|"
    r"lea(?: también| más)?|lee también|mire|mira|vea también|ver también|"
    r"(?:le|te) puede interesar|puedes ver|leia (?:também|mais)|veja também|"
    r"leggi anche|(?:à )?lire aussi|voir aussi|lesen sie auch|auch lesen|mehr zum thema|zum weiterlesen|"
    r"czytaj (?:też|także|więcej)"
)
#: A whole line that is only a heading over related links or a label.
_HEADING = (
    r"related(?: articles| stories| posts| content| news)?|more (?:stories|news)|recommended|"
    r"(?:notas|noticias|artículos) relacionad[oa]s|contenido relacionado|te puede interesar|le puede interesar|"
    r"auch interessant|das könnte sie (?:auch )?interessieren|"
    r"weitere (?:themen|artikel|beiträge)|mehr (?:themen|zum thema)|"
    r"empfohlene (?:beiträge|artikel)|schon gelesen\??|à lire aussi|lire aussi|sur le même sujet|leia também|"
    r"czytaj też|zum weiterlesen|"
    r"(?:view|show|load) comments|keine kommentare|kommentare(?: insgesamt)?|wird geladen|loading|"
    r"beitragsbild|titelbild|"
    r"advertisement|anzeige|werbung|publicidad|publicité|reklama|sponsored|"
    r"share this(?: article| story)?|teilen(?: sie dies)? mit|share on \w+|"
    r"(?:image|photo|picture|bild|foto) (?:anzeigen|ansehen|vergrößern)"
)
#: Credits of photos, and prompts to subscribe, sign up or follow.
_PROMPT = (
    r"(?:photo|foto|image|picture|credit|crédits? photos?|titelbild|beitragsbild|bildquelle)\s*:|"
    r"(?:category|kategorie|categoría|catégorie)\s*:.{0,60}$|"
    r"(?:last (?:modified|updated)|updated|aktualisiert am|letzte änderung|release date)\s*:?[\d\s.:/,apm]{0,30}$|"
    r"\(?(?:getty images|afp|reuters|ap photo|dpa|epa|imago)\b.{0,60}$|"
    r".*\b(?:sign up for|subscribe (?:to|now)|newsletter|follow (?:us|\w+) on (?:twitter|facebook|instagram)|"
    r"abonnieren sie|jetzt abonnieren|suscríbete|abonnez-vous|"
    r"to continue reading|continue reading|pour lire la suite|to read the full story)\b"
)
_BOILERPLATE = re.compile(
    rf"^\W*(?:(?:{_TEASER})\s*[:|»>–-]\s*\S|(?:{_HEADING})\W*$|{_PROMPT})",
    re.IGNORECASE,
)


def is_boilerplate(line: str) -> bool:
    """Whether one line of extracted text is news boilerplate by its wording."""
    return len(line) <= MAX_LINE and _BOILERPLATE.match(line.strip()) is not None


def drop_boilerplate(lines: list[str]) -> list[str]:
    """The lines that are not news boilerplate."""
    return [line for line in lines if not is_boilerplate(line)]
