"""A small archive for search and reprint tests: the three seed articles, one of them reprinted with small
edits by two more outlets, one recrawled after an update, and a German article, ingested by the real Ingester.

``ARTICLES`` names each article by a key; tests compare what they find with
sets of keys, so the expected matches are stated against texts one can read
in ``tests/fixtureweb/seeds/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from archive.db.ingester import Ingester
from archive.db.models import Article
from archive.format import OUTLETS_FIELD, outlets_field
from archive.queries import find_article
from archive.warc import WarcWriter
from tests.archive.recording import Recording, at
from tests.fixtureweb.data import load_seeds

OUTLETS = [
    {"name": name, "homepage": f"http://www.{host}/", "allowed_domains": [host]}
    for name, host in [
        ("Common Dreams", "commondreams.example"),
        ("ThinkProgress", "thinkprogress.example"),
        ("The American Conservative", "theamericanconservative.example"),
        ("Valley Ledger", "valleyledger.example"),
        ("Harbor Times", "harbortimes.example"),
    ]
]
GERMAN = (
    "Das Gipfeltreffen zwischen Donald Trump und Kim Jong Un in Hanoi endete am Donnerstag ohne Einigung. "
    "Beide Seiten konnten sich nicht auf die Aufhebung der Sanktionen und die Abrüstung der Atomanlagen einigen. "
    "Beobachter zeigten sich enttäuscht, hoffen aber auf weitere Gespräche zwischen den beiden Staaten."
)
UPDATE = "Update: Kim's armoured train left Hanoi on Saturday."


@dataclass(frozen=True)
class Piece:
    url: str
    title: str
    text: str
    published: str
    hours: float
    author: str | None = None
    language: str = "en"


def pieces() -> dict[str, Piece]:
    """The articles by key; ``tp`` is also recrawled (see :func:`write_archive`)."""
    wire, tp, tac = load_seeds()
    body = wire.body_lines
    ledger = [line.replace("on Thursday", "on Thursday afternoon") for line in body[:5] + body[6:]]
    harbor = ["HANOI, Vietnam (Wire) — " + body[0], *body[1:14]]
    return {
        "wire": Piece("http://www.commondreams.example/news/summit", wire.title, "\n".join(body), "2019-02-28", 0,
                      "Jessica Corbett"),
        "ledger": Piece("http://www.valleyledger.example/world/summit-cut-short", wire.title, "\n".join(ledger),
                        "2019-02-28", 3),
        "harbor": Piece("http://www.harbortimes.example/2019/03/01/summit", "Summit cut short in Hanoi",
                        "\n".join(harbor), "2019-03-01", 20),
        "tp": Piece("http://www.thinkprogress.example/trump-kim-summit", tp.title, "\n".join(tp.body_lines),
                    "2019-02-28", 1),
        "tac": Piece("http://www.theamericanconservative.example/larison/hanoi", tac.title,
                     "\n".join(tac.body_lines), "2019-03-04", 2, "Daniel Larison"),
        "german": Piece("http://www.harbortimes.example/de/gipfel", "Gipfel in Hanoi ohne Einigung", GERMAN,
                        "2019-03-05", 4, language="de"),
    }  # fmt: skip


class OutletsRecording(Recording):
    """A recording whose warcinfo names the fixture's outlets."""

    def __init__(self, folder: Path) -> None:
        self.writer = WarcWriter(folder, info={"software": "test", OUTLETS_FIELD: outlets_field(OUTLETS)})
        self.records = []


def write_archive(folder: Path) -> OutletsRecording:
    """Every piece captured once; ThinkProgress's again a day later, its last paragraphs (on Otto Warmbier)
    cut and an update added: a second version."""
    rec = OutletsRecording(folder)
    for piece in pieces().values():
        capture(rec, piece)
    tp = pieces()["tp"]
    kept = tp.text.split("\n")[:18]
    capture(rec, Piece(tp.url, tp.title, "\n".join([*kept, UPDATE]), tp.published, 30))
    rec.close()
    return rec


def build(folder: Path, sessions: sessionmaker[Session]) -> dict[str, int]:
    """The archive written and ingested; the article id of each key."""
    rec = write_archive(folder)
    Ingester(sessions).ingest(rec.records)
    with sessions() as session:
        return {key: _article(session, piece.url).id for key, piece in pieces().items()}


def _article(session: Session, url: str) -> Article:
    article = find_article(session, url)
    assert article is not None
    return article


def capture(rec: Recording, piece: Piece) -> None:
    """A page and its extraction, captured at the piece's hour."""
    response = rec.page(piece.url, f"<html><h1>{piece.title}</h1>{piece.text}</html>", at(piece.hours))
    meta = {"published": piece.published, "language": piece.language}
    if piece.author:
        meta["author"] = piece.author
    rec.article(response, piece.url, piece.title, piece.text, at(piece.hours), **meta)
