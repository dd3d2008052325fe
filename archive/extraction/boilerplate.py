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
    r"(?:image|photo|picture|bild|foto) (?:anzeigen|ansehen|vergrößern)|"
    r"(?:you (?:may|might) also like|recommended for you|most (?:read|popular|viewed)|trending(?: now)?|top stories)|"
    r"(?:kontakt|weitere informationen|zusatzinformationen|quellenangaben|originalpublikation)"
)
#: Credits of photos, and prompts to subscribe, sign up or follow: at the start of a line.
_PROMPT = (
    r"(?:photo|foto|image|picture|credit|crédits? photos?|titelbild|beitragsbild|bildquelle)\s*:|"
    r"(?:category|kategorie|categoría|catégorie)\s*:.{0,60}$|"
    r"(?:last (?:modified|updated)|updated|aktualisiert am|letzte änderung|release date)\s*:?[\d\s.:/,apm]{0,30}$|"
    r"\(?(?:getty images|afp|reuters|ap photo|dpa|epa|imago)\b.{0,60}$|"
    r"(?:copyright|\(c\))\b.{0,100}$|"
    r"(?:follow|folgen sie|síguenos|suivez)\b.{0,40}\b(?:on|auf|en|sur) (?:twitter|facebook|instagram|linkedin|x)\b|"
    r"sign up\b|(?:unterstütze|unterstützen sie)\s|"
    r"(?:\d+\s*)?(?:min(?:ute)?s?\.? read|lesezeit|reading time|tiempo de lectura|czas czytania)\b.{0,30}$|"
    # German headings over related links
    r"(?:lesen sie (?:auch|hier|mehr)|weitere (?:beiträge|artikel|themen|informationen)\b.*:|"
    r"das (?:thema )?könnte (?:dich|sie) auch interessieren)"
)
#: The same, anywhere in a (short) line: one search, not one scan per wording.
_INSIDE = (
    r"\b(?:sign up for|subscribe (?:to|now)|newsletter|follow us on (?:twitter|facebook|instagram)|"
    r"abonnieren sie|jetzt abonnieren|suscríbete|abonnez-vous|"
    r"to continue reading|continue reading|pour lire la suite|to read the full story)\b|"
    # copyright notes and photo credits
    r"©.{0,100}$|"
    r"\b(?:all rights reserved|alle rechte vorbehalten|todos los derechos reservados|tous droits réservés|"
    r"materiał chroniony prawem)|"
    # prompts to install the app, to join a channel, to write in, to support the outlet
    r"\bdownload (?:the|our)\b.{0,40}\bapps?\b.*\b(?:ios|android|app store|google play)\b|"
    r"\b(?:nuestro|our|unser(?:em|en)?|tenemos|join|únete)\b.{0,40}\b(?:canal|channel|kanal)\b.{0,10}"
    r"\b(?:telegram|whatsapp|youtube)\b|"
    r"\b(?:submit|send|write)\b.{0,30}\bletters? to the editor\b|"
    r"\bsign up (?:here|now|free|for free)\W*$|"
    r"\b(?:already a subscriber|support(?:ing)? (?:our|independent) (?:work|journalism))\b|"
    # disclosures: affiliate links, sponsored products, liability
    r"\baffiliate[- ]links?\b|\bcontains references to products\b|\balle angaben ohne gewähr\b|"
    # comment and embed prompts, reading time, media availability
    r"\b(?:eingeloggt sein|logged in to (?:comment|post)|must be logged in|keine kommentare)\b|"
    r"\bum den inhalt von .{0,60} zu laden|\bvideo verfügbar bis\b|\bprzeczytasz w\b"
)
_BOILERPLATE = re.compile(
    rf"^\W*(?:(?:{_TEASER})\s*[:|»>–-]\s*\S|(?:{_HEADING})\W*$|{_PROMPT})",
    re.IGNORECASE,
)
_BOILERPLATE_INSIDE = re.compile(_INSIDE)
#: One of these is in every wording of ``_INSIDE``: a substring test spares most lines its search.
_INSIDE_KEYS = (
    "sign up", "subscri", "newsletter", "follow us", "abonn", "suscr", "continue reading", "lire la suite",
    "full story", "©", "rights reserved", "rechte vorbehalten", "derechos reservados", "droits réservés",
    "chroniony", "download", "canal", "channel", "kanal", "editor", "support", "affiliate", "references to",
    "ohne gewähr", "eingeloggt", "logged in", "kommentare", "zu laden", "verfügbar bis", "przeczytasz",
)  # fmt: skip


def is_boilerplate(line: str) -> bool:
    """Whether one line of extracted text is news boilerplate by its wording."""
    if len(line) > MAX_LINE:
        return False
    line = line.strip()
    if _BOILERPLATE.match(line) is not None:
        return True
    lowered = line.lower()
    # map, not a generator: the substring tests then run without a Python step each, a third of the cost
    return any(map(lowered.__contains__, _INSIDE_KEYS)) and _BOILERPLATE_INSIDE.search(lowered) is not None


def drop_boilerplate(lines: list[str]) -> list[str]:
    """The lines that are not news boilerplate."""
    return [line for line in lines if not is_boilerplate(line)]
